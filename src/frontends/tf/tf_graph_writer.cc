#include "frontends/tf/tf_graph_writer.h"

#include "frontends/tf/tf_graphdef.h"

namespace dopt {

namespace {

Status FillNode(const TfNodeSpec& spec, dopt_tf::NodeDef* n) {
  n->set_name(spec.name);
  n->set_op(spec.op);
  for (const std::string& in : spec.inputs) n->add_input(in);
  for (const auto& [key, a] : spec.attrs) {
    dopt_tf::AttrValue& v = (*n->mutable_attr())[key];
    using K = TfAttrSpec::Kind;
    switch (a.kind) {
      case K::kInt: v.set_i(a.i); break;
      case K::kFloat: v.set_f(a.f); break;
      case K::kBool: v.set_b(a.b); break;
      case K::kString: v.set_s(a.s); break;
      case K::kInts:
        for (int64_t x : a.ints) v.mutable_list()->add_i(x);
        break;
      case K::kType: v.set_type((dopt_tf::DataType)ToTfType(a.type)); break;
      case K::kShape:
        for (int64_t d : a.ints) v.mutable_shape()->add_dim()->set_size(d);
        break;
      case K::kTensor: {
        DOPT_ASSIGN_OR_RETURN(*v.mutable_tensor(), TensorToProto(a.tensor));
        break;
      }
      case K::kFunc: v.mutable_func()->set_name(a.s); break;
      case K::kTypes:
        v.mutable_list();
        for (DType t : a.types) v.mutable_list()->add_type((dopt_tf::DataType)ToTfType(t));
        break;
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::string> WriteGraphDef(const std::vector<TfNodeSpec>& nodes, int producer,
                                    const std::vector<TfFunctionSpec>& functions) {
  dopt_tf::GraphDef gd;
  gd.mutable_versions()->set_producer(producer);
  for (const TfNodeSpec& spec : nodes) DOPT_RETURN_IF_ERROR(FillNode(spec, gd.add_node()));
  for (const TfFunctionSpec& fs : functions) {
    dopt_tf::FunctionDef* f = gd.mutable_library()->add_function();
    f->mutable_signature()->set_name(fs.name);
    for (const auto& [name, t] : fs.inputs) {
      auto* a = f->mutable_signature()->add_input_arg();
      a->set_name(name);
      a->set_type((dopt_tf::DataType)ToTfType(t));
    }
    for (const auto& [name, t] : fs.outputs) {
      auto* a = f->mutable_signature()->add_output_arg();
      a->set_name(name);
      a->set_type((dopt_tf::DataType)ToTfType(t));
    }
    for (const TfNodeSpec& spec : fs.nodes) DOPT_RETURN_IF_ERROR(FillNode(spec, f->add_node_def()));
    for (const auto& [out, t] : fs.ret) (*f->mutable_ret())[out] = t;
  }
  return SerializeGraphDef(gd);
}

TfNodeSpec TfConstNode(const std::string& name, Tensor t) {
  TfNodeSpec n{name, "Const", {}, {}};
  n.attrs.push_back({"dtype", TfAttrSpec::Type(t.dtype())});
  n.attrs.push_back({"value", TfAttrSpec::TensorOf(std::move(t))});
  return n;
}

TfNodeSpec TfPlaceholderNode(const std::string& name, std::vector<int64_t> shape, DType dtype) {
  TfNodeSpec n{name, "Placeholder", {}, {}};
  n.attrs.push_back({"dtype", TfAttrSpec::Type(dtype)});
  n.attrs.push_back({"shape", TfAttrSpec::ShapeOf(std::move(shape))});
  return n;
}

}  // namespace dopt
