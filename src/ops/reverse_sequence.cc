// ReverseSequence: for each batch entry b, reverses the first sequence_lens[b] elements of x
// along time_axis; the rest are copied. batch_axis / time_axis are 0 and 1 (either way round).
// Any dtype: elements are only moved.
#include <string>

#include "ops/op_util.h"

namespace dopt {
namespace {

struct Axes {
  int batch = 1, time = 0;
};

StatusOr<Axes> GetAxes(const Node& node) {
  DOPT_ASSIGN_OR_RETURN(int64_t b, node.GetInt("batch_axis", 1));
  DOPT_ASSIGN_OR_RETURN(int64_t t, node.GetInt("time_axis", 0));
  if (!((b == 0 && t == 1) || (b == 1 && t == 0))) {
    return InvalidArgument(node.Describe() + ": batch_axis and time_axis must be 0 and 1 (either way round), got " +
                           std::to_string(b) + " and " + std::to_string(t));
  }
  return Axes{(int)b, (int)t};
}

Status Infer(InferContext& ctx) {
  DOPT_ASSIGN_OR_RETURN(Axes a, GetAxes(ctx.node()));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kInt64}));
  const ValueInfo& x = ctx.input(0);
  const ValueInfo& lens = ctx.input(1);
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  if (x.shape.size() < 2) {
    return InvalidArgument(ctx.node().Describe() + ": input must have rank >= 2, got " + ShapeToString(x.shape));
  }
  if (lens.rank_known) {
    if (lens.shape.size() != 1) {
      return InvalidArgument(ctx.node().Describe() + ": sequence_lens must be 1-D, got " + ShapeToString(lens.shape));
    }
    const int64_t nb = x.shape[a.batch];
    if (nb >= 0 && lens.shape[0] >= 0 && nb != lens.shape[0]) {
      return InvalidArgument(ctx.node().Describe() + ": sequence_lens has " + std::to_string(lens.shape[0]) +
                             " entries for batch size " + std::to_string(nb));
    }
  }
  ctx.SetOutput(0, x.dtype, x.shape);
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& lens_t = ctx.input(1);
  DOPT_ASSIGN_OR_RETURN(Axes a, GetAxes(ctx.node()));
  if (x.rank() < 2) {
    return InvalidArgument(ctx.node().Describe() + ": input must have rank >= 2, got " + ShapeToString(x.shape()));
  }
  const int64_t nb = x.dim(a.batch), nt = x.dim(a.time);
  if (lens_t.rank() != 1 || lens_t.dim(0) != nb) {
    return InvalidArgument(ctx.node().Describe() + ": sequence_lens of shape " + ShapeToString(lens_t.shape()) +
                           " for batch size " + std::to_string(nb));
  }
  std::vector<int64_t> lens = lens_t.ToInt64Vector();
  for (int64_t l : lens) {
    if (l < 0 || l > nt) {
      return InvalidArgument(ctx.node().Describe() + ": sequence length " + std::to_string(l) + " outside [0, " +
                             std::to_string(nt) + "]");
    }
  }
  int64_t inner = 1;
  for (int d = 2; d < x.rank(); ++d) inner *= x.dim(d);
  // x viewed as [d0, d1, inner]; the (batch, time) pair picks a row of `inner` elements.
  const int64_t d1 = x.dim(1);
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), x.shape());
  if (x.numel() == 0) return Status::Ok();
  bool ok = DispatchByElemSize(DTypeSize(x.dtype()), [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    const int64_t rows = x.dim(0) * d1;
    ParallelForOrInline(ctx.pool(), rows, std::max<int64_t>(1, (1 << 14) / inner), [&](int64_t s, int64_t e) {
      for (int64_t r = s; r < e; ++r) {
        const int64_t i0 = r / d1, i1 = r % d1;
        const int64_t b = a.batch == 0 ? i0 : i1, t = a.batch == 0 ? i1 : i0;
        const int64_t st = t < lens[b] ? lens[b] - 1 - t : t;
        const int64_t src = a.time == 0 ? st * d1 + i1 : i0 * d1 + st;
        std::copy(xp + src * inner, xp + (src + 1) * inner, yp + r * inner);
      }
    });
  });
  if (!ok) return InvalidArgument(ctx.node().Describe() + ": unsupported type " + DTypeName(x.dtype()));
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_ReverseSequence() {
  static const OpDef def{
      .name = "ReverseSequence",
      .min_inputs = 2,
      .max_inputs = 2,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced in 10; unchanged to 21"),
      .quant = SharesInputScale(),  // moves elements
  };
  return def;
}

}  // namespace dopt
