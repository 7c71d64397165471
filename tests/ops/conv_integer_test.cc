// ConvInteger against a plain int32 loop (tests/ops/integer_ops_ref.h) over a sweep of shapes,
// groups (depthwise too), strides, dilations, pads, auto_pad, 1-D/2-D/3-D, int8/uint8 operands
// and zero points (none, per tensor, per output channel); plus error cases.
#include "integer_ops_ref.h"

namespace dopt {
namespace {

using namespace optest;

std::string Describe(const IntConvCase& c) {
  return "N=" + std::to_string(c.N) + " C=" + std::to_string(c.C) + " M=" + std::to_string(c.M) + " G=" +
         std::to_string(c.G) + " in=" + ShapeToString(c.in) + " k=" + ShapeToString(c.k) + " s=" +
         ShapeToString(c.s) + " d=" + ShapeToString(c.d) + " pads=" + ShapeToString(c.pads) + " " + c.auto_pad;
}

const std::vector<IntConvCase>& Sweep() {
  static const std::vector<IntConvCase> cases = {
      {1, 1, 1, 1, {5, 5}, {3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}},
      {2, 3, 5, 1, {7, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},
      {1, 4, 6, 2, {9, 8}, {3, 2}, {2, 1}, {1, 1}, {1, 0, 0, 1}},
      {1, 6, 6, 6, {11, 7}, {3, 3}, {1, 2}, {1, 1}, {1, 1, 1, 1}},     // depthwise
      {1, 8, 4, 4, {10, 9}, {3, 3}, {2, 2}, {2, 1}, {2, 1, 2, 1}},     // dilations
      {1, 3, 4, 1, {13}, {4}, {3}, {1}, {2, 1}},                       // 1-D
      {1, 2, 3, 1, {5, 4, 6}, {2, 3, 2}, {1, 2, 1}, {1, 1, 2}, {0, 1, 1, 1, 0, 0}},  // 3-D
      {1, 3, 4, 1, {8, 7}, {3, 3}, {2, 2}, {1, 1}, {}, "SAME_UPPER"},
      {1, 3, 4, 1, {8, 7}, {4, 2}, {3, 2}, {1, 1}, {}, "SAME_LOWER"},
      {1, 3, 4, 1, {8, 7}, {3, 3}, {1, 2}, {1, 1}, {}, "VALID"},
      {2, 16, 24, 2, {19, 21}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}},  // several blocks of outputs, threads
      {1, 5, 7, 1, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}},      // 1x1
  };
  return cases;
}

TEST(ConvInteger, SweepMatchesPlainLoop) {
  uint32_t seed = 100;
  for (const IntConvCase& c : Sweep()) {
    for (int variant = 0; variant < 4; ++variant) {
      ++seed;
      // Variants: uint8 x / int8 w with per-tensor zero points; int8 both, per-channel w zero
      // points; uint8 both without zero points; int8 x / uint8 w, x zero point only.
      const DType xt = variant == 0 || variant == 2 ? DType::kUInt8 : DType::kInt8;
      const DType wt = variant == 0 || variant == 1 ? DType::kInt8 : DType::kUInt8;
      Shape xs = {c.N, c.C}, ws = {c.M, c.C / c.G};
      xs.insert(xs.end(), c.in.begin(), c.in.end());
      ws.insert(ws.end(), c.k.begin(), c.k.end());
      Tensor x = RandomInt(xt, xs, seed), w = RandomInt(wt, ws, seed + 7);
      int32_t xz = 0;
      std::vector<int32_t> wz = {0};
      OpCase oc = IntConvNode("ConvInteger", c).Inputs({x, w});
      if (variant == 0) {
        xz = 131;
        wz = {-3};
        oc.Input(ZeroPoint(xt, {xz})).Input(ZeroPoint(wt, {wz[0]}));
      } else if (variant == 1) {
        xz = -7;
        std::vector<int> v;
        wz.clear();
        for (int64_t m = 0; m < c.M; ++m) {
          wz.push_back((int32_t)(m * 37 % 51) - 25);
          v.push_back(wz.back());
        }
        oc.Input(ZeroPoint(xt, {xz})).Input(ZeroPoint(wt, v));
      } else if (variant == 3) {
        xz = 5;
        oc.Input(ZeroPoint(xt, {xz}));
      }
      oc.Label(Describe(c) + " variant " + std::to_string(variant));
      oc.Reference([&](const std::vector<Tensor>&) { return std::vector<Tensor>{RefIntConv(c, x, xz, w, wz)}; },
                   Tol::Exact());
      EXPECT_TRUE(CheckOp(oc));
    }
  }
}

TEST(ConvInteger, NodeTestExample) {
  // ONNX's ConvInteger example: x 1..9 (3x3) with zero point 1, w all 1, pads 1.
  Tensor x = Make<uint8_t>(DType::kUInt8, {1, 1, 3, 3}, {2, 3, 4, 5, 6, 7, 8, 9, 10});
  Tensor w = Make<uint8_t>(DType::kUInt8, {1, 1, 2, 2}, {1, 1, 1, 1});
  EXPECT_TRUE(CheckOp(OpCase("ConvInteger").Attr("pads", IntsAttr({1, 1, 1, 1}))
                          .Inputs({x, w, ZeroPoint(DType::kUInt8, {1})})
                          .Expect(Make<int32_t>(DType::kInt32, {1, 1, 4, 4},
                                                {1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9}))));
}

TEST(ConvInteger, Errors) {
  Tensor x = RandomInt(DType::kUInt8, {1, 2, 4, 4}, 1), w = RandomInt(DType::kInt8, {3, 2, 3, 3}, 2);
  // Zero point of the wrong type: the shape rule and the kernel name the node and the cause.
  auto info = InferOp(OpCase("ConvInteger"), {Info(DType::kUInt8, {1, 2, 4, 4}), Info(DType::kInt8, {3, 2, 3, 3}),
                                              Info(DType::kInt8, {})});
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("node 'n'"), std::string::npos) << info.status().message();
  EXPECT_NE(info.status().message().find("x_zero_point"), std::string::npos) << info.status().message();
  auto run = RunOp(OpCase("ConvInteger").Inputs({x, w, ZeroPoint(DType::kInt8, {0})}));
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("x_zero_point"), std::string::npos);
  // Float input.
  EXPECT_FALSE(InferOp(OpCase("ConvInteger"), {Info(DType::kFloat32, {1, 2, 4, 4}), Info(DType::kInt8, {3, 2, 3, 3})}).ok());
  // Per-channel x zero point, w zero point of the wrong length, channels not matching.
  EXPECT_FALSE(RunOp(OpCase("ConvInteger").Inputs({x, w, ZeroPoint(DType::kUInt8, {1, 2})})).ok());
  EXPECT_FALSE(RunOp(OpCase("ConvInteger").Inputs({x, w}).Omitted().Input(ZeroPoint(DType::kInt8, {1, 2}))).ok());
  auto ch = RunOp(OpCase("ConvInteger").Inputs({x, RandomInt(DType::kInt8, {3, 3, 3, 3}, 3)}));
  ASSERT_FALSE(ch.ok());
  EXPECT_NE(ch.status().message().find("channels"), std::string::npos) << ch.status().message();
  // Shapes only: int32 output of the conv's shape.
  auto ok = InferOp(OpCase("ConvInteger").Attr("pads", IntsAttr({1, 1, 1, 1})),
                    {Info(DType::kUInt8, {-1, 2, 4, 4}), Info(DType::kInt8, {3, 2, 3, 3})});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)[0].dtype, DType::kInt32);
  EXPECT_EQ((*ok)[0].shape, (Shape{-1, 3, 4, 4}));
}

}  // namespace
}  // namespace dopt
