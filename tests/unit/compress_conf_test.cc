// compress_conf: serialize -> parse gives the same plan; bad files are rejected by name;
// the text and JSON views show every op.
#include <gtest/gtest.h>

#include "quant/compress_conf.h"

namespace dopt {
namespace {

bool Same(const TensorQuant& a, const TensorQuant& b) {
  return a.tensor == b.tensor && a.bits == b.bits && a.symmetric == b.symmetric && a.axis == b.axis &&
         a.scales == b.scales && a.zero_points == b.zero_points && a.range_min == b.range_min &&
         a.range_max == b.range_max;
}

QuantPlan Sample() {
  QuantPlan p;
  p.tool_version = "dopt 0.1.0";
  p.strategy = "Quant_INT8-8";
  p.framework = 5;
  p.source_model = "m.onnx";
  p.source_sha256 = std::string(64, 'a');
  p.calibration_method = "kl";
  p.calibration_samples = 100;
  p.per_channel = true;
  p.symmetric_activations = false;
  QuantizedOp op;
  op.node = "conv1";
  op.op_type = "Conv";
  op.input = {"data \"0\"", 8, false, -1, {0.0123f}, {-5}, -1.5f, 3.25f};
  op.weight = {"conv1_w", 8, true, 0, {0.1f, 0.2f, 1e-8f}, {0, 0, 0}, 0, 0};
  op.has_bias = true;
  op.bias = {"conv1_b", 32, true, 0, {0.00123f, 0.00246f, 1.23e-10f}, {0, 0, 0}, 0, 0};
  p.ops.push_back(op);
  QuantizedOp mm;
  mm.node = "fc";
  mm.op_type = "MatMul";
  mm.weight_input_index = 0;
  mm.input = {"h", 16, true, -1, {0.5f}, {0}, -16000.f, 16000.f};
  mm.weight = {"W", 8, true, -1, {0.25f}, {0}, 0, 0};
  p.ops.push_back(mm);
  p.excluded.push_back({"prob", "Softmax", "not a quantizable op"});
  p.excluded.push_back({"conv9", "Conv", "exclude_op in the config"});
  return p;
}

TEST(CompressConf, RoundTrip) {
  QuantPlan p = Sample();
  auto bytes = SerializeCompressConf(p);
  ASSERT_TRUE(bytes.ok());
  auto q = ParseCompressConf(*bytes, "param");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->tool_version, p.tool_version);
  EXPECT_EQ(q->strategy, p.strategy);
  EXPECT_EQ(q->framework, p.framework);
  EXPECT_EQ(q->source_model, p.source_model);
  EXPECT_EQ(q->source_sha256, p.source_sha256);
  EXPECT_EQ(q->calibration_method, p.calibration_method);
  EXPECT_EQ(q->calibration_samples, p.calibration_samples);
  EXPECT_EQ(q->activation_bits, p.activation_bits);
  EXPECT_EQ(q->weight_bits, p.weight_bits);
  EXPECT_EQ(q->per_channel, p.per_channel);
  EXPECT_EQ(q->symmetric_activations, p.symmetric_activations);
  ASSERT_EQ(q->ops.size(), p.ops.size());
  for (size_t i = 0; i < p.ops.size(); ++i) {
    EXPECT_EQ(q->ops[i].node, p.ops[i].node);
    EXPECT_EQ(q->ops[i].op_type, p.ops[i].op_type);
    EXPECT_EQ(q->ops[i].weight_input_index, p.ops[i].weight_input_index);
    EXPECT_EQ(q->ops[i].has_bias, p.ops[i].has_bias);
    EXPECT_TRUE(Same(q->ops[i].input, p.ops[i].input)) << i;
    EXPECT_TRUE(Same(q->ops[i].weight, p.ops[i].weight)) << i;
    if (p.ops[i].has_bias) {
      EXPECT_TRUE(Same(q->ops[i].bias, p.ops[i].bias)) << i;
    }
  }
  ASSERT_EQ(q->excluded.size(), 2u);
  EXPECT_EQ(q->excluded[1].node, "conv9");
  EXPECT_EQ(q->excluded[1].op_type, "Conv");
  EXPECT_EQ(q->excluded[1].reason, "exclude_op in the config");
  // Serialising again gives the same bytes.
  EXPECT_EQ(*SerializeCompressConf(*q), *bytes);
}

TEST(CompressConf, SmoothingRoundTripsAndIsChecked) {
  QuantPlan p = Sample();
  p.smooth_quant_alpha = 0.5f;
  p.smoothing.push_back({"ln_out", {0.5f, 2.f, 1e-5f}, {"q_proj", "k_proj"}});
  auto bytes = SerializeCompressConf(p);
  ASSERT_TRUE(bytes.ok());
  auto q = ParseCompressConf(*bytes, "param");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->smooth_quant_alpha, 0.5f);
  ASSERT_EQ(q->smoothing.size(), 1u);
  EXPECT_EQ(q->smoothing[0].tensor, "ln_out");
  EXPECT_EQ(q->smoothing[0].scale, p.smoothing[0].scale);
  EXPECT_EQ(q->smoothing[0].ops, p.smoothing[0].ops);
  EXPECT_EQ(*SerializeCompressConf(*q), *bytes);
  EXPECT_NE(CompressConfToText(p, false).find("smooth_quant_alpha=0.5 (1 activation(s) smoothed)"), std::string::npos);
  // Version 2: a version-1 reader would pair the smoothed scales with unsmoothed weights.
  EXPECT_NE(CompressConfToText(p, true).find("\"format_version\": 2,"), std::string::npos);
  EXPECT_NE(CompressConfToText(Sample(), true).find("\"format_version\": 1,"), std::string::npos);
  EXPECT_NE(CompressConfToText(p, true).find("\"ops\": [\"q_proj\", \"k_proj\"]"), std::string::npos);
  // Off: no alpha, and JSON says null.
  EXPECT_LT(ParseCompressConf(*SerializeCompressConf(Sample()), "param")->smooth_quant_alpha, 0.f);
  EXPECT_NE(CompressConfToText(Sample(), true).find("\"smooth_quant_alpha\": null"), std::string::npos);
  // A factor that is not positive is refused by name.
  p.smoothing[0].scale[1] = 0.f;
  auto bad = ParseCompressConf(*SerializeCompressConf(p), "param");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "param: smoothing of 'ln_out': a factor is not positive and finite");
}

TEST(CompressConf, ActivationOnlyOpsHaveNoWeight) {
  QuantPlan p = Sample();
  QuantizedOp sm;
  sm.node = "softmax";
  sm.op_type = "Softmax";
  sm.activation_only = true;
  sm.weight_input_index = -1;
  sm.input = {"scores", 8, false, -1, {0.01f}, {3}, -1.f, 1.5f};
  p.ops.push_back(sm);
  auto bytes = SerializeCompressConf(p);
  ASSERT_TRUE(bytes.ok());
  auto q = ParseCompressConf(*bytes, "param");
  ASSERT_TRUE(q.ok()) << q.status().message();
  ASSERT_EQ(q->ops.size(), 3u);
  EXPECT_TRUE(q->ops[2].activation_only);
  EXPECT_TRUE(Same(q->ops[2].input, sm.input));
  EXPECT_TRUE(q->ops[2].weight.tensor.empty());
  EXPECT_FALSE(q->ops[0].activation_only);
  EXPECT_EQ(*SerializeCompressConf(*q), *bytes);
  EXPECT_NE(CompressConfToText(p, false).find("(input 0 only: no weight)"), std::string::npos);
  EXPECT_NE(CompressConfToText(p, true).find("\"activation_only\": true"), std::string::npos);
  EXPECT_NE(CompressConfToText(p, true).find("\"format_version\": 2,"), std::string::npos);
}

TEST(CompressConf, RejectsOtherFiles) {
  for (std::string bad : {std::string(), std::string("hello"), std::string("\x08\x01", 2)}) {
    auto q = ParseCompressConf(bad, "f.bin");
    ASSERT_FALSE(q.ok());
    EXPECT_EQ(q.status().message(), "f.bin: not a compress_conf file (a binary dopt.compress_conf protobuf)");
  }
  EXPECT_FALSE(ReadCompressConf("/nonexistent/param").ok());
}

TEST(CompressConf, TextAndJson) {
  QuantPlan p = Sample();
  std::string text = CompressConfToText(p, false);
  EXPECT_NE(text.find("strategy:     Quant_INT8-8"), std::string::npos) << text;
  EXPECT_NE(text.find("[1] conv1 (Conv)"), std::string::npos) << text;
  EXPECT_NE(text.find("scale 0.0123"), std::string::npos) << text;
  EXPECT_NE(text.find("3 channel(s) along axis 0"), std::string::npos) << text;
  EXPECT_NE(text.find("prob (Softmax): not a quantizable op"), std::string::npos) << text;
  std::string json = CompressConfToText(p, true);
  EXPECT_NE(json.find("\"tensor\": \"data \\\"0\\\"\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"scales\": [0.100000001, 0.200000003, 9.99999994e-09]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"reason\": \"exclude_op in the config\""), std::string::npos) << json;
  EXPECT_EQ(json.back(), '\n');
}

}  // namespace
}  // namespace dopt
