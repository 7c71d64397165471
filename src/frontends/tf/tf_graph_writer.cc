#include "frontends/tf/tf_graph_writer.h"

#include "frontends/tf/tf_graphdef.h"

namespace dopt {

StatusOr<std::string> WriteGraphDef(const std::vector<TfNodeSpec>& nodes, int producer) {
  dopt_tf::GraphDef gd;
  gd.mutable_versions()->set_producer(producer);
  for (const TfNodeSpec& spec : nodes) {
    dopt_tf::NodeDef* n = gd.add_node();
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
      }
    }
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
