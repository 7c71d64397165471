#include "check_op.h"

namespace dopt {
namespace {
using namespace optest;

TEST(Constant, ScalarAndListAttributes) {
  auto run = [](const std::string& name, Attribute a) {
    std::vector<Tensor> out;
    EXPECT_TRUE(CheckOp(OpCase("Constant").Attr(name, std::move(a)), &out));
    return out.empty() ? Tensor() : out[0];
  };
  Tensor f = run("value_float", FloatAttr(2.5f));
  EXPECT_EQ(f.dtype(), DType::kFloat32);
  EXPECT_EQ(f.shape(), Shape{});
  EXPECT_EQ(Values<float>(f), std::vector<float>{2.5f});
  Tensor fs = run("value_floats", FloatsAttr({1.f, 2.f}));
  EXPECT_EQ(fs.shape(), Shape{2});
  Tensor i = run("value_int", IntAttr(-7));
  EXPECT_EQ(i.dtype(), DType::kInt64);
  EXPECT_EQ(Values<int64_t>(i), std::vector<int64_t>{-7});
  Tensor is = run("value_ints", IntsAttr({3, 4, 5}));
  EXPECT_EQ(Values<int64_t>(is), (std::vector<int64_t>{3, 4, 5}));
}

TEST(Constant, Float16TensorInfersFloat16RunsFloat32) {
  std::vector<uint16_t> h = {FloatToHalf(1.5f), FloatToHalf(-2.f)};
  Tensor t = Make<uint16_t>(DType::kFloat16, {2}, h);
  OpCase c = OpCase("Constant").Attr("value", TensorAttr(t));
  auto info = InferOp(c, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].dtype, DType::kFloat16);
  EXPECT_EQ((*info)[0].shape, Shape{2});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(c, &out));
  EXPECT_EQ(out[0].dtype(), DType::kFloat32);
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{1.5f, -2.f}));
}

TEST(Constant, ErrorsForMissingDuplicateAndUnsupported) {
  EXPECT_FALSE(InferOp(OpCase("Constant"), {}).ok());
  EXPECT_FALSE(InferOp(OpCase("Constant").Attr("value_int", IntAttr(1)).Attr("value_float", FloatAttr(1)), {}).ok());
  auto s = InferOp(OpCase("Constant").Attr("value_string", StringAttr("a")), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.status().message().find("node 'n' (Constant)"), std::string::npos);
}

}  // namespace
}  // namespace dopt
