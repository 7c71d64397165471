// Unique: the distinct elements of flattened x (no axis) or the distinct slices of x along
// `axis`, sorted ascending (sorted = 1, the default; slices compare lexicographically) or in
// order of first occurrence (sorted = 0). Outputs: Y; indices (int64, the first occurrence of
// each in x); inverse_indices (int64, for each element/slice of x its position in Y); counts
// (int64). The number of distinct entries depends on the values: unknown (-1) unless x is
// constant, when the shape rule computes it (and the node folds).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "ops/logic_util.h"

namespace dopt {
namespace {

// The axis (normalised), or -1 for "flatten".
StatusOr<int> GetAxis(const Node& node, int rank) {
  if (!node.HasAttr("axis")) return -1;
  DOPT_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 0));
  return NormalizeAxis(node, axis, rank);
}

struct UniqueResult {
  int64_t outer = 1, n = 0, inner = 1;  // x viewed as [outer, n, inner]; slices along n
  std::vector<int64_t> first;           // per unique entry, in output order: its first slice
  std::vector<int64_t> inverse;         // per slice of x: its unique entry
  std::vector<int64_t> counts;          // per unique entry
};

StatusOr<UniqueResult> ComputeUnique(const Node& node, const Tensor& x_in, int axis) {
  const Tensor x = ToComputeDType(x_in);
  DOPT_ASSIGN_OR_RETURN(int64_t sorted, node.GetInt("sorted", 1));
  UniqueResult r;
  if (axis < 0) {
    r.n = x.numel();
  } else {
    r.n = x.dim(axis);
    for (int d = 0; d < axis; ++d) r.outer *= x.dim(d);
    for (int d = axis + 1; d < x.rank(); ++d) r.inner *= x.dim(d);
  }
  DOPT_RETURN_IF_ERROR(VisitNumericOrBoolDType(x.dtype(), [&](auto tag) -> Status {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const int64_t n = r.n, outer = r.outer, inner = r.inner;
    // Lexicographic comparison of slices a and b (outer-major, then inner).
    auto cmp = [&](int64_t a, int64_t b) -> int {
      for (int64_t o = 0; o < outer; ++o) {
        const T* pa = xp + (o * n + a) * inner;
        const T* pb = xp + (o * n + b) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          if constexpr (std::is_floating_point_v<T>) {
            // NaNs equal each other and follow every number (numpy's order), keeping the sort valid.
            const bool na = std::isnan(pa[i]), nb = std::isnan(pb[i]);
            if (na || nb) {
              if (na != nb) return na ? 1 : -1;
              continue;
            }
          }
          if (pa[i] < pb[i]) return -1;
          if (pb[i] < pa[i]) return 1;
        }
      }
      return 0;
    };
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return cmp(a, b) < 0; });
    // Groups of equal slices in sorted order; the first of each is its first occurrence.
    std::vector<int64_t> group_first, group_count;
    std::vector<int64_t> group_of(n);
    for (int64_t k = 0; k < n; ++k) {
      if (k == 0 || cmp(order[k - 1], order[k]) != 0) {
        group_first.push_back(order[k]);
        group_count.push_back(0);
      }
      group_of[order[k]] = (int64_t)group_first.size() - 1;
      ++group_count.back();
    }
    const int64_t g = (int64_t)group_first.size();
    std::vector<int64_t> pos(g);  // output position of each group
    std::iota(pos.begin(), pos.end(), 0);
    if (!sorted) {
      std::vector<int64_t> by_first(g);
      std::iota(by_first.begin(), by_first.end(), 0);
      std::sort(by_first.begin(), by_first.end(), [&](int64_t a, int64_t b) { return group_first[a] < group_first[b]; });
      for (int64_t j = 0; j < g; ++j) pos[by_first[j]] = j;
    }
    r.first.assign(g, 0);
    r.counts.assign(g, 0);
    for (int64_t j = 0; j < g; ++j) {
      r.first[pos[j]] = group_first[j];
      r.counts[pos[j]] = group_count[j];
    }
    r.inverse.resize(n);
    for (int64_t s = 0; s < n; ++s) r.inverse[s] = pos[group_of[s]];
    return Status::Ok();
  }));
  return r;
}

Status Infer(InferContext& ctx) {
  const ValueInfo& x = ctx.input(0);
  if (x.dtype == DType::kString) return InvalidArgument(ctx.node().Describe() + ": string input is not supported");
  const bool has_axis = ctx.node().HasAttr("axis");
  int64_t k = -1, n = -1;
  int axis = -1;
  if (x.rank_known) {
    DOPT_ASSIGN_OR_RETURN(axis, GetAxis(ctx.node(), (int)x.shape.size()));
    if (axis >= 0) n = x.shape[axis];
    else if (x.ShapeKnown()) n = NumElements(x.shape);
  }
  if (x.value) {
    DOPT_ASSIGN_OR_RETURN(UniqueResult r, ComputeUnique(ctx.node(), *x.value, axis));
    k = (int64_t)r.first.size();
  }
  if (!has_axis) {
    ctx.SetOutput(0, x.dtype, {k});
  } else if (x.rank_known) {
    Shape y = x.shape;
    y[axis] = k;
    ctx.SetOutput(0, x.dtype, y);
  } else {
    ctx.SetOutputUnknownRank(0, x.dtype);
  }
  if (ctx.num_outputs() > 1) ctx.SetOutput(1, DType::kInt64, {k});
  if (ctx.num_outputs() > 2) ctx.SetOutput(2, DType::kInt64, {n});
  if (ctx.num_outputs() > 3) ctx.SetOutput(3, DType::kInt64, {k});
  return Status::Ok();
}

Status Run(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  DOPT_ASSIGN_OR_RETURN(int axis, GetAxis(ctx.node(), x.rank()));
  DOPT_ASSIGN_OR_RETURN(UniqueResult r, ComputeUnique(ctx.node(), x, axis));
  const int64_t k = (int64_t)r.first.size();
  Shape ys = {k};
  if (axis >= 0) {
    ys = x.shape();
    ys[axis] = k;
  }
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), ys);
  if (y.numel() > 0) {
    bool ok = DispatchByElemSize(DTypeSize(x.dtype()), [&](auto tag) {
      using T = decltype(tag);
      const T* xp = x.data<T>();
      T* yp = y.data<T>();
      for (int64_t o = 0; o < r.outer; ++o)
        for (int64_t j = 0; j < k; ++j) {
          const T* src = xp + (o * r.n + r.first[j]) * r.inner;
          std::copy(src, src + r.inner, yp + (o * k + j) * r.inner);
        }
    });
    if (!ok) return InvalidArgument(ctx.node().Describe() + ": unsupported type " + DTypeName(x.dtype()));
  }
  auto put = [&](int i, const std::vector<int64_t>& v) {
    if (ctx.num_outputs() > i) {
      Tensor& t = ctx.OutputUninitialized(i, DType::kInt64, {(int64_t)v.size()});
      std::copy(v.begin(), v.end(), t.data<int64_t>());
    }
  };
  put(1, r.first);
  put(2, r.inverse);
  put(3, r.counts);
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Unique() {
  static const OpDef def{
      .name = "Unique",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 4,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced in 11; unchanged to 21"),
      .quant = NoQuantRole(),  // data-dependent outputs; not on a quantized path
  };
  return def;
}

}  // namespace dopt
