// --input_shape / --out_nodes / exclude_op parsing, suggestions, and binding to a model.
#include <gtest/gtest.h>

#include "data/flag_parsing.h"
#include "data/model_binding.h"

namespace dopt {
namespace {

TEST(DataFlags, InputShapeAsciiAndFullWidth) {
  auto a = ParseInputShape("in1: 1,3,224,224; in2: 1, 10");
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0].name, "in1");
  EXPECT_EQ((*a)[0].dims, (Shape{1, 3, 224, 224}));
  EXPECT_EQ((*a)[1].dims, (Shape{1, 10}));
  // The original tool's own example mixes full-width punctuation in.
  auto b = ParseInputShape("input_name1： 8， 3，32 ,32 ；  input_name2:1,2 ;");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ((*b)[0].name, "input_name1");
  EXPECT_EQ((*b)[0].dims, (Shape{8, 3, 32, 32}));
  EXPECT_EQ((*b)[1].dims, (Shape{1, 2}));
}

TEST(DataFlags, InputShapeTfNameWithColon) {
  auto a = ParseInputShape("x:0: 1,224,224,3");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)[0].name, "x:0");
  EXPECT_EQ((*a)[0].dims, (Shape{1, 224, 224, 3}));
}

TEST(DataFlags, InputShapeErrors) {
  EXPECT_FALSE(ParseInputShape("").ok());
  EXPECT_FALSE(ParseInputShape("  ;  ").ok());
  EXPECT_NE(ParseInputShape("x 1,2").status().message().find("no ':'"), std::string::npos);
  EXPECT_NE(ParseInputShape(": 1,2").status().message().find("no input name"), std::string::npos);
  EXPECT_NE(ParseInputShape("x: 1,a").status().message().find("not an integer"), std::string::npos);
  EXPECT_NE(ParseInputShape("x: 1,,2").status().message().find("not an integer"), std::string::npos);
  EXPECT_NE(ParseInputShape("x: 1,0").status().message().find("positive"), std::string::npos);
  EXPECT_NE(ParseInputShape("x: 1,-1").status().message().find("positive"), std::string::npos);
  EXPECT_NE(ParseInputShape("x: 1; x: 2").status().message().find("twice"), std::string::npos);
}

TEST(DataFlags, InputShapeRankZero) {
  // No dims after ':' is a rank-0 input (a sample rate), beside ordinary ones.
  auto a = ParseInputShape("input: 1,512; sr:");
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[1].name, "sr");
  EXPECT_TRUE((*a)[1].dims.empty());
}

TEST(DataFlags, OutNodes) {
  auto a = ParseOutNodes(" a ; b:0；c ;");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, (std::vector<std::string>{"a", "b:0", "c"}));
  EXPECT_FALSE(ParseOutNodes(" ; ").ok());
  EXPECT_FALSE(ParseOutNodes("a;a").ok());
}

TEST(DataFlags, ExcludeOpsSplitMixed) {
  EXPECT_EQ(SplitExcludeOps({"conv1", "conv2;conv3", " conv4 ; ;conv1", "conv5；conv6"}),
            (std::vector<std::string>{"conv1", "conv2", "conv3", "conv4", "conv5", "conv6"}));
  EXPECT_TRUE(SplitExcludeOps({}).empty());
}

TEST(DataFlags, EditDistanceAndClosest) {
  EXPECT_EQ(EditDistance("", "abc"), 3u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(EditDistance("conv1", "conv1"), 0u);
  auto c = ClosestNames("conv_1", {"relu", "conv1", "conv2", "fc.weight", "conv1"}, 2);
  EXPECT_EQ(c, (std::vector<std::string>{"conv1", "conv2"}));
  EXPECT_EQ(QuotedList({"a", "b"}), "'a', 'b'");
  EXPECT_EQ(QuotedList({}), "(none)");
}

ModelNames TwoInputModel() {
  ModelNames m;
  m.inputs = {{"x", true, {-1, 3, 224, 224}}, {"y", true, {1, 10}}};
  m.value_names = {"x", "y", "w", "h", "out"};
  m.excludable = {"w", "add_node", "relu_node"};
  return m;
}

TEST(DataFlags, MatchInputShapes) {
  ModelNames m = TwoInputModel();
  auto ok = MatchInputShapes(*ParseInputShape("y: 1,10; x: 4,3,224,224"), m);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)[0].name, "y");  // --input_shape order is kept
  auto unknown = MatchInputShapes(*ParseInputShape("z: 1,10; x: 4,3,224,224"), m);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("'x', 'y'"), std::string::npos) << unknown.status().message();
  auto dim = MatchInputShapes(*ParseInputShape("x: 4,3,32,32; y: 1,10"), m);
  ASSERT_FALSE(dim.ok());
  EXPECT_NE(dim.status().message().find("fixes dim 2 to 224"), std::string::npos) << dim.status().message();
  auto rank = MatchInputShapes(*ParseInputShape("x: 4,3,224; y: 1,10"), m);
  ASSERT_FALSE(rank.ok());
  EXPECT_NE(rank.status().message().find("3 dims"), std::string::npos) << rank.status().message();
  auto missing = MatchInputShapes(*ParseInputShape("x: 4,3,224,224"), m);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no entry for model input(s) 'y'"), std::string::npos);
  // An inner tensor names a cut point.
  auto cut = MatchInputShapes(*ParseInputShape("h: 1,5"), m);
  EXPECT_TRUE(cut.ok());
}

TEST(DataFlags, ShapesFromModel) {
  ModelNames m = TwoInputModel();
  auto s = ShapesFromModel(m);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)[0].dims, (Shape{1, 3, 224, 224}));
  m.inputs[0].shape = {1, 3, -1, -1};
  EXPECT_NE(ShapesFromModel(m).status().message().find("--input_shape"), std::string::npos);
}

TEST(DataFlags, OutNodesAndExcludeAgainstModel) {
  ModelNames m = TwoInputModel();
  EXPECT_TRUE(CheckOutNodes({"out", "h:0"}, m).ok());
  Status s = CheckOutNodes({"ot"}, m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("closest: 'out'"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckExcludeOps({"w", "relu_node"}, m).ok());
  Status e = CheckExcludeOps({"relu_nod"}, m);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("closest: 'relu_node'"), std::string::npos) << e.message();
}

TEST(DataFlags, ModelNamesFromGraph) {
  Graph g;
  Value x;
  x.name = "x";
  x.rank_known = true;
  x.shape = {-1, 4};
  g.inputs.push_back(g.AddValue(x));
  Value w;
  w.name = "w";
  w.initializer = Tensor::FromFloats({4}, {1, 2, 3, 4});
  g.AddValue(w);
  Node n;
  n.name = "add0";
  n.op_type = "Add";
  g.AddNode(n);
  ModelNames m = ModelNamesFromGraph(g);
  ASSERT_EQ(m.inputs.size(), 1u);
  EXPECT_EQ(m.inputs[0].shape, (Shape{-1, 4}));
  EXPECT_EQ(m.excludable, (std::vector<std::string>{"w", "add0"}));
}

}  // namespace
}  // namespace dopt
