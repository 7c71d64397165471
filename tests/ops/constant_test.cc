#include "elem_op_test_util.h"

namespace dopt {
namespace {
using namespace elemtest;

TEST(Constant, ScalarAndListAttributes) {
  auto run = [](Attrs a) {
    Node n = MakeNode("Constant", 0, 1, std::move(a));
    auto out = RunNode(n, {});
    EXPECT_TRUE(out.ok()) << out.status().message();
    return out.ok() ? (*out)[0] : Tensor();
  };
  Tensor f = run({{"value_float", AttrF(2.5f)}});
  EXPECT_EQ(f.dtype(), DType::kFloat32);
  EXPECT_EQ(f.shape(), Shape{});
  EXPECT_EQ(Values<float>(f), std::vector<float>{2.5f});
  Tensor fs = run({{"value_floats", AttrFloats({1.f, 2.f})}});
  EXPECT_EQ(fs.shape(), Shape{2});
  Tensor i = run({{"value_int", AttrI(-7)}});
  EXPECT_EQ(i.dtype(), DType::kInt64);
  EXPECT_EQ(Values<int64_t>(i), std::vector<int64_t>{-7});
  Tensor is = run({{"value_ints", AttrInts({3, 4, 5})}});
  EXPECT_EQ(Values<int64_t>(is), (std::vector<int64_t>{3, 4, 5}));
}

TEST(Constant, Float16TensorInfersFloat16RunsFloat32) {
  std::vector<uint16_t> h = {FloatToHalf(1.5f), FloatToHalf(-2.f)};
  Tensor t = Make<uint16_t>(DType::kFloat16, {2}, h);
  Node n = MakeNode("Constant", 0, 1, {{"value", AttrT(t)}});
  auto info = InferNode(n, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*info)[0].dtype, DType::kFloat16);
  EXPECT_EQ((*info)[0].shape, Shape{2});
  auto out = RunNode(n, {});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].dtype(), DType::kFloat32);
  EXPECT_EQ(Values<float>((*out)[0]), (std::vector<float>{1.5f, -2.f}));
}

TEST(Constant, ErrorsForMissingDuplicateAndUnsupported) {
  EXPECT_FALSE(InferNode(MakeNode("Constant", 0, 1), {}).ok());
  EXPECT_FALSE(InferNode(MakeNode("Constant", 0, 1, {{"value_int", AttrI(1)}, {"value_float", AttrF(1)}}), {}).ok());
  auto s = InferNode(MakeNode("Constant", 0, 1, {{"value_string", AttrS("a")}}), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(s.status().message().find("node 'n' (Constant)"), std::string::npos);
}

}  // namespace
}  // namespace dopt
