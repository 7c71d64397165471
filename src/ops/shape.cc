// Shape: the input's dims as a 1-D int64 tensor; opset 15 start/end pick a sub-range
// (negative values count from the end, out-of-range values are clamped).
#include <algorithm>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Range(const Node& node, int rank, int64_t* b, int64_t* e) {
  DOPT_ASSIGN_OR_RETURN(int64_t start, node.GetInt("start", 0));
  DOPT_ASSIGN_OR_RETURN(int64_t end, node.GetInt("end", rank));
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::min<int64_t>(std::max<int64_t>(start, 0), rank);
  end = std::min<int64_t>(std::max<int64_t>(end, 0), rank);
  *b = start;
  *e = std::max(start, end);
  return Status::Ok();
}

Status Infer(InferContext& ctx) {
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) {
    ctx.SetOutput(0, DType::kInt64, {-1});
    return Status::Ok();
  }
  int64_t b, e;
  DOPT_RETURN_IF_ERROR(Range(ctx.node(), (int)x.shape.size(), &b, &e));
  ctx.SetOutput(0, DType::kInt64, {e - b});
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  int64_t b, e;
  DOPT_RETURN_IF_ERROR(Range(ctx.node(), x.rank(), &b, &e));
  Tensor& y = ctx.Output(0, DType::kInt64, {e - b});
  for (int64_t i = b; i < e; ++i) y.data<int64_t>()[i - b] = x.dim((int)i);
  return Status::Ok();
}

// A known shape makes the output a constant, even when the input's values are not known:
// this is what turns Shape -> Gather -> Concat -> Reshape chains into static shapes.
Status Fold(InferContext& ctx, std::vector<Tensor>* outputs) {
  const ValueInfo& x = ctx.input(0);
  if (!x.rank_known) return Status::Ok();
  int64_t b, e;
  DOPT_RETURN_IF_ERROR(Range(ctx.node(), (int)x.shape.size(), &b, &e));
  for (int64_t i = b; i < e; ++i)
    if (x.shape[i] < 0) return Status::Ok();  // a dim in the range is only known at run time
  Tensor y(DType::kInt64, {e - b});
  for (int64_t i = b; i < e; ++i) y.data<int64_t>()[i - b] = x.shape[i];
  outputs->push_back(std::move(y));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Shape() {
  static const OpDef def{
      .name = "Shape",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .fold_from_info = Fold,
      .upgrade = NoUpgradeNeeded("13, 19, 21: types; 15: start/end (defaults: the whole shape)").Since(1),
      .quant = NoQuantRole(),  // an int64 output
  };
  return def;
}

}  // namespace dopt
