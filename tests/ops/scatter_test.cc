// Scatter (opset 9-10): ScatterElements under its old name; the same results on the same
// inputs, axis attribute, and no reduction.
#include "check_op.h"

namespace dopt {
namespace {

using namespace optest;

TEST(Scatter, MatchesScatterElements) {
  Tensor x = Random({3, 5}, 7);
  Tensor idx = Make<int64_t>(DType::kInt64, {2, 3}, {4, 0, -1, 2, 1, 3});
  Tensor upd = Random({2, 3}, 8);
  for (int64_t axis : {1, 0, -2}) {
    Tensor ids = axis == 1 ? idx : Make<int64_t>(DType::kInt64, {2, 3}, {2, 0, -1, 1, 1, 0});
    std::vector<Tensor> want;
    ASSERT_TRUE(CheckOp(OpCase("ScatterElements").Attr("axis", IntAttr(axis)).Inputs({x, ids, upd}), &want));
    EXPECT_TRUE(CheckOp(OpCase("Scatter", 10).Attr("axis", IntAttr(axis)).Inputs({x, ids, upd}).Expect(want[0])
                            .Label("axis " + std::to_string(axis))));
  }
  // The ONNX example: axis 1 (default 0 otherwise), int32 indices.
  Tensor data = Tensor::FromFloats({1, 5}, {1, 2, 3, 4, 5});
  EXPECT_TRUE(CheckOp(OpCase("Scatter", 9).Attr("axis", IntAttr(1))
                          .Inputs({data, Make<int32_t>(DType::kInt32, {1, 2}, {1, 3}), Tensor::FromFloats({1, 2}, {1.1f, 2.1f})})
                          .Expect(Tensor::FromFloats({1, 5}, {1, 1.1f, 3, 2.1f, 5}))));
}

TEST(Scatter, Errors) {
  Tensor x = Random({3, 5}, 7);
  auto r = RunOp(OpCase("Scatter", 10).Inputs({x, Make<int64_t>(DType::kInt64, {1, 1}, {3}), Random({1, 1}, 1)}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("node 'n'"), std::string::npos) << r.status().message();
  auto info = InferOp(OpCase("Scatter", 10).Attr("reduction", StringAttr("add")),
                      {Info(DType::kFloat32, {3, 5}), Info(DType::kInt64, {1, 1}), Info(DType::kFloat32, {1, 1})});
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("reduction"), std::string::npos) << info.status().message();
}

}  // namespace
}  // namespace dopt
