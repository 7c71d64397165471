#include <algorithm>
#include <cmath>
#include <random>

#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

// Brute force: repeatedly take the best remaining box (highest score, lowest index on ties),
// keep it unless it overlaps a kept box by IoU > threshold; O(N^2) per class.
std::vector<Tensor> BruteForceNms(const std::vector<Tensor>& in, int center_point_box) {
  const Tensor &boxes = in[0], &scores = in[1];
  const int64_t nb = boxes.dim(0), nn = boxes.dim(1), nc = scores.dim(1);
  const int64_t max_out = in.size() > 2 && in[2].numel() ? std::max<int64_t>(0, in[2].ToInt64Vector()[0]) : 0;
  const float iou_thr = in.size() > 3 && in[3].numel() ? in[3].data<float>()[0] : 0.f;
  const bool has_score = in.size() > 4 && in[4].numel();
  const float score_thr = has_score ? in[4].data<float>()[0] : 0.f;
  auto corners = [&](int64_t b, int64_t i) {
    const float* p = boxes.data<float>() + (b * nn + i) * 4;
    std::array<float, 4> c;  // ymin, xmin, ymax, xmax
    if (center_point_box) c = {p[1] - p[3] / 2, p[0] - p[2] / 2, p[1] + p[3] / 2, p[0] + p[2] / 2};
    else c = {std::min(p[0], p[2]), std::min(p[1], p[3]), std::max(p[0], p[2]), std::max(p[1], p[3])};
    return c;
  };
  auto iou = [&](int64_t b, int64_t i, int64_t j) -> float {
    auto a = corners(b, i), c = corners(b, j);
    const float w = std::min(a[3], c[3]) - std::max(a[1], c[1]), h = std::min(a[2], c[2]) - std::max(a[0], c[0]);
    if (w <= 0 || h <= 0) return 0.f;
    const float inter = w * h;
    const float aa = (a[3] - a[1]) * (a[2] - a[0]), ac = (c[3] - c[1]) * (c[2] - c[0]);
    if (aa <= 0 || ac <= 0 || aa + ac - inter <= 0) return 0.f;
    return inter / (aa + ac - inter);
  };
  std::vector<int64_t> out;
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t c = 0; c < nc; ++c) {
      const float* s = scores.data<float>() + (b * nc + c) * nn;
      std::vector<bool> used(nn, false);
      std::vector<int64_t> kept;
      while ((int64_t)kept.size() < max_out) {
        int64_t best = -1;
        for (int64_t i = 0; i < nn; ++i) {
          if (used[i] || (has_score && !(s[i] > score_thr))) continue;
          if (best < 0 || s[i] > s[best]) best = i;
        }
        if (best < 0) break;
        used[best] = true;
        bool ok = true;
        for (int64_t k : kept) ok = ok && !(iou(b, best, k) > iou_thr);
        if (!ok) continue;
        kept.push_back(best);
        out.insert(out.end(), {b, c, best});
      }
    }
  return {Tensor::FromInt64s({(int64_t)out.size() / 3, 3}, out)};
}

Tensor Boxes() {
  return Tensor::FromFloats({1, 6, 4}, {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, -0.1f, 1, 0.9f, 0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100, 1, 101});
}
Tensor Scores() { return Tensor::FromFloats({1, 1, 6}, {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f}); }
Tensor I64(int64_t v) { return Tensor::FromInt64s({1}, {v}); }
Tensor F1(float v) { return Tensor::FromFloats({1}, {v}); }

// ONNX's test_nonmaxsuppression_suppress_by_IOU_and_scores and friends.
TEST(NonMaxSuppressionOp, OnnxExamples) {
  EXPECT_TRUE(CheckOp(OpCase("NonMaxSuppression").Inputs({Boxes(), Scores(), I64(3), F1(0.5f), F1(0.4f)})
                          .Expect(Tensor::FromInt64s({2, 3}, {0, 0, 3, 0, 0, 0}))));
  EXPECT_TRUE(CheckOp(OpCase("NonMaxSuppression").Inputs({Boxes(), Scores(), I64(3), F1(0.5f), F1(0.f)})
                          .Expect(Tensor::FromInt64s({3, 3}, {0, 0, 3, 0, 0, 0, 0, 0, 5}))));
  // No max_output_boxes_per_class: nothing is selected.
  EXPECT_TRUE(CheckOp(OpCase("NonMaxSuppression").Inputs({Boxes(), Scores()}).Expect(Tensor::FromInt64s({0, 3}, {}))));
  // Only the iou threshold given (score threshold omitted), opset 10.
  EXPECT_TRUE(CheckOp(OpCase("NonMaxSuppression", 10).Inputs({Boxes(), Scores(), I64(2), F1(0.5f)})
                          .Expect(Tensor::FromInt64s({2, 3}, {0, 0, 3, 0, 0, 0}))));
  // Identical scores: the lower index first; identical boxes: one survives.
  Tensor same_boxes = Tensor::FromFloats({1, 4, 4}, std::vector<float>(16, 0.f));
  for (int i = 0; i < 4; ++i) {
    same_boxes.data<float>()[i * 4 + 2] = 1;
    same_boxes.data<float>()[i * 4 + 3] = 1;
  }
  EXPECT_TRUE(CheckOp(OpCase("NonMaxSuppression").Inputs({same_boxes, Tensor::FromFloats({1, 1, 4}, {0.5f, 0.9f, 0.9f, 0.1f}), I64(10), F1(0.5f)})
                          .Expect(Tensor::FromInt64s({1, 3}, {0, 0, 1}))));
}

// Random boxes, several batches and classes, both box formats, against the brute force.
TEST(NonMaxSuppressionOp, RandomSweepMatchesBruteForce) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (int center : {0, 1})
    for (int64_t n : {1, 5, 33, 200})
      for (int64_t max_out : {1, 3, 1000})
        for (float iou : {0.f, 0.3f, 0.7f}) {
          const int64_t nb = 2, nc = 3;
          std::vector<float> bv, sv;
          for (int64_t i = 0; i < nb * n; ++i) {
            const float a = u(rng) * 10, b = u(rng) * 10, w = u(rng) * 3, h = u(rng) * 3;
            if (center) bv.insert(bv.end(), {a, b, w, h});
            else if (i % 2) bv.insert(bv.end(), {a + h, b + w, a, b});  // flipped corners
            else bv.insert(bv.end(), {a, b, a + h, b + w});
          }
          // Quantized scores, so ties occur.
          for (int64_t i = 0; i < nb * nc * n; ++i) sv.push_back(std::round(u(rng) * 20) / 20);
          Tensor boxes = Tensor::FromFloats({nb, n, 4}, bv), scores = Tensor::FromFloats({nb, nc, n}, sv);
          for (bool with_score : {false, true}) {
            OpCase c("NonMaxSuppression");
            c.Attr("center_point_box", IntAttr(center)).Inputs({boxes, scores, I64(max_out), F1(iou)});
            if (with_score) c.Input(F1(0.4f));
            c.Reference([center](const std::vector<Tensor>& in) { return BruteForceNms(in, center); }, Tol::Exact())
                .Label("center=" + std::to_string(center) + " n=" + std::to_string(n) + " max=" + std::to_string(max_out) +
                       " iou=" + std::to_string(iou) + (with_score ? " score" : ""));
            EXPECT_TRUE(CheckOp(c));
          }
        }
}

// A detector-sized case (8000 boxes, 80 classes) stays fast: one sort per class.
TEST(NonMaxSuppressionOp, LargeInputIsFast) {
  const int64_t n = 8000, nc = 80;
  Tensor boxes = Random({1, n, 4}, 3, 0.f, 100.f), scores = Random({1, nc, n}, 4, 0.f, 1.f);
  auto out = RunOp(OpCase("NonMaxSuppression").Inputs({boxes, scores, I64(100), F1(0.5f), F1(0.05f)}));
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dim(1), 3);
  EXPECT_LE((*out)[0].dim(0), 100 * nc);
}

TEST(NonMaxSuppressionOp, ShapeRuleAndErrors) {
  auto inf = InferOp(OpCase("NonMaxSuppression"), {Info(DType::kFloat32, {-1, 10, 4}), Info(DType::kFloat32, {-1, 3, 10}),
                                                   Info(DType::kInt64, {1})});
  ASSERT_TRUE(inf.ok()) << inf.status().message();
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 3}));
  EXPECT_EQ((*inf)[0].dtype, DType::kInt64);
  // boxes and scores disagree on the box count; wrong ranks; bad center_point_box.
  EXPECT_FALSE(InferOp(OpCase("NonMaxSuppression"), {Info(DType::kFloat32, {1, 10, 4}), Info(DType::kFloat32, {1, 3, 9})}).ok());
  EXPECT_FALSE(RunOp(OpCase("NonMaxSuppression").Inputs({Tensor::FromFloats({6, 4}, std::vector<float>(24)), Scores()})).ok());
  EXPECT_FALSE(RunOp(OpCase("NonMaxSuppression").Inputs({Boxes(), Tensor::FromFloats({1, 1, 5}, std::vector<float>(5))})).ok());
  EXPECT_FALSE(RunOp(OpCase("NonMaxSuppression").Attr("center_point_box", IntAttr(2)).Inputs({Boxes(), Scores()})).ok());
  auto bad = RunOp(OpCase("NonMaxSuppression").Inputs({Boxes(), Scores(), Tensor::FromInt64s({2}, {1, 2})}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("max_output_boxes_per_class"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace dopt
