#include <gtest/gtest.h>

#include "dopt/status.h"
#include "ir/tensor.h"

namespace dopt {
namespace {

TEST(Tensor, CheckedNumElementsRejectsOverflow) {
  EXPECT_TRUE(CheckedNumElements({2, 3, 4}).ok());
  EXPECT_EQ(*CheckedNumElements({2, 3, 4}), 24);
  EXPECT_FALSE(CheckedNumElements({1 << 30, 1 << 30, 1 << 30}).ok());
  EXPECT_FALSE(CheckedNumElements({-1, 3}).ok());
}

TEST(Tensor, HalfRoundTrip) {
  for (float f : {0.f, 1.f, -2.5f, 65504.f, 6.1035156e-05f, 5.9604645e-08f, 0.1f}) {
    float back = HalfToFloat(FloatToHalf(f));
    EXPECT_NEAR(back, f, std::abs(f) * 1e-3 + 1e-7) << f;
  }
  EXPECT_EQ(FloatToHalf(1.f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.f), 0xc000);
}

TEST(Tensor, CastAndReshapeShareOrCopy) {
  Tensor t = Tensor::FromFloats({2, 2}, {1.5f, -2.f, 3.f, 4.f});
  Tensor r = t.Reshaped({4});
  EXPECT_TRUE(r.SharesStorageWith(t));
  Tensor i = t.CastTo(DType::kInt64);
  EXPECT_EQ(i.ToInt64Vector(), (std::vector<int64_t>{1, -2, 3, 4}));
}

TEST(Status, ContextIsPrepended) {
  Status s = InvalidArgument("bad").WithContext("file.onnx");
  EXPECT_EQ(s.message(), "file.onnx: bad");
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace dopt
