// NonMaxSuppression: per batch and class, greedy selection of boxes by descending score,
// dropping a box whose IoU with an already selected box of the class exceeds iou_threshold.
//   boxes [B, N, 4] float: (y1, x1, y2, x2) corners in any order (center_point_box = 0) or
//         (x_center, y_center, width, height) (center_point_box = 1);
//   scores [B, C, N] float;
//   max_output_boxes_per_class (optional, int64, one element; absent or <= 0: no box is
//         selected), iou_threshold (optional float, default 0), score_threshold (optional
//         float; when present only scores > it are candidates).
// Output int64 [num_selected, 3] of (batch, class, box), batch-major then class, each class in
// selection order: descending score, equal scores by lower box index (as ONNX's reference and
// ONNX Runtime). Each class sorts its candidates once; IoU is checked only against the boxes
// already selected (at most max_output_boxes_per_class), in float as the reference does; the
// (batch, class) pairs run in parallel, concatenated in order.
// The count depends on the values: unknown unless every input is constant (then it folds).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/op_util.h"

namespace dopt {
namespace {

struct NmsParams {
  int64_t max_per_class = 0;
  float iou_threshold = 0;
  bool has_score_threshold = false;
  float score_threshold = 0;
  int center_point_box = 0;
};

StatusOr<int> CenterPointBox(const Node& node) {
  DOPT_ASSIGN_OR_RETURN(int64_t c, node.GetInt("center_point_box", 0));
  if (c != 0 && c != 1) return InvalidArgument(node.Describe() + ": center_point_box must be 0 or 1, got " + std::to_string(c));
  return (int)c;
}

// One-element optional input `t` (nullptr or empty: absent).
StatusOr<bool> ScalarPresent(const Node& node, const Tensor* t, const char* what) {
  if (!t || t->numel() == 0) return false;
  if (t->numel() != 1) return InvalidArgument(node.Describe() + ": " + what + " must have one element, has " + std::to_string(t->numel()));
  return true;
}

StatusOr<NmsParams> ReadParams(const Node& node, const Tensor* max_out, const Tensor* iou, const Tensor* score) {
  NmsParams p;
  DOPT_ASSIGN_OR_RETURN(p.center_point_box, CenterPointBox(node));
  DOPT_ASSIGN_OR_RETURN(bool has_max, ScalarPresent(node, max_out, "max_output_boxes_per_class"));
  if (has_max) p.max_per_class = std::max<int64_t>(max_out->ToInt64Vector()[0], 0);
  DOPT_ASSIGN_OR_RETURN(bool has_iou, ScalarPresent(node, iou, "iou_threshold"));
  if (has_iou) p.iou_threshold = ToComputeDType(*iou).data<float>()[0];
  DOPT_ASSIGN_OR_RETURN(p.has_score_threshold, ScalarPresent(node, score, "score_threshold"));
  if (p.has_score_threshold) p.score_threshold = ToComputeDType(*score).data<float>()[0];
  return p;
}

Status CheckShapes(const Node& node, const Shape& boxes, const Shape& scores) {
  auto known = [](int64_t a, int64_t b) { return a >= 0 && b >= 0; };
  if (boxes.size() != 3) return InvalidArgument(node.Describe() + ": boxes must be 3-D [batches, boxes, 4], got " + ShapeToString(boxes));
  if (scores.size() != 3) return InvalidArgument(node.Describe() + ": scores must be 3-D [batches, classes, boxes], got " + ShapeToString(scores));
  if (boxes[2] >= 0 && boxes[2] != 4) return InvalidArgument(node.Describe() + ": boxes must have 4 coordinates in dim 2, got " + ShapeToString(boxes));
  if ((known(boxes[0], scores[0]) && boxes[0] != scores[0]) || (known(boxes[1], scores[2]) && boxes[1] != scores[2]))
    return InvalidArgument(node.Describe() + ": boxes " + ShapeToString(boxes) + " and scores " + ShapeToString(scores) +
                           " disagree on batches or boxes");
  return Status::Ok();
}

// A box as (min, max) corners, for the IoU test.
struct Corners {
  float y0, x0, y1, x1;
};

Corners ToCorners(const float* b, int center_point_box) {
  if (center_point_box == 0) {
    return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
  }
  const float hw = b[2] / 2, hh = b[3] / 2;
  return {b[1] - hh, b[0] - hw, b[1] + hh, b[0] + hw};
}

// ONNX's reference suppress_by_iou, in float.
bool Suppresses(const Corners& a, const Corners& b, float iou_threshold) {
  const float ix0 = std::max(a.x0, b.x0), ix1 = std::min(a.x1, b.x1);
  if (!(ix1 > ix0)) return false;
  const float iy0 = std::max(a.y0, b.y0), iy1 = std::min(a.y1, b.y1);
  if (!(iy1 > iy0)) return false;
  const float inter = (ix1 - ix0) * (iy1 - iy0);
  if (!(inter > 0)) return false;
  const float area_a = (a.x1 - a.x0) * (a.y1 - a.y0), area_b = (b.x1 - b.x0) * (b.y1 - b.y0);
  const float uni = area_a + area_b - inter;
  if (!(area_a > 0) || !(area_b > 0) || !(uni > 0)) return false;
  return inter / uni > iou_threshold;
}

// The selected (batch, class, box) triples, flattened. Each (batch, class) is independent:
// they run in parallel on `pool` (nullptr: inline) and are concatenated in order.
StatusOr<std::vector<int64_t>> Select(const Node& node, const Tensor& boxes_in, const Tensor& scores_in, const NmsParams& p,
                                      ThreadPool* pool) {
  DOPT_RETURN_IF_ERROR(CheckShapes(node, boxes_in.shape(), scores_in.shape()));
  const Tensor boxes = ToComputeDType(boxes_in), scores = ToComputeDType(scores_in);
  if (boxes.dtype() != DType::kFloat32 || scores.dtype() != DType::kFloat32)
    return InvalidArgument(node.Describe() + ": boxes and scores must be float");
  const int64_t nb = boxes.dim(0), nn = boxes.dim(1), nc = scores.dim(1);
  std::vector<int64_t> out;
  if (p.max_per_class == 0 || nn == 0) return out;
  const float* bp = boxes.data<float>();
  const float* sp = scores.data<float>();
  std::vector<Corners> corners(nb * nn);
  for (int64_t i = 0; i < nb * nn; ++i) corners[i] = ToCorners(bp + i * 4, p.center_point_box);
  std::vector<std::vector<int64_t>> kept(nb * nc);  // box indices per (batch, class)
  ParallelForOrInline(pool, nb * nc, 1, [&](int64_t t0, int64_t t1) {
    std::vector<int64_t> order;
    order.reserve(nn);
    for (int64_t t = t0; t < t1; ++t) {
      const Corners* cb = corners.data() + (t / nc) * nn;
      const float* s = sp + t * nn;
      order.clear();
      for (int64_t i = 0; i < nn; ++i)
        if (!p.has_score_threshold || s[i] > p.score_threshold) order.push_back(i);
      // Descending score, NaN last; stable, so equal scores keep the lower index first.
      std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) {
        const float u = s[i], v = s[j];
        if (std::isnan(u) || std::isnan(v)) return !std::isnan(u) && std::isnan(v);
        return u > v;
      });
      std::vector<int64_t>& sel = kept[t];
      for (int64_t i : order) {
        if ((int64_t)sel.size() >= p.max_per_class) break;
        bool keep = true;
        for (int64_t j : sel) {
          if (Suppresses(cb[i], cb[j], p.iou_threshold)) {
            keep = false;
            break;
          }
        }
        if (keep) sel.push_back(i);
      }
    }
  });
  for (int64_t t = 0; t < nb * nc; ++t)
    for (int64_t i : kept[t]) out.insert(out.end(), {t / nc, t % nc, i});
  return out;
}

const Tensor* OptionalValue(const InferContext& ctx, int i) { return ctx.has_input(i) ? ctx.input(i).value : nullptr; }

Status Infer(InferContext& ctx) {
  const Node& node = ctx.node();
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 0, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 1, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  if (ctx.has_input(2)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, 2, {DType::kInt64}));
  for (int i = 3; i < 5; ++i)
    if (ctx.has_input(i)) DOPT_RETURN_IF_ERROR(CheckInputDType(ctx, i, {DType::kFloat32, DType::kFloat16, DType::kBFloat16}));
  DOPT_RETURN_IF_ERROR(CenterPointBox(node).status());
  const ValueInfo& boxes = ctx.input(0);
  const ValueInfo& scores = ctx.input(1);
  if (boxes.rank_known && scores.rank_known) DOPT_RETURN_IF_ERROR(CheckShapes(node, boxes.shape, scores.shape));
  int64_t count = -1;
  bool all_known = boxes.value && scores.value;
  for (int i = 2; i < 5; ++i) all_known = all_known && (!ctx.has_input(i) || ctx.input(i).value);
  if (all_known) {
    DOPT_ASSIGN_OR_RETURN(NmsParams p, ReadParams(node, OptionalValue(ctx, 2), OptionalValue(ctx, 3), OptionalValue(ctx, 4)));
    DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> sel, Select(node, *boxes.value, *scores.value, p, nullptr));
    count = (int64_t)sel.size() / 3;
  }
  ctx.SetOutput(0, DType::kInt64, {count, 3});
  return Status::Ok();
}

const Tensor* OptionalInput(const KernelContext& ctx, int i) { return ctx.has_input(i) ? &ctx.input(i) : nullptr; }

Status Run(KernelContext& ctx) {
  const Node& node = ctx.node();
  DOPT_ASSIGN_OR_RETURN(NmsParams p, ReadParams(node, OptionalInput(ctx, 2), OptionalInput(ctx, 3), OptionalInput(ctx, 4)));
  DOPT_ASSIGN_OR_RETURN(std::vector<int64_t> sel, Select(node, ctx.input(0), ctx.input(1), p, ctx.pool()));
  Tensor& y = ctx.OutputUninitialized(0, DType::kInt64, {(int64_t)sel.size() / 3, 3});
  std::copy(sel.begin(), sel.end(), y.data<int64_t>());
  return Status::Ok();
}

}  // namespace

const OpDef& OpDef_NonMaxSuppression() {
  static const OpDef def{
      .name = "NonMaxSuppression",
      .min_inputs = 2,
      .max_inputs = 5,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = Infer,
      .run = Run,
      .upgrade = NoUpgradeNeeded("introduced at 10; 11 changed nothing a node can observe"),
      .quant = NoQuantRole(),  // int64 indices out; boxes and scores are compared, not computed
  };
  return def;
}

}  // namespace dopt
