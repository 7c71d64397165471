#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Resize, BilinearHalfPixelOnNchwAndNearestInt8) {
  Tensor x = Tensor::FromFloats({1, 1, 2, 2}, {0, 1, 2, 3});
  Tensor scales = Tensor::FromFloats({4}, {1, 1, 2, 2});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Resize", 13).Attr("mode", StringAttr("linear")).Input(x).Omitted().Input(scales), &out));
  ASSERT_EQ(out[0].shape(), (Shape{1, 1, 4, 4}));
  // Row 0 samples y = -0.25 (clamped to 0): x coords -0.25, 0.25, 0.75, 1.25 -> 0, .25, .75, 1.
  std::vector<float> got = Values<float>(out[0]);
  EXPECT_FLOAT_EQ(got[0], 0.f);
  EXPECT_FLOAT_EQ(got[1], 0.25f);
  EXPECT_FLOAT_EQ(got[2], 0.75f);
  EXPECT_FLOAT_EQ(got[3], 1.f);
  // Row 1 samples y = 0.25: 0.75 * row0 + 0.25 * row1.
  EXPECT_FLOAT_EQ(got[5], 0.75f * 0.25f + 0.25f * 2.25f);
  Tensor xi = Tensor::FromFloats({1, 3}, {1, 2, 3}).CastTo(DType::kInt8);
  Tensor sizes = Tensor::FromInt64s({2}, {1, 6});
  ASSERT_TRUE(CheckOp(OpCase("Resize", 13)
                          .Attr("nearest_mode", StringAttr("floor"))
                          .Attr("coordinate_transformation_mode", StringAttr("asymmetric"))
                          .Input(xi).Omitted().Omitted().Input(sizes),
                      &out));
  EXPECT_EQ(out[0].ToInt64Vector(), (std::vector<int64_t>{1, 1, 2, 2, 3, 3}));
  EXPECT_FALSE(RunOp(OpCase("Resize", 13).Attr("mode", StringAttr("area")).Input(x).Omitted().Input(scales)).ok());
}

TEST(Resize, InferFromScalesWithUnknownBatch) {
  Tensor scales = Tensor::FromFloats({4}, {1, 1, 2, 2});
  auto inf = InferOp(OpCase("Resize", 13),
                     {Info(DType::kFloat32, {-1, 3, 5, 7}), Absent(), Info(DType::kFloat32, {4}, &scales)});
  ASSERT_TRUE(inf.ok()) << inf.status().message();
  EXPECT_EQ((*inf)[0].shape, (Shape{-1, 3, 10, 14}));
}

// Nearest and linear modes, up and down, on planes enough to be split across threads: the
// harness's reference-vs-optimised, thread and shape checks (values are covered above and by
// the ONNX node tests).
TEST(Resize, ModesAndScalesAcrossThreads) {
  Tensor x = Random({2, 9, 23, 31}, 70);
  for (const char* mode : {"nearest", "linear"})
    for (float sc : {0.5f, 1.5f, 3.f})
      EXPECT_TRUE(CheckOp(OpCase("Resize").Attr("mode", StringAttr(mode)).Input(x).Omitted()
                              .Input(Tensor::FromFloats({4}, {1, 1, sc, sc}))
                              .Label(std::string(mode) + " x" + std::to_string(sc))));
}

}  // namespace
}  // namespace dopt
