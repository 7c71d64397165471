// Slice: takes [start, end) with `step` along listed axes. Opset < 10 reads starts/ends/axes
// attributes; from 10 they are inputs (starts, ends, optional axes, optional steps).
// Out-of-range starts/ends are clamped as the ONNX spec says; negative steps walk backwards.
#include <algorithm>
#include <climits>
#include <cstring>

#include "ir/graph_edit.h"
#include "ops/op_upgrade.h"
#include "ops/op_util.h"

namespace dopt {
namespace {

struct DimSlice {
  int64_t start = 0, step = 1, count = -1;  // count -1: unknown
};

struct SliceArgs {
  std::vector<int64_t> starts, ends, axes, steps;
};

// Fills `a` from attributes (opset < 10) or from the inputs; present[i] says input i exists,
// ins[i] is its value (nullptr when not known yet: then returns false, not an error).
StatusOr<bool> GetArgs(const Node& node, const std::vector<bool>& present, const std::vector<const Tensor*>& ins,
                       SliceArgs* a) {
  const int n = (int)present.size();
  if (n <= 1) {
    if (!node.HasAttr("starts") || !node.HasAttr("ends")) {
      return InvalidArgument(node.Describe() + ": needs 'starts' and 'ends' attributes or inputs");
    }
    DOPT_ASSIGN_OR_RETURN(a->starts, node.GetInts("starts"));
    DOPT_ASSIGN_OR_RETURN(a->ends, node.GetInts("ends"));
    DOPT_ASSIGN_OR_RETURN(a->axes, node.GetInts("axes"));
  } else {
    if (n < 3 || !present[1] || !present[2]) return InvalidArgument(node.Describe() + ": needs starts and ends inputs");
    for (int i = 1; i < n; ++i)
      if (present[i] && !ins[i]) return false;
    a->starts = ins[1]->ToInt64Vector();
    a->ends = ins[2]->ToInt64Vector();
    if (n > 3 && present[3]) a->axes = ins[3]->ToInt64Vector();
    if (n > 4 && present[4]) a->steps = ins[4]->ToInt64Vector();
  }
  if (a->starts.size() != a->ends.size()) {
    return InvalidArgument(node.Describe() + ": starts and ends have different lengths");
  }
  if (a->axes.empty()) {
    for (size_t i = 0; i < a->starts.size(); ++i) a->axes.push_back((int64_t)i);
  }
  if (a->steps.empty()) a->steps.assign(a->starts.size(), 1);
  if (a->axes.size() != a->starts.size() || a->steps.size() != a->starts.size()) {
    return InvalidArgument(node.Describe() + ": starts, ends, axes and steps must have the same length");
  }
  return true;
}

// Per-dim slices for `shape` (dims may be -1: that dim's count is then unknown).
StatusOr<std::vector<DimSlice>> Resolve(const Node& node, const Shape& shape, const SliceArgs& a) {
  const int rank = (int)shape.size();
  std::vector<DimSlice> ds(rank);
  for (int d = 0; d < rank; ++d) ds[d].count = shape[d];
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < a.axes.size(); ++i) {
    int64_t ax = a.axes[i];
    if (ax < -rank || ax >= rank) {
      return InvalidArgument(node.Describe() + ": axis " + std::to_string(ax) + " is out of range for rank " +
                             std::to_string(rank));
    }
    if (ax < 0) ax += rank;
    if (seen[ax]) return InvalidArgument(node.Describe() + ": axis " + std::to_string(ax) + " is repeated");
    seen[ax] = true;
    int64_t step = a.steps[i];
    if (step == 0) return InvalidArgument(node.Describe() + ": step is 0");
    DimSlice& s = ds[ax];
    s.step = step;
    const int64_t n = shape[ax];
    if (n < 0) {
      s.count = -1;
      continue;
    }
    int64_t start = a.starts[i], end = a.ends[i];
    if (start < 0) start = start < -n ? 0 : start + n;  // avoids overflow on INT64_MIN
    if (end < 0) end = end < -n ? -1 : end + n;
    if (step > 0) {
      start = std::min(std::max<int64_t>(start, 0), n);
      end = std::min(std::max<int64_t>(end, 0), n);
      s.count = end > start ? (end - start + step - 1) / step : 0;
    } else {
      start = std::min(std::max<int64_t>(start, 0), n - 1);
      end = std::min(std::max<int64_t>(end, -1), n - 1);
      s.count = start > end ? (start - end + (-step) - 1) / (-step) : 0;
    }
    s.start = start;
  }
  return ds;
}

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  const ValueInfo& x = ctx.input(0);
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, {DType::kInt32, DType::kInt64}));
  }
  if (!x.rank_known) {
    ctx.SetOutputUnknownRank(0, x.dtype);
    return Status::Ok();
  }
  std::vector<const Tensor*> ins(ctx.num_inputs(), nullptr);
  std::vector<bool> present(ctx.num_inputs(), true);
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    present[i] = ctx.has_input(i);
    if (present[i]) ins[i] = ctx.input(i).value;
  }
  SliceArgs a;
  DOPT_ASSIGN_OR_RETURN(bool known, GetArgs(node, present, ins, &a));
  if (!known) {
    ctx.SetOutput(0, x.dtype, Shape(x.shape.size(), -1));
    return Status::Ok();
  }
  DOPT_ASSIGN_OR_RETURN(std::vector<DimSlice> ds, Resolve(node, x.shape, a));
  Shape out;
  for (const DimSlice& s : ds) out.push_back(s.count);
  ctx.SetOutput(0, x.dtype, out);
  return Status::Ok();
}

// dst[k] = src[k * stride] for n elements of T, the tensors' own element type (byte pointers,
// both aligned to T by the tensors; stride in elements).
template <typename T>
void StridedCopy(uint8_t* dst, const uint8_t* src, int64_t n, int64_t stride) {
  T* d = reinterpret_cast<T*>(dst);
  const T* s = reinterpret_cast<const T*>(src);
  for (int64_t k = 0; k < n; ++k) d[k] = s[k * stride];
}

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = ctx.input(0);
  std::vector<const Tensor*> ins(ctx.num_inputs(), nullptr);
  std::vector<bool> present(ctx.num_inputs(), true);
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    present[i] = ctx.has_input(i);
    if (present[i]) ins[i] = &ctx.input(i);
  }
  SliceArgs a;
  DOPT_ASSIGN_OR_RETURN(bool known, GetArgs(node, present, ins, &a));
  if (!known) return Internal(node.Describe() + ": slice arguments missing");
  DOPT_ASSIGN_OR_RETURN(std::vector<DimSlice> ds, Resolve(node, x.shape(), a));
  const int rank = x.rank();
  Shape out(rank);
  for (int d = 0; d < rank; ++d) out[d] = ds[d].count;
  Tensor& y = ctx.OutputUninitialized(0, x.dtype(), out);  // every element is written below
  if (y.numel() == 0) return Status::Ok();
  const size_t es = DTypeSize(x.dtype());
  // Innermost dims taken whole form one contiguous block.
  int r = rank;
  int64_t block = 1;
  while (r > 0 && ds[r - 1].start == 0 && ds[r - 1].step == 1 && ds[r - 1].count == x.dim(r - 1)) {
    block *= x.dim(r - 1);
    --r;
  }
  std::vector<int64_t> in_stride(rank, 1);
  for (int d = rank - 2; d >= 0; --d) in_stride[d] = in_stride[d + 1] * x.dim(d + 1);
  const uint8_t* xp = static_cast<const uint8_t*>(x.raw());
  uint8_t* yp = static_cast<uint8_t*>(y.raw());
  if (r == 0) {
    std::memcpy(yp, xp, y.nbytes());
    return Status::Ok();
  }
  // Rows: all dims before r-1; each row copies ds[r-1].count blocks.
  const DimSlice& last = ds[r - 1];
  int64_t rows = 1;
  for (int d = 0; d < r - 1; ++d) rows *= out[d];
  const size_t block_bytes = (size_t)block * es;
  const size_t row_bytes = block_bytes * (size_t)last.count;
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      int64_t rem = row, off = 0;
      for (int d = r - 2; d >= 0; --d) {
        int64_t i = rem % out[d];
        rem /= out[d];
        off += (ds[d].start + i * ds[d].step) * in_stride[d];
      }
      off += last.start * in_stride[r - 1];
      uint8_t* dst = yp + row * row_bytes;
      if (last.step == 1) {
        std::memcpy(dst, xp + off * es, row_bytes);
      } else {
        const int64_t st = last.step * in_stride[r - 1];
        const uint8_t* src = xp + off * es;
        // One element per step (block == 1, e.g. YOLOX's Focus, x[..., ::2]): typed copies, the
        // stride in elements; a block of several elements per step: one memcpy each.
        switch (block == 1 ? es : 0) {
          case 1: StridedCopy<uint8_t>(dst, src, last.count, st); break;
          case 2: StridedCopy<uint16_t>(dst, src, last.count, st); break;
          case 4: StridedCopy<uint32_t>(dst, src, last.count, st); break;
          case 8: StridedCopy<uint64_t>(dst, src, last.count, st); break;
          default:
            for (int64_t k = 0; k < last.count; ++k)  // st < 0 walks back: a signed offset
              std::memcpy(dst + k * block_bytes, src + k * st * (int64_t)es, block_bytes);
        }
      }
    }
  };
  if (ctx.pool()) ctx.pool()->ParallelFor(rows, std::max<int64_t>(1, (1 << 16) / (int64_t)std::max<size_t>(row_bytes, 1)), body);
  else body(0, rows);
  return Status::Ok();
}

// Opset upgrade: 10 turns the starts/ends/axes attributes into int64 inputs (steps stay
// omitted: all 1); 11: negative axes allowed; 13: types.
Status Upgrade(Graph& g, int ni, int from, int to) {
  if (!OpsetCrosses(from, to, 10)) return Status::Ok();
  Node& n = g.nodes[ni];
  DOPT_RETURN_IF_ERROR(NeedUpgradeInputs(n, 1));
  n.dirty = true;
  if (!n.HasAttr("starts") || !n.HasAttr("ends"))
    return InvalidArgument(n.Describe() + ": cannot upgrade: 'starts' and 'ends' attributes are required");
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> starts, n.GetInts("starts"));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> ends, n.GetInts("ends"));
  bool has_axes = n.HasAttr("axes");
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> axes, n.GetInts("axes"));
  std::string name = n.name;
  int s = AddInt64Initializer(g, name + "_starts", starts);
  int e = AddInt64Initializer(g, name + "_ends", ends);
  int a = has_axes ? AddInt64Initializer(g, name + "_axes", axes) : -1;
  Node& m = g.nodes[ni];
  RemoveAttr(m, "starts");
  RemoveAttr(m, "ends");
  RemoveAttr(m, "axes");
  m.inputs.resize(1);
  SetUpgradeInput(m, 1, s);
  SetUpgradeInput(m, 2, e);
  SetUpgradeInput(m, 3, a);
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_Slice() {
  static const OpDef def{
      .name = "Slice",
      .min_inputs = 1,
      .max_inputs = 5,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = UpgradeBy(Upgrade).Since(1),
      .quant = SharesInputScale(),  // selects elements of input 0
  };
  return def;
}

}  // namespace dopt
