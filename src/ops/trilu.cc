// Trilu: keeps the upper (upper=1: j >= i + k) or lower (upper=0: j <= i + k) triangle of the
// last two dims of x and zeroes the rest; k is an optional int64 scalar input (default 0).
// On int8 data the kernel would write int8 0, which is real 0 only for a zero point of 0, so no
// scale sharing is declared (as Pad shares only with a zero fill, a condition not checked here).
#include <algorithm>
#include <cstring>

#include "ops/op_util.h"

namespace dopt {
namespace {

Status Infer(InferContext& ctx) {
  if (ctx.has_input(1)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
  DOPT_ASSIGN_OR_RETURN(int64_t upper, ctx.node().GetInt("upper", 1));
  (void)upper;
  const ValueInfo& x = ctx.input(0);
  if (x.rank_known && x.shape.size() < 2) return InvalidArgument(ctx.node().Describe() + ": input must have rank >= 2");
  return InferSameAsInput0(ctx);
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2) return InvalidArgument(ctx.node().Describe() + ": input must have rank >= 2");
  DOPT_ASSIGN_OR_RETURN(int64_t upper, ctx.node().GetInt("upper", 1));
  int64_t k = 0;
  if (ctx.has_input(1)) {
    if (ctx.input(1).numel() != 1) return InvalidArgument(ctx.node().Describe() + ": k must be a scalar");
    k = ctx.input(1).ToInt64Vector()[0];
  }
  Tensor& y = ctx.Output(0, x.dtype(), x.shape());
  const int64_t rows = x.dim(x.rank() - 2), cols = x.dim(x.rank() - 1);
  const int64_t mats = (rows > 0 && cols > 0) ? x.numel() / (rows * cols) : 0;
  const size_t es = DTypeSize(x.dtype());
  const uint8_t* xp = static_cast<const uint8_t*>(x.raw());
  uint8_t* yp = static_cast<uint8_t*>(y.raw());
  ParallelForOrInline(ctx.pool(), mats * rows, 256, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t i = r % rows;
      // Kept columns: [lo, hi).
      int64_t lo = upper ? i + k : 0, hi = upper ? cols : i + k + 1;
      lo = std::max<int64_t>(0, std::min(lo, cols));
      hi = std::max<int64_t>(0, std::min(hi, cols));
      if (hi > lo) std::memcpy(yp + (r * cols + lo) * es, xp + (r * cols + lo) * es, (size_t)(hi - lo) * es);
    }
  });
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Trilu() {
  static const OpDef def{
      .name = "Trilu",
      .min_inputs = 1,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 14; unchanged since"),
      .quant = NoQuantRole(),
  };
  return def;
}

}  // namespace dopt
