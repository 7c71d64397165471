#include "check_op.h"
#include "ops/shape_inference.h"

namespace dopt {
namespace {
using namespace optest;

TEST(ShapeOp, StartEndAreClamped) {
  Tensor x(DType::kFloat32, {2, 3, 5});
  std::vector<Tensor> out;
  ASSERT_TRUE(CheckOp(OpCase("Shape", 15).Attr("start", IntAttr(-2)).Attr("end", IntAttr(100)).Input(x), &out));
  EXPECT_EQ(out[0].ToInt64Vector(), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(out[0].dtype(), DType::kInt64);
  auto inf = InferOp(OpCase("Shape", 15).Attr("start", IntAttr(2)).Attr("end", IntAttr(1)), {Info(DType::kFloat32, {-1, 3, 5})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{0}));
}

// Shape of a non-constant input with a known shape folds at load time, so the executor
// never runs it (and a Reshape fed by it gets a static output shape).
TEST(ShapeFold, KnownInputShapeFoldsToAConstant) {
  Graph g;
  int xid = AddTestInput(g, "x", DType::kFloat32, {2, 3, 4});
  int sid = AddTestValue(g, "s");
  int yid = AddTestValue(g, "y");
  g.AddNode(MakeNode("Shape", "shape", {xid}, {sid}, {}, 0));
  g.AddNode(MakeNode("Reshape", "reshape", {xid, sid}, {yid}, {}, 13));
  g.outputs.push_back(yid);
  ASSERT_TRUE(PrepareGraph(g).ok());
  ASSERT_TRUE(g.value(sid).folded.has_value());
  EXPECT_EQ(g.value(sid).folded->ToInt64Vector(), (std::vector<int64_t>{2, 3, 4}));
  EXPECT_EQ(g.value(yid).shape, (Shape{2, 3, 4}));

  Graph dynamic = g;  // an unknown dim: no folding, the op runs at run time
  dynamic.value(xid).shape = {-1, 3, 4};
  dynamic.value(sid).folded.reset();
  dynamic.value(sid).shape.clear();
  dynamic.value(sid).rank_known = false;
  ASSERT_TRUE(PrepareGraph(dynamic).ok());
  EXPECT_FALSE(dynamic.value(sid).folded.has_value());
}

}  // namespace
}  // namespace dopt
