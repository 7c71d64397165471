#include "shape_ops_test_util.h"

namespace dopt {
namespace {
using namespace shape_ops_test;

TEST(ShapeOp, StartEndAreClamped) {
  Tensor x(DType::kFloat32, {2, 3, 5});
  auto out = RunOp(MakeNode("Shape", 15, {AInt("start", -2), AInt("end", 100)}), {&x});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)[0].ToInt64Vector(), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ((*out)[0].dtype(), DType::kInt64);
  auto inf = InferOp(MakeNode("Shape", 15, {AInt("start", 2), AInt("end", 1)}), {Info(DType::kFloat32, {-1, 3, 5})});
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ((*inf)[0].shape, (Shape{0}));
}

}  // namespace
}  // namespace dopt

#include "ops/shape_inference.h"

namespace dopt {
namespace {

// Shape of a non-constant input with a known shape folds at load time, so the executor
// never runs it (and a Reshape fed by it gets a static output shape).
TEST(ShapeFold, KnownInputShapeFoldsToAConstant) {
  Graph g;
  Value x;
  x.name = "x";
  x.dtype = DType::kFloat32;
  x.rank_known = true;
  x.shape = {2, 3, 4};
  int xid = g.AddValue(x);
  g.inputs.push_back(xid);
  Value s;
  s.name = "s";
  int sid = g.AddValue(s);
  Value y;
  y.name = "y";
  int yid = g.AddValue(y);
  Node shape;
  shape.name = "shape";
  shape.op_type = "Shape";
  shape.inputs = {xid};
  shape.outputs = {sid};
  Node reshape;
  reshape.name = "reshape";
  reshape.op_type = "Reshape";
  reshape.opset_version = 13;
  reshape.inputs = {xid, sid};
  reshape.outputs = {yid};
  g.AddNode(shape);
  g.AddNode(reshape);
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
