// Loop: runs `body` while the trip count M (optional int64) is not reached and cond (optional
// bool) holds. Body inputs: (iteration_num int64 scalar, cond bool scalar, N loop-carried
// values); body outputs: (cond, N carried values, K scan outputs). The node's outputs are the
// final carried values and each scan output stacked along a new first axis over the
// iterations. The body reads the enclosing graphs' values by name (outer scope). Sequence and
// optional loop values (Loop-13/16) are not supported. Runs only in the executor.
#include "common/run_limits.h"
#include "common/limits.h"
#include "ops/subgraph_util.h"

namespace dopt {
namespace {

struct Arity {
  int carried = 0;  // N
  int scans = 0;    // K
};

StatusOr<Arity> CheckBody(const Node& node, const Graph& body, int num_inputs, int num_outputs) {
  if (num_inputs < 2) {
    return InvalidArgument(node.Describe() + ": has " + std::to_string(num_inputs) +
                           " inputs; Loop takes M and cond (either may be empty) and the loop-carried values");
  }
  Arity a;
  a.carried = num_inputs - 2;
  a.scans = num_outputs - a.carried;
  if (a.scans < 0) {
    return InvalidArgument(node.Describe() + ": has " + std::to_string(a.carried) + " loop-carried inputs but only " +
                           std::to_string(num_outputs) + " outputs");
  }
  if ((int)body.inputs.size() != a.carried + 2) {
    return InvalidArgument(node.Describe() + ": the body takes " + std::to_string(body.inputs.size()) +
                           " inputs, the node gives it " + std::to_string(a.carried + 2) +
                           " (iteration number, cond and " + std::to_string(a.carried) + " loop-carried values)");
  }
  if ((int)body.outputs.size() != 1 + a.carried + a.scans) {
    return InvalidArgument(node.Describe() + ": the body has " + std::to_string(body.outputs.size()) +
                           " outputs, the node needs " + std::to_string(1 + a.carried + a.scans) + " (cond, " +
                           std::to_string(a.carried) + " loop-carried values and " + std::to_string(a.scans) +
                           " scan outputs)");
  }
  return a;
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(const Graph* body, SubgraphAttr(node, "body"));
  DOPT_ASSIGN_OR_RETURN(Arity a, CheckBody(node, *body, ctx.num_inputs(), ctx.num_outputs()));
  if (ctx.has_input(0) && ctx.input(0).dtype != DType::kUndefined && ctx.input(0).dtype != DType::kInt64)
    return InvalidArgument(node.Describe() + ": M must be int64, got " + DTypeName(ctx.input(0).dtype));
  if (ctx.has_input(1) && ctx.input(1).dtype != DType::kUndefined && ctx.input(1).dtype != DType::kBool)
    return InvalidArgument(node.Describe() + ": cond must be bool, got " + DTypeName(ctx.input(1).dtype));
  for (int i = 0; i < a.carried; ++i) {
    if (!ctx.has_input(2 + i))
      return InvalidArgument(node.Describe() + ": loop-carried input " + std::to_string(i) + " is missing");
    ValueInfo in = ctx.input(2 + i);
    ValueInfo out = InfoOfValue(body->value(body->outputs[1 + i]));
    if (out.dtype != DType::kUndefined && in.dtype != DType::kUndefined && out.dtype != in.dtype) {
      return InvalidArgument(node.Describe() + ": loop-carried value " + std::to_string(i) + " enters as " +
                             DTypeName(in.dtype) + " but the body returns " + DTypeName(out.dtype));
    }
    ValueInfo m = MergeInfos(in, out);  // its shape may change between iterations
    if (m.dtype == DType::kUndefined) m.dtype = in.dtype;
    if (m.rank_known) ctx.SetOutput(i, m.dtype, m.shape);
    else ctx.SetOutputUnknownRank(i, m.dtype);
  }
  for (int k = 0; k < a.scans; ++k) {
    ValueInfo s = InfoOfValue(body->value(body->outputs[1 + a.carried + k]));
    if (s.rank_known) {
      Shape shape = s.shape;
      shape.insert(shape.begin(), -1);  // the number of iterations
      ctx.SetOutput(a.carried + k, s.dtype, shape);
    } else {
      ctx.SetOutputUnknownRank(a.carried + k, s.dtype);
    }
  }
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(const Graph* body, SubgraphAttr(node, "body"));
  DOPT_ASSIGN_OR_RETURN(Arity a, CheckBody(node, *body, ctx.num_inputs(), ctx.num_outputs()));
  DOPT_ASSIGN_OR_RETURN(SubgraphRunner * runner, RunnerOf(ctx));
  int64_t max_trips = -1;
  if (ctx.has_input(0)) {
    const Tensor& m = ctx.input(0);
    if (m.numel() != 1 || (m.dtype() != DType::kInt64 && m.dtype() != DType::kInt32)) {
      return InvalidArgument(node.Describe() + ": M must be one int64 value, got " + DTypeName(m.dtype()) + " " +
                             ShapeToString(m.shape()));
    }
    max_trips = m.ToInt64Vector()[0];
  }
  bool cond = true;
  if (ctx.has_input(1)) {
    DOPT_ASSIGN_OR_RETURN(cond, ReadCondition(node, ctx.input(1), "cond"));
  }
  std::vector<Tensor> carried;
  for (int i = 0; i < a.carried; ++i) {
    if (!ctx.has_input(2 + i))
      return InvalidArgument(node.Describe() + ": loop-carried input " + std::to_string(i) + " is missing");
    carried.push_back(ctx.input(2 + i));
  }
  std::vector<std::vector<Tensor>> scans(a.scans);
  for (int64_t it = 0; cond && (max_trips < 0 || it < max_trips); ++it) {
    if (it >= LoopIterationLimit()) {
      return InvalidArgument(node.Describe() + ": still running after " + std::to_string(it) +
                             " iterations, dopt's limit (trip count " +
                             (max_trips < 0 ? std::string("none") : std::to_string(max_trips)) + ")");
    }
    std::vector<Tensor> ins;
    ins.reserve(2 + carried.size());
    ins.push_back(Tensor::FromInt64s({}, {it}));
    Tensor c(DType::kBool, {});
    c.data<uint8_t>()[0] = 1;
    ins.push_back(c);
    for (Tensor& t : carried) ins.push_back(std::move(t));
    auto outs = runner->Run(*body, ins);
    if (!outs.ok()) return outs.status().WithContext("body, iteration " + std::to_string(it));
    DOPT_ASSIGN_OR_RETURN(cond, ReadCondition(node, (*outs)[0], "the body's cond output"));
    carried.assign(outs->begin() + 1, outs->begin() + 1 + a.carried);
    for (int k = 0; k < a.scans; ++k) scans[k].push_back(std::move((*outs)[1 + a.carried + k]));
  }
  for (int i = 0; i < a.carried; ++i) ctx.SetOutput(i, std::move(carried[i]));
  for (int k = 0; k < a.scans; ++k) {
    if (scans[k].empty()) {  // no iteration: [0, the body's output shape]
      const Value& v = body->value(body->outputs[1 + a.carried + k]);
      if (!v.ShapeFullyKnown()) {
        return InvalidArgument(node.Describe() + ": the loop ran no iteration and the shape of scan output " +
                               std::to_string(k) + " is unknown");
      }
      Shape shape = v.shape;
      shape.insert(shape.begin(), 0);
      ctx.Output(a.carried + k, v.dtype == DType::kUndefined ? DType::kFloat32 : ComputeDType(v.dtype), shape);
      continue;
    }
    DOPT_ASSIGN_OR_RETURN(Tensor stacked, StackAlong(node, scans[k], 0, false));
    ctx.SetOutput(a.carried + k, std::move(stacked));
  }
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Loop() {
  static const OpDef def{
      .name = "Loop",
      .min_inputs = 0,  // M and cond are both optional (empty names); CheckBody wants the two slots
      .max_inputs = 1 << 16,
      .min_outputs = 1,
      .max_outputs = 1 << 16,
      .infer = Infer,
      .run = Run,
      .foldable = false,  // the body runs in the executor, which constant folding has not
      .upgrade = NoUpgradeNeeded("11: scan output shapes may vary; 13: sequences; 16: optionals; 19, 21: types "
                                 "(float8, int4); the body's own nodes are upgraded with the graph").Since(1),
      .quant = NoQuantRole(),  // its body stays float
  };
  return def;
}

}  // namespace dopt
