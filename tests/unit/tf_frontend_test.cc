// TF frontend: TF's SAME pad split, the NCHW layout/naming contract, cut points, errors on
// unsupported ops and malformed graphs, unknown fields kept by SerializeTfGraphDef.
#include <gtest/gtest.h>

#include "ir/graph_edit.h"

#include "../ops/check_op.h"

#include <climits>
#include <cmath>
#include <random>

#include "frontends/tf/tf_frontend.h"
#include "frontends/tf/tf_tensor_ref.h"
#include "frontends/tf/tf_graph_writer.h"
#include "passes/fold_affine.h"
#include "passes/fold_batchnorm.h"
#include "passes/pass.h"

namespace dopt {
namespace {

using A = TfAttrSpec;

Tensor Seq(const Shape& s, float scale = 0.1f) {
  Tensor t(DType::kFloat32, s);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = scale * (float)((i * 7) % 13 - 6);
  return t;
}

std::string InName(const Graph& g, const Node& n, int i) { return g.value(n.inputs[i]).name; }

TEST(TfFrontend, SamePadSplitIsTfs) {
  using P = std::pair<int64_t, int64_t>;
  // total = max((ceil(in/s)-1)*s + (k-1)*d + 1 - in, 0); before = total/2, extra after.
  EXPECT_EQ(TfSamePadding(5, 3, 2, 1), P(1, 1));  // total 2
  EXPECT_EQ(TfSamePadding(6, 3, 2, 1), P(0, 1));  // total 1: extra after
  EXPECT_EQ(TfSamePadding(7, 4, 1, 2), P(3, 3));  // dilated: 6
  EXPECT_EQ(TfSamePadding(8, 4, 1, 1), P(1, 2));  // even kernel
  EXPECT_EQ(TfSamePadding(9, 1, 3, 1), P(0, 0));  // 1x1 stride 3
}

// x[1,5,6,3] -> Conv2D(SAME, stride 2) -> BiasAdd -> FusedBatchNormV3 -> Relu.
std::vector<TfNodeSpec> ConvBlock() {
  std::vector<TfNodeSpec> g;
  g.push_back(TfPlaceholderNode("x", {1, 5, 6, 3}));
  g.push_back(TfConstNode("w", Seq({3, 3, 3, 4})));
  g.push_back({"conv", "Conv2D", {"x", "w"},
               {{"T", A::Type(DType::kFloat32)}, {"strides", A::Ints({1, 2, 2, 1})}, {"padding", A::Str("SAME")},
                {"data_format", A::Str("NHWC")}}});
  g.push_back(TfConstNode("b", Seq({4})));
  g.push_back({"bias_add", "BiasAdd", {"conv", "b"}, {{"data_format", A::Str("NHWC")}}});
  g.push_back(TfConstNode("gamma", Tensor::FromFloats({4}, {1.f, 2.f, 0.5f, 1.5f})));
  g.push_back(TfConstNode("beta", Tensor::FromFloats({4}, {0.f, 0.1f, -0.1f, 0.2f})));
  g.push_back(TfConstNode("mean", Tensor::FromFloats({4}, {0.1f, 0.f, -0.2f, 0.3f})));
  g.push_back(TfConstNode("var", Tensor::FromFloats({4}, {1.f, 0.5f, 2.f, 0.25f})));
  g.push_back({"bn", "FusedBatchNormV3", {"bias_add", "gamma", "beta", "mean", "var"},
               {{"epsilon", A::Float(1e-3f)}, {"is_training", A::Bool(false)}, {"data_format", A::Str("NHWC")}}});
  g.push_back({"relu", "Relu", {"bn"}, {}});
  return g;
}

TEST(TfFrontend, ConvBlockRunsInNchwWithContractNames) {
  auto bytes = WriteGraphDef(ConvBlock());
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto g = LoadTfModelFromBytes(*bytes, "block.pb");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->info.format, "tf");
  ASSERT_EQ(g->inputs.size(), 1u);
  EXPECT_EQ(g->value(g->inputs[0]).name, "x");
  ASSERT_EQ(g->outputs.size(), 1u);
  const Value& out = g->value(g->outputs[0]);
  EXPECT_EQ(out.name, "relu");
  EXPECT_EQ(out.shape, (Shape{1, 3, 3, 4}));  // TF layout

  const Node* conv = FindNode(*g, "conv");
  ASSERT_TRUE(conv);
  EXPECT_EQ(conv->op_type, "Conv");
  EXPECT_EQ(InName(*g, *conv, 0), "x/dopt_nchw");
  EXPECT_EQ(InName(*g, *conv, 1), "w/dopt_oihw");
  EXPECT_EQ(g->value(conv->outputs[0]).name, "conv/dopt_nchw");
  auto pads = conv->GetInts("pads");
  ASSERT_TRUE(pads.ok());
  EXPECT_EQ(*pads, (std::vector<int64_t>{1, 0, 1, 1}));  // H: 5,k3,s2 -> 1/1; W: 6 -> 0/1
  // Weight OIHW: w_oihw[o][i][h][w] == w_hwio[h][w][i][o].
  const Tensor& wo = *g->value(conv->inputs[1]).initializer;
  Tensor wh = Seq({3, 3, 3, 4});
  ASSERT_EQ(wo.shape(), (Shape{4, 3, 3, 3}));
  for (int o = 0; o < 4; ++o)
    for (int i = 0; i < 3; ++i)
      for (int h = 0; h < 3; ++h)
        for (int w = 0; w < 3; ++w)
          ASSERT_EQ(wo.data<float>()[((o * 3 + i) * 3 + h) * 3 + w], wh.data<float>()[((h * 3 + w) * 3 + i) * 4 + o]);

  const Node* bias = FindNode(*g, "bias_add");
  ASSERT_TRUE(bias);
  EXPECT_EQ(bias->op_type, "Add");
  EXPECT_EQ(InName(*g, *bias, 0), "conv/dopt_nchw");
  EXPECT_EQ(InName(*g, *bias, 1), "b/dopt_c11");
  EXPECT_EQ(g->value(bias->inputs[1]).shape, (Shape{4, 1, 1}));
  const Node* bn = FindNode(*g, "bn");
  ASSERT_TRUE(bn);
  EXPECT_EQ(bn->op_type, "BatchNormalization");
  EXPECT_EQ(InName(*g, *bn, 0), "bias_add/dopt_nchw");
  const Node* relu = FindNode(*g, "relu");
  ASSERT_TRUE(relu);
  EXPECT_EQ(InName(*g, *relu, 0), "bn/dopt_nchw");
  // One transpose in, one out: the TF-layout transposes nothing reads are gone.
  int transposes = 0;
  for (const Node& n : g->nodes) transposes += n.op_type == "Transpose";
  EXPECT_EQ(transposes, 2);
  EXPECT_EQ(g->FindValue("conv"), -1);

  // Numerics against a direct NHWC reference of the same block.
  Tensor x = optest::Random({1, 5, 6, 3}, 3);
  auto res = optest::RunGraph(*g, {{"x", x}});
  const Tensor& y = res.at("relu");
  Tensor w = Seq({3, 3, 3, 4}), b = Seq({4});
  const float gam[4] = {1.f, 2.f, 0.5f, 1.5f}, bet[4] = {0.f, 0.1f, -0.1f, 0.2f}, mu[4] = {0.1f, 0.f, -0.2f, 0.3f},
              var[4] = {1.f, 0.5f, 2.f, 0.25f};
  for (int oh = 0; oh < 3; ++oh)
    for (int ow = 0; ow < 3; ++ow)
      for (int o = 0; o < 4; ++o) {
        double acc = 0;
        for (int kh = 0; kh < 3; ++kh)
          for (int kw = 0; kw < 3; ++kw) {
            int ih = oh * 2 + kh - 1, iw = ow * 2 + kw - 0;  // pads before: H 1, W 0
            if (ih < 0 || ih >= 5 || iw < 0 || iw >= 6) continue;
            for (int i = 0; i < 3; ++i)
              acc += x.data<float>()[(ih * 6 + iw) * 3 + i] * w.data<float>()[((kh * 3 + kw) * 3 + i) * 4 + o];
          }
        acc += b.data<float>()[o];
        acc = (acc - mu[o]) / std::sqrt(var[o] + 1e-3) * gam[o] + bet[o];
        acc = std::max(acc, 0.0);
        EXPECT_NEAR(y.data<float>()[(oh * 3 + ow) * 4 + o], acc, 1e-4) << oh << "," << ow << "," << o;
      }

  // fold_affine then fold_batchnorm see Conv -> Add -> BatchNormalization adjacent: both go,
  // and the folded graph computes the same.
  Graph g2 = *g;
  PassManager pm;
  pm.Add(std::make_unique<FoldAffinePass>());
  pm.Add(std::make_unique<FoldBatchNormPass>());
  ASSERT_TRUE(pm.Run(g2).ok());
  for (const Node& n : g2.nodes) {
    EXPECT_NE(n.op_type, "BatchNormalization");
    EXPECT_NE(n.op_type, "Add");
  }
  auto res2 = optest::RunGraph(g2, {{"x", x}});
  for (int64_t i = 0; i < y.numel(); ++i) EXPECT_NEAR(res2.at("relu").data<float>()[i], y.data<float>()[i], 1e-5);
}

// The same Conv2D(SAME, stride 2) -> BiasAdd -> MaxPool -> AvgPool block, once NHWC and once
// NCHW (TF's CPU kernels cannot run NCHW convs, so the TF-checked NHWC path is the reference).
std::vector<TfNodeSpec> LayoutBlock(bool nchw) {
  const std::string f = nchw ? "NCHW" : "NHWC";
  auto v4 = [&](int64_t h, int64_t w) { return nchw ? std::vector<int64_t>{1, 1, h, w} : std::vector<int64_t>{1, h, w, 1}; };
  std::vector<TfNodeSpec> g;
  g.push_back(TfPlaceholderNode("x", nchw ? std::vector<int64_t>{1, 3, 9, 10} : std::vector<int64_t>{1, 9, 10, 3}));
  g.push_back(TfConstNode("w", Seq({3, 3, 3, 4})));
  g.push_back({"conv", "Conv2D", {"x", "w"},
               {{"strides", A::Ints(v4(2, 2))}, {"padding", A::Str("SAME")}, {"data_format", A::Str(f)},
                {"dilations", A::Ints(v4(1, 1))}}});
  g.push_back(TfConstNode("b", Seq({4})));
  g.push_back({"bias", "BiasAdd", {"conv", "b"}, {{"data_format", A::Str(f)}}});
  g.push_back({"mp", "MaxPool", {"bias"},
               {{"ksize", A::Ints(v4(2, 3))}, {"strides", A::Ints(v4(1, 2))}, {"padding", A::Str("SAME")},
                {"data_format", A::Str(f)}}});
  g.push_back({"ap", "AvgPool", {"mp"},
               {{"ksize", A::Ints(v4(2, 2))}, {"strides", A::Ints(v4(1, 1))}, {"padding", A::Str("SAME")},
                {"data_format", A::Str(f)}}});
  return g;
}

TEST(TfFrontend, NchwDataFormatMatchesNhwc) {
  auto a = WriteGraphDef(LayoutBlock(false)), b = WriteGraphDef(LayoutBlock(true));
  ASSERT_TRUE(a.ok() && b.ok());
  auto ga = LoadTfModelFromBytes(*a, "nhwc.pb"), gb = LoadTfModelFromBytes(*b, "nchw.pb");
  ASSERT_TRUE(ga.ok()) << ga.status().message();
  ASSERT_TRUE(gb.ok()) << gb.status().message();
  for (const Node& n : gb->nodes) EXPECT_NE(n.op_type, "Transpose") << n.name;  // NCHW needs none
  Tensor x = optest::Random({1, 9, 10, 3}, 4);
  Tensor xc(DType::kFloat32, {1, 3, 9, 10});
  for (int h = 0; h < 9; ++h)
    for (int w = 0; w < 10; ++w)
      for (int c = 0; c < 3; ++c) xc.data<float>()[(c * 9 + h) * 10 + w] = x.data<float>()[(h * 10 + w) * 3 + c];
  Tensor ya = optest::RunGraph(*ga, {{"x", x}}).at("ap"), yb = optest::RunGraph(*gb, {{"x", xc}}).at("ap");
  ASSERT_EQ(ya.shape(), (Shape{1, 5, 3, 4}));
  ASSERT_EQ(yb.shape(), (Shape{1, 4, 5, 3}));
  for (int h = 0; h < 5; ++h)
    for (int w = 0; w < 3; ++w)
      for (int c = 0; c < 4; ++c)
        EXPECT_NEAR(ya.data<float>()[(h * 3 + w) * 4 + c], yb.data<float>()[(c * 5 + h) * 3 + w], 1e-5);
}

TEST(TfFrontend, KwsGraphIsConvAddBatchNormReluInNchw) {
  std::string path = std::string(DOPT_SOURCE_DIR) + "/../shared/testdata/models/tf/kws_ds_cnn_s.pb";
  TfLoadOptions opt;
  opt.inputs = {{"Mfcc", {1, 49, 10}}};
  opt.outputs = {"labels_softmax"};
  auto g = LoadTfModel(path, opt);
  if (!g.ok() && g.status().message().find("No such file") != std::string::npos) GTEST_SKIP() << g.status().message();
  ASSERT_TRUE(g.ok()) << g.status().message();
  int bns = 0, transposes = 0;
  for (const Node& n : g->nodes) {
    transposes += n.op_type == "Transpose";
    if (n.op_type != "BatchNormalization") continue;
    ++bns;
    const Value& in = g->value(n.inputs[0]);
    ASSERT_GE(in.producer, 0);
    const Node& add = g->nodes[in.producer];
    EXPECT_EQ(add.op_type, "Add") << n.name;
    EXPECT_EQ(in.name, add.name + "/dopt_nchw");
    const Node& conv = g->nodes[g->value(add.inputs[0]).producer];
    EXPECT_EQ(conv.op_type, "Conv") << add.name;
    EXPECT_EQ(g->value(conv.inputs[1]).name.substr(g->value(conv.inputs[1]).name.size() - 10), "/dopt_oihw");
  }
  EXPECT_EQ(bns, 9);
  EXPECT_EQ(transposes, 2);  // into NCHW after the input Reshape, back before the Squeeze
}

TEST(TfFrontend, UnsupportedOpNamesNodeAndOpUnlessCutAway) {
  std::vector<TfNodeSpec> nodes;
  nodes.push_back(TfPlaceholderNode("wav", {16}));
  nodes.push_back({"spectro", "AudioSpectrogram", {"wav"}, {}});
  nodes.push_back({"relu", "Relu", {"spectro"}, {}});
  auto bytes = WriteGraphDef(nodes);
  ASSERT_TRUE(bytes.ok());
  auto g = LoadTfModelFromBytes(*bytes, "kws.pb");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("node 'spectro' (AudioSpectrogram)"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("kws.pb"), std::string::npos);
  // Cut at its output: the op is never converted.
  TfLoadOptions opt;
  opt.inputs = {{"spectro:0", {1, 8}}};
  auto cut = LoadTfModelFromBytes(*bytes, "kws.pb", opt);
  ASSERT_TRUE(cut.ok()) << cut.status().message();
  ASSERT_EQ(cut->inputs.size(), 1u);
  EXPECT_EQ(cut->value(cut->inputs[0]).name, "spectro");
  EXPECT_EQ(cut->value(cut->outputs[0]).shape, (Shape{1, 8}));
}

TEST(TfFrontend, ShapeSubgraphFoldsToConstants) {
  // Reshape(x, Pack(StridedSlice(Shape(x), [0], [1], shrink), -1)) -> [N, 32]
  std::vector<TfNodeSpec> nodes;
  nodes.push_back(TfPlaceholderNode("x", {-1, 4, 4, 2}));
  nodes.push_back({"shape", "Shape", {"x"}, {{"out_type", A::Type(DType::kInt32)}}});
  auto i32 = [](std::vector<int64_t> v) { return Tensor::FromInt64s({(int64_t)v.size()}, v).CastTo(DType::kInt32); };
  nodes.push_back(TfConstNode("b0", i32({0})));
  nodes.push_back(TfConstNode("e1", i32({1})));
  nodes.push_back(TfConstNode("s1", i32({1})));
  nodes.push_back({"batch", "StridedSlice", {"shape", "b0", "e1", "s1"}, {{"shrink_axis_mask", A::Int(1)}}});
  nodes.push_back(TfConstNode("minus1", Tensor::FromInt64s({}, {-1}).CastTo(DType::kInt32)));
  nodes.push_back({"pack", "Pack", {"batch", "minus1"}, {{"axis", A::Int(0)}, {"N", A::Int(2)}}});
  nodes.push_back({"flat", "Reshape", {"x", "pack"}, {}});
  auto bytes = WriteGraphDef(nodes);
  ASSERT_TRUE(bytes.ok());
  TfLoadOptions opt;
  opt.inputs = {{"x", {3, 4, 4, 2}}};
  auto g = LoadTfModelFromBytes(*bytes, "shape.pb", opt);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->value(g->outputs[0]).shape, (Shape{3, 32}));
  const Node* flat = FindNode(*g, "flat");
  ASSERT_TRUE(flat);
  EXPECT_TRUE(g->value(flat->inputs[1]).IsConstant());  // the shape sub-graph folded
  // A wrong shape for a Placeholder with known dims is refused.
  opt.inputs = {{"x", {3, 4, 5, 2}}};
  auto bad = LoadTfModelFromBytes(*bytes, "shape.pb", opt);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("input 'x' is given the shape [3,4,5,2], the model's is [?,4,4,2]"), std::string::npos) << bad.status().message();
}

TEST(TfFrontend, StridedSliceMasksGiveTfShapes) {
  // x[1,4,6,3][..., 1:5:2, tf.newaxis, 2] -> [1,4,2,1]
  std::vector<TfNodeSpec> nodes;
  nodes.push_back(TfPlaceholderNode("x", {1, 4, 6, 3}));
  auto i32 = [](std::vector<int64_t> v) { return Tensor::FromInt64s({(int64_t)v.size()}, v).CastTo(DType::kInt32); };
  nodes.push_back(TfConstNode("b", i32({0, 1, 0, 2})));
  nodes.push_back(TfConstNode("e", i32({0, 5, 0, 3})));
  nodes.push_back(TfConstNode("s", i32({1, 2, 1, 1})));
  nodes.push_back({"ss", "StridedSlice", {"x", "b", "e", "s"},
                   {{"ellipsis_mask", A::Int(1)}, {"new_axis_mask", A::Int(4)}, {"shrink_axis_mask", A::Int(8)}}});
  auto bytes = WriteGraphDef(nodes);
  ASSERT_TRUE(bytes.ok());
  auto g = LoadTfModelFromBytes(*bytes, "ss.pb");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->value(g->outputs[0]).shape, (Shape{1, 4, 2, 1}));
  Tensor x = optest::Random({1, 4, 6, 3}, 1);
  auto res = optest::RunGraph(*g, {{"x", x}});
  const Tensor& y = res.at("ss");
  for (int h = 0; h < 4; ++h)
    for (int j = 0; j < 2; ++j) EXPECT_EQ(y.data<float>()[h * 2 + j], x.data<float>()[(h * 6 + 1 + 2 * j) * 3 + 2]);
}

// Writes `nodes` as a GraphDef and expects loading it to fail with a message containing `needle`.
void ExpectLoadError(const std::vector<TfNodeSpec>& nodes, const std::string& needle) {
  auto bytes = WriteGraphDef(nodes);
  ASSERT_TRUE(bytes.ok());
  auto g = LoadTfModelFromBytes(*bytes, "bad.pb");
  ASSERT_FALSE(g.ok()) << needle;
  EXPECT_NE(g.status().message().find(needle), std::string::npos) << g.status().message();
}

TEST(TfFrontend, MalformedGraphsAreErrorsNotCrashes) {
  // Random bytes.
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    std::string s(rng() % 64, '\0');
    for (char& c : s) c = (char)(rng() & 0xff);
    auto g = LoadTfModelFromBytes(s, "random.pb");
    if (!g.ok()) {
      EXPECT_EQ(g.status().message().rfind("random.pb", 0), 0u) << g.status().message();
    }
  }
  auto expect_error = ExpectLoadError;
  // A cycle.
  expect_error({TfPlaceholderNode("x", {2}), {"a", "Add", {"x", "b"}, {}}, {"b", "Relu", {"a"}, {}},
                {"out", "Relu", {"b"}, {}}},
               "cycle");
  // An input that is no node.
  expect_error({TfPlaceholderNode("x", {2}), {"out", "Relu", {"nowhere"}, {}}}, "input 'nowhere'");
  // Filter with the wrong rank.
  expect_error({TfPlaceholderNode("x", {1, 4, 4, 3}), TfConstNode("w", Seq({3, 3})),
                {"conv", "Conv2D", {"x", "w"}, {{"strides", A::Ints({1, 1, 1, 1})}, {"padding", A::Str("VALID")}}}},
               "node 'conv' (Conv2D)");
  // Two nodes with one name.
  expect_error({TfPlaceholderNode("x", {2}), {"x", "Relu", {"x"}, {}}}, "two nodes are named 'x'");
}

TEST(TfFrontend, TensorContentSizeMismatchAndHugeShapesAreErrors) {
  // A Const whose tensor_content does not match its shape: write a good one, then patch dims.
  TfNodeSpec c = TfConstNode("c", Seq({2, 3}));
  auto bytes = WriteGraphDef({c, {"out", "Relu", {"c"}, {}}});
  ASSERT_TRUE(bytes.ok());
  // Shape attr [2,3] is encoded as dims 2 and 3: change 3 -> 4 (size field of the 2nd dim).
  std::string b = *bytes;
  const std::string dim3("\x12\x02\x08\x03", 4), dim4("\x12\x02\x08\x04", 4);
  size_t at = b.find(dim3);
  ASSERT_NE(at, std::string::npos);
  b.replace(at, 4, dim4);
  auto g = LoadTfModelFromBytes(b, "bad.pb");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("tensor_content holds 24 bytes"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("node 'c' (Const)"), std::string::npos);
  // A huge declared shape with a single broadcast value.
  b = *bytes;
  const std::string huge("\x12\x06\x08\xff\xff\xff\xff\x0f", 8);  // 2^32-1
  b.replace(b.find(dim3), 4, huge);
  // The outer length prefixes no longer match: either a parse error or a clean error.
  g = LoadTfModelFromBytes(b, "bad.pb");
  EXPECT_FALSE(g.ok());
}

TEST(TfFrontend, MutatedRealGraphsNeverCrash) {
  std::string path = std::string(DOPT_SOURCE_DIR) + "/../shared/testdata/models/tf/kws_ds_cnn_s.pb";
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) GTEST_SKIP() << path << " missing";
  std::string bytes;
  char buf[65536];
  for (size_t k; (k = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, k);
  std::fclose(f);
  TfLoadOptions opt;
  opt.inputs = {{"Mfcc", {1, 49, 10}}};
  std::mt19937 rng(11);
  int loaded = 0;
  for (int i = 0; i < 300; ++i) {
    std::string b = bytes;
    const int flips = 1 + (int)(rng() % 4);
    for (int k = 0; k < flips; ++k) b[rng() % b.size()] ^= (char)(1u << (rng() % 8));
    if (rng() % 5 == 0) b.resize(rng() % b.size());
    auto g = LoadTfModelFromBytes(b, "mutated.pb", opt);
    if (g.ok()) {
      ++loaded;
      EXPECT_FALSE(g->outputs.empty());
    } else {
      EXPECT_EQ(g.status().message().rfind("mutated.pb", 0), 0u) << g.status().message();
    }
  }
  EXPECT_GT(loaded, 0);  // most flips land in weights: those graphs still load
}

TEST(TfFrontend, InvalidUtf8NamesLoadWithoutProtobufLogging) {
  // TF's protos are proto3 (string fields must be UTF-8); dopt reads them as proto2 so that a
  // malformed name never makes protobuf print to stderr (the CLI prints one line).
  auto bytes = WriteGraphDef({TfPlaceholderNode("x\xff", {2}), {"out\xfe", "Relu", {"x\xff"}, {}}});
  ASSERT_TRUE(bytes.ok());
  testing::internal::CaptureStderr();
  auto g = LoadTfModelFromBytes(*bytes, "utf8.pb");
  std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(err, "");
  EXPECT_EQ(g->value(g->outputs[0]).name, "out\xfe");
}

TEST(TfFrontend, PlaceholderWithDefaultIsItsDefaultUnlessCut) {
  std::vector<TfNodeSpec> nodes;
  nodes.push_back(TfPlaceholderNode("x", {2}));
  nodes.push_back(TfConstNode("one", Tensor::FromFloats({2}, {1.f, 2.f})));
  nodes.push_back({"scale", "PlaceholderWithDefault", {"one"}, {{"shape", A::ShapeOf({2})}}});
  nodes.push_back({"out", "Mul", {"x", "scale"}, {}});
  auto bytes = WriteGraphDef(nodes);
  ASSERT_TRUE(bytes.ok());
  auto g = LoadTfModelFromBytes(*bytes, "pwd.pb");
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_EQ(g->inputs.size(), 1u);
  auto y = optest::RunGraph(*g, {{"x", Tensor::FromFloats({2}, {3.f, 4.f})}}).at("out");
  EXPECT_EQ(y.data<float>()[0], 3.f);
  EXPECT_EQ(y.data<float>()[1], 8.f);
  TfLoadOptions opt;
  opt.inputs = {{"scale", {2}}};
  auto cut = LoadTfModelFromBytes(*bytes, "pwd.pb", opt);
  ASSERT_TRUE(cut.ok()) << cut.status().message();
  EXPECT_EQ(cut->inputs.size(), 2u);
  y = optest::RunGraph(*cut, {{"x", Tensor::FromFloats({2}, {3.f, 4.f})}, {"scale", Tensor::FromFloats({2}, {0.5f, 0.f})}}).at("out");
  EXPECT_EQ(y.data<float>()[0], 1.5f);
  EXPECT_EQ(y.data<float>()[1], 0.f);
}

// MirrorPad: REFLECT leaves the edge out, SYMMETRIC repeats it (worked out by hand).
TEST(TfFrontend, MirrorPadReflectAndSymmetric) {
  for (const char* mode : {"REFLECT", "SYMMETRIC"}) {
    SCOPED_TRACE(mode);
    std::vector<TfNodeSpec> nodes;
    nodes.push_back(TfPlaceholderNode("x", {1, 3}));
    Tensor pads(DType::kInt32, {2, 2});
    const int32_t pv[4] = {0, 0, 2, 1};
    for (int i = 0; i < 4; ++i) pads.data<int32_t>()[i] = pv[i];
    nodes.push_back(TfConstNode("pads", pads));
    nodes.push_back({"out", "MirrorPad", {"x", "pads"}, {{"T", A::Type(DType::kFloat32)}, {"mode", A::Str(mode)}}});
    auto bytes = WriteGraphDef(nodes);
    ASSERT_TRUE(bytes.ok());
    auto g = LoadTfModelFromBytes(*bytes, "pad.pb");
    ASSERT_TRUE(g.ok()) << g.status().message();
    auto y = optest::RunGraph(*g, {{"x", Tensor::FromFloats({1, 3}, {1.f, 2.f, 3.f})}}).at("out");
    const std::vector<float> want = std::string(mode) == "REFLECT" ? std::vector<float>{3, 2, 1, 2, 3, 2}
                                                                   : std::vector<float>{2, 1, 1, 2, 3, 3};
    ASSERT_EQ(y.shape(), (Shape{1, 6}));
    for (int i = 0; i < 6; ++i) EXPECT_EQ(y.data<float>()[i], want[i]) << i;
  }
}

// Fuzz finding: a node named like an output reference ("x:1") made the output search look up
// node "x" (std::out_of_range). Such names are an error naming the node.
TEST(TfFrontend, NodeNameWithOutputSuffixIsAnError) {
  ExpectLoadError({TfPlaceholderNode("x", {2}), {"y:1", "Identity", {"x"}, {}}},
                  "'y:1', which is not a valid TensorFlow node name");
}

// Found by review after the npy finding (std::stoi on file data): an output index past INT_MAX
// in a NodeDef input threw std::out_of_range from the TF exporter's graph editing (which reads
// every node's inputs, also those the IR never converted). It saturates; the frontend reports
// such a reference as a tensor that does not exist.
TEST(TfFrontend, OutputIndexPastIntMaxSaturatesAndIsAnError) {
  TfTensorRef r = ParseTfInput("x:99999999999");
  EXPECT_EQ(r.node, "x");
  EXPECT_EQ(r.index, INT_MAX);
  EXPECT_FALSE(r.control);
  EXPECT_EQ(ParseTfInput("x:0002").index, 2);
  EXPECT_EQ(ParseTfInput("a:b:3").node, "a:b");
  EXPECT_EQ(ParseTfInput("^c").control, true);
  ExpectLoadError({TfPlaceholderNode("x", {2}), {"y", "Relu", {"x:99999999999"}, {}}}, "x:99999999999");
}

TEST(TfFrontend, UnknownFieldsSurviveSerialize) {
  auto bytes = WriteGraphDef({TfPlaceholderNode("x", {2}), {"out", "Relu", {"x"}, {}}});
  ASSERT_TRUE(bytes.ok());
  // GraphDef.library (field 2) holding a function with an unknown field 100, and field 99:
  // appended messages merge.
  const std::string library("\x12\x05\x0a\x03\xa2\x06\x00", 7), f99("\x9a\x06\x03xyz", 6);
  std::string b = *bytes + library + f99;
  auto g = LoadTfModelFromBytes(b, "u.pb");
  ASSERT_TRUE(g.ok()) << g.status().message();
  auto out = SerializeTfGraphDef(*g);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_NE(out->find(library), std::string::npos);
  EXPECT_NE(out->find(f99), std::string::npos);
  EXPECT_EQ(out->size(), b.size());
}

// ---- function calls (TF2 frozen graphs): inlined into plain nodes ----

TfNodeSpec TypedNode(std::string name, std::string op, std::vector<std::string> in) {
  return {std::move(name), std::move(op), std::move(in), {{"T", A::Type(DType::kFloat32)}}};
}
TfNodeSpec CallNode(std::string name, const std::string& f, std::vector<std::string> in, int n_out) {
  std::vector<DType> tin(in.size(), DType::kFloat32), tout(n_out, DType::kFloat32);
  return {std::move(name), "PartitionedCall", std::move(in),
          {{"f", A::Func(f)}, {"Tin", A::Types(tin)}, {"Tout", A::Types(tout)}}};
}

std::vector<float> Floats(const Tensor& t) { return std::vector<float>(t.data<float>(), t.data<float>() + t.numel()); }

std::vector<TfFunctionSpec> Library() {
  const DType f32 = DType::kFloat32;
  TfFunctionSpec inner{"inner", {{"a", f32}}, {{"r", f32}}, {TypedNode("relu", "Relu", {"a"})}, {{"r", "relu:activations:0"}}};
  // outer(a, b) = (relu(relu(a + b) * b), relu(a + b)), calling inner by op name and by
  // PartitionedCall; "sp:output:1" is output 1 of a Split.
  TfFunctionSpec outer{"outer", {{"a", f32}, {"b", f32}}, {{"r1", f32}, {"r2", f32}}, {}, {}};
  outer.nodes.push_back(TypedNode("s", "AddV2", {"a", "b:0"}));
  outer.nodes.push_back({"direct", "inner", {"s:z:0", "^s"}, {}});
  outer.nodes.push_back(TypedNode("m", "Mul", {"direct:r:0", "b"}));
  outer.nodes.push_back(CallNode("pc", "inner", {"m:z:0"}, 1));
  TfNodeSpec ax = TfConstNode("ax", Tensor::FromInt64s({}, {0}));
  outer.nodes.push_back(ax);
  outer.nodes.push_back({"cat", "ConcatV2", {"direct:r:0", "direct:r:0", "ax:output:0"},
                         {{"T", A::Type(f32)}, {"N", A::Int(2)}}});
  outer.nodes.push_back({"sp", "Split", {"ax:output:0", "cat:output:0"}, {{"T", A::Type(f32)}, {"num_split", A::Int(2)}}});
  outer.ret = {{"r1", "pc:output:0"}, {"r2", "sp:output:1"}};
  return {inner, outer};
}

TEST(TfFrontend, FunctionCallsAreInlinedWithTheirNames) {
  std::vector<TfNodeSpec> nodes = {TfPlaceholderNode("x", {2}), TfConstNode("y", Tensor::FromFloats({2}, {2.f, -1.f})),
                                   CallNode("c", "outer", {"x", "y", "^x"}, 2), TypedNode("out", "AddV2", {"c", "c:1"})};
  auto bytes = WriteGraphDef(nodes, 1000, Library());
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto g = LoadTfModelFromBytes(*bytes, "f.pb");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_NE(FindNode(*g, "c/pc/relu"), nullptr);  // nested prefixes
  EXPECT_NE(FindNode(*g, "c/direct/relu"), nullptr);
  EXPECT_GE(g->FindValue("c:1"), 0);  // the call's outputs keep its name
  auto y = optest::RunGraph(*g, {{"x", Tensor::FromFloats({2}, {1.f, 3.f})}}).at("out");
  // x + y = {3, 2}; relu = {3, 2}; * y = {6, -2}; relu = {6, 0}; + {3, 2} = {9, 2}.
  EXPECT_EQ(Floats(y), (std::vector<float>{9.f, 2.f}));
  // The flat graph is the source the writer edits: no call left in it, the library kept.
  auto flat = SerializeTfGraphDef(*g);
  ASSERT_TRUE(flat.ok());
  EXPECT_EQ(flat->find("PartitionedCall\x2a"), std::string::npos);
  auto again = LoadTfModelFromBytes(*flat, "flat.pb");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(Floats(optest::RunGraph(*again, {{"x", Tensor::FromFloats({2}, {1.f, 3.f})}}).at("out")),
            (std::vector<float>{9.f, 2.f}));
}

TEST(TfFrontend, FunctionCallErrorsNameNodeAndFunction) {
  auto load = [](const std::string& f, std::vector<TfFunctionSpec> lib, std::vector<std::string> outs = {}) {
    std::vector<TfNodeSpec> nodes = {TfPlaceholderNode("x", {2}), CallNode("c", f, {"x"}, 1),
                                     TypedNode("out", "Relu", {"c"}), TypedNode("other", "Relu", {"x"})};
    auto bytes = WriteGraphDef(nodes, 1000, lib);
    EXPECT_TRUE(bytes.ok());
    TfLoadOptions o;
    for (auto& s : outs) o.outputs.push_back(s);
    return LoadTfModelFromBytes(*bytes, "e.pb", o);
  };
  const DType f32 = DType::kFloat32;
  auto missing = load("nope", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(
                "node 'c' (PartitionedCall): calls function 'nope', which is not in the graph's function library"),
            std::string::npos)
      << missing.status().message();
  // Not on the path to the chosen outputs: no error.
  EXPECT_TRUE(load("nope", {}, {"other"}).ok());
  TfFunctionSpec rec{"f", {{"a", f32}}, {{"r", f32}}, {CallNode("again", "g", {"a"}, 1)}, {{"r", "again:output:0"}}};
  TfFunctionSpec rec2{"g", {{"a", f32}}, {{"r", f32}}, {CallNode("back", "f", {"a"}, 1)}, {{"r", "back:output:0"}}};
  auto r = load("f", {rec, rec2});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("node 'c/again/back' (PartitionedCall): function 'f' calls itself ('f' -> 'g' -> 'f')"),
            std::string::npos)
      << r.status().message();
  TfFunctionSpec bad{"f", {{"a", f32}}, {{"r", f32}}, {TypedNode("cp", "Cumprod", {"a"})}, {{"r", "cp:out:0"}}};
  auto u = load("f", {bad});
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("node 'c/cp' (Cumprod) (in function 'f' called by node 'c')"), std::string::npos)
      << u.status().message();
  TfFunctionSpec dangling{"f", {{"a", f32}}, {{"r", f32}}, {TypedNode("n", "Relu", {"zz:y:0"})}, {{"r", "n:y:0"}}};
  auto d = load("f", {dangling});
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("input 'zz:y:0' names no node of the function"), std::string::npos)
      << d.status().message();
}

// f0 = relu; f_i(a) = f_{i-1}(a) + f_{i-1}(a): a call of f_40 would copy 2^40 bodies. Refused
// before anything is copied.
TEST(TfFrontend, FunctionCallBlowUpIsBounded) {
  const DType f32 = DType::kFloat32;
  std::vector<TfFunctionSpec> lib = {{"f0", {{"a", f32}}, {{"r", f32}}, {TypedNode("relu", "Relu", {"a"})}, {{"r", "relu:activations:0"}}}};
  for (int i = 1; i <= 40; ++i) {
    const std::string prev = "f" + std::to_string(i - 1);
    lib.push_back({"f" + std::to_string(i), {{"a", f32}}, {{"r", f32}},
                   {CallNode("c1", prev, {"a"}, 1), CallNode("c2", prev, {"a"}, 1),
                    TypedNode("sum", "AddV2", {"c1:output:0", "c2:output:0"})},
                   {{"r", "sum:z:0"}}});
  }
  std::vector<TfNodeSpec> nodes = {TfPlaceholderNode("x", {2}), CallNode("c", "f40", {"x"}, 1), TypedNode("out", "Relu", {"c"})};
  auto bytes = WriteGraphDef(nodes, 1000, lib);
  ASSERT_TRUE(bytes.ok());
  auto g = LoadTfModelFromBytes(*bytes, "big.pb");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("node 'c' (PartitionedCall): the graph has over 1048576 nodes"), std::string::npos)
      << g.status().message();
  // Four levels (16 relus) inline and run: out = relu(16 relu(x)).
  nodes[1] = CallNode("c", "f4", {"x"}, 1);
  bytes = WriteGraphDef(nodes, 1000, lib);
  ASSERT_TRUE(bytes.ok());
  g = LoadTfModelFromBytes(*bytes, "small.pb");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(Floats(optest::RunGraph(*g, {{"x", Tensor::FromFloats({2}, {-1.f, 0.5f})}}).at("out")),
            (std::vector<float>{0.f, 8.f}));
}

}  // namespace
}  // namespace dopt
