#include "ops/shape_inference.h"

#include "ops/op.h"

namespace dopt {

namespace {

// Merges an inferred shape with what the model declared: known dims win, conflicts are errors.
Status MergeInto(Value& v, const ValueInfo& inferred, const Node& node) {
  if (inferred.dtype != DType::kUndefined) {
    if (v.dtype != DType::kUndefined && v.dtype != inferred.dtype && v.producer >= 0 && !v.dirty) {
      return InvalidArgument(node.Describe() + ": output '" + v.name + "' is declared " + DTypeName(v.dtype) +
                             " but the op produces " + DTypeName(inferred.dtype));
    }
    v.dtype = inferred.dtype;
  }
  if (!inferred.rank_known) return Status::Ok();
  if (v.rank_known && v.shape.size() == inferred.shape.size()) {
    for (size_t i = 0; i < v.shape.size(); ++i) {
      if (inferred.shape[i] >= 0) v.shape[i] = inferred.shape[i];
    }
  } else {
    v.rank_known = true;
    v.shape = inferred.shape;
  }
  return Status::Ok();
}

// Prepares sub-graph `sub` of a node of `parent` (whose values before the node are inferred):
// its outer-scope values take the enclosing graph's dtype, shape and constant value, then it
// goes through what PrepareGraph does, recursively.
Status PrepareSubgraph(Graph& sub, const Graph& parent) {
  sub.is_subgraph = true;
  sub.info.opsets = parent.info.opsets;  // one opset per model; upgrade rules read it
  for (Value& v : sub.values)
    if (v.producer >= 0 || v.outer_scope) v.folded.reset();  // recomputed below
  DOPT_RETURN_IF_ERROR(ResolveOps(sub));
  DOPT_RETURN_IF_ERROR(sub.TopoSort());
  DOPT_RETURN_IF_ERROR(VerifyOps(sub));
  DOPT_RETURN_IF_ERROR(sub.Verify());
  for (Value& v : sub.values) {
    if (!v.outer_scope) continue;
    int id = parent.FindValue(v.name);
    if (id < 0) continue;  // ResolveOuterScope reported it at the top
    const Value& o = parent.value(id);
    v.dtype = o.dtype;
    v.rank_known = o.rank_known;
    v.shape = o.shape;
    v.dim_params = o.dim_params;
    if (const Tensor* c = o.ConstantValue()) {
      v.folded = *c;
      v.rank_known = true;
      v.shape = c->shape();
    }
  }
  return InferShapes(sub);
}

}  // namespace

Status InferShapes(Graph& graph, const ShapeInferenceOptions& options) {
  for (size_t ni = options.first_node; ni < graph.nodes.size(); ++ni) {
    Node& node = graph.nodes[ni];
    if (!node.op) return Internal(node.Describe() + ": op not resolved before shape inference");
    for (auto& kv : node.attributes) {
      if (kv.second.kind != Attribute::Kind::kGraph || !kv.second.g) continue;
      Status st = PrepareSubgraph(*kv.second.g, graph);
      if (!st.ok()) return st.WithContext(node.Describe() + ", sub-graph '" + kv.first + "'");
    }
    std::vector<ValueInfo> ins(node.inputs.size());
    bool all_const = node.implicit_inputs.empty();  // sub-graphs run only in the executor
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      int id = node.inputs[i];
      if (id < 0) continue;
      const Value& v = graph.value(id);
      ins[i].present = true;
      ins[i].dtype = v.dtype;
      ins[i].rank_known = v.rank_known;
      ins[i].shape = v.shape;
      ins[i].value = v.ConstantValue();
      if (ins[i].value) {
        ins[i].rank_known = true;
        ins[i].shape = ins[i].value->shape();
      } else {
        all_const = false;
      }
    }
    std::vector<Tensor> computed;  // constant inputs in their compute dtype
    std::vector<const Tensor*> const_inputs;
    if (all_const && node.op->foldable) {
      computed.reserve(ins.size());
      for (auto& in : ins) {
        if (!in.present) {
          const_inputs.push_back(nullptr);
          continue;
        }
        computed.push_back(ToComputeDType(*in.value));
        const_inputs.push_back(&computed.back());
      }
    }
    InferContext ctx(node, std::move(ins), (int)node.outputs.size());
    DOPT_RETURN_IF_ERROR(node.op->infer(ctx));
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      if (node.outputs[o] < 0) continue;
      DOPT_RETURN_IF_ERROR(MergeInto(graph.value(node.outputs[o]), ctx.output((int)o), node));
    }
    if (!all_const && node.op->fold_from_info) {
      std::vector<Tensor> folded;
      DOPT_RETURN_IF_ERROR(node.op->fold_from_info(ctx, &folded).WithContext(node.Describe()));
      for (size_t o = 0; o < folded.size() && o < node.outputs.size(); ++o) {
        if (node.outputs[o] < 0) continue;
        Value& v = graph.value(node.outputs[o]);
        v.folded = folded[o];
        v.rank_known = true;
        v.shape = folded[o].shape();
      }
    }
    if (all_const && node.op->foldable) {
      bool small = true;
      for (size_t o = 0; o < node.outputs.size(); ++o) {
        const ValueInfo& oi = ctx.output((int)o);
        if (!oi.ShapeKnown() || NumElements(oi.shape) > options.fold_limit) small = false;
      }
      if (small || node.op_type == "Constant") {
        KernelContext k(node, const_inputs, (int)node.outputs.size(), nullptr);
        DOPT_RETURN_IF_ERROR(node.op->run(k).WithContext(node.Describe()));
        for (size_t o = 0; o < node.outputs.size(); ++o) {
          if (node.outputs[o] < 0) continue;
          Value& v = graph.value(node.outputs[o]);
          Tensor& t = k.outputs()[o];
          v.folded = t;
          v.rank_known = true;
          v.shape = t.shape();
        }
      }
    }
  }
  return Status::Ok();
}

Status PrepareGraph(Graph& graph) {
  DOPT_RETURN_IF_ERROR(ResolveOps(graph));
  DOPT_RETURN_IF_ERROR(graph.TopoSort());
  DOPT_RETURN_IF_ERROR(VerifyOps(graph));
  DOPT_RETURN_IF_ERROR(graph.Verify());
  return InferShapes(graph);
}

}  // namespace dopt
