// config.prototxt parsing: comments, the seed examples, defaults, enums, errors.
#include <gtest/gtest.h>

#include "data/calib_config.h"

namespace dopt {
namespace {

const std::string kSeedDir = std::string(DOPT_SOURCE_DIR) + "/../shared/testdata/configs/";

TEST(DataConfig, StripCommentsKeepsSlashesInStrings) {
  std::string in = "a: \"x//y\" // gone\n// whole line\nb: 'p//q' # hash // kept\n";
  std::string out = StripLineComments(in);
  EXPECT_EQ(out.size(), in.size());
  EXPECT_NE(out.find("\"x//y\""), std::string::npos);
  EXPECT_NE(out.find("'p//q'"), std::string::npos);
  EXPECT_EQ(out.find("gone"), std::string::npos);
  EXPECT_EQ(out.find("whole line"), std::string::npos);
  EXPECT_NE(out.find("# hash // kept"), std::string::npos);
}

TEST(DataConfig, StripCommentsEscapedQuote) {
  std::string out = StripLineComments("p: \"a\\\"//b\" // c\n");
  EXPECT_NE(out.find("a\\\"//b\""), std::string::npos);
  EXPECT_EQ(out.find(" c"), std::string::npos);
}

TEST(DataConfig, SeedImageExampleParsesAsWritten) {
  auto cfg = LoadCalibConfig(kSeedDir + "seed_image_example.prototxt");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_EQ(cfg->strategy, "Quant_INT8-8");
  EXPECT_TRUE(cfg->use_gpu);
  ASSERT_EQ(cfg->inputs.size(), 2u);
  EXPECT_EQ(cfg->inputs[0].input_type, CalibInputType::kImage);
  EXPECT_EQ(cfg->inputs[0].image_format, ColorOrder::kBGR);
  EXPECT_EQ(cfg->inputs[0].mean_value, (std::vector<float>{104, 113, 123}));
  EXPECT_EQ(cfg->inputs[0].standard_deviation, (std::vector<float>{0.5f}));
  EXPECT_EQ(cfg->inputs[1].input_file_path, "path/to/user/images2/");
  // Relative paths resolve against the config's folder.
  EXPECT_EQ(cfg->inputs[1].resolved_path.find(std::string(DOPT_SOURCE_DIR).substr(0, 1)), 0u);
  EXPECT_NE(cfg->inputs[1].resolved_path.find("/testdata/configs/path/to/user/images2/"), std::string::npos);
  EXPECT_EQ(cfg->exclude_ops, (std::vector<std::string>{"conv1", "conv2", "conv3"}));
}

TEST(DataConfig, SeedBinaryExampleParsesAsWritten) {
  auto cfg = LoadCalibConfig(kSeedDir + "seed_binary_example.prototxt");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  ASSERT_EQ(cfg->inputs.size(), 2u);
  EXPECT_EQ(cfg->inputs[0].input_type, CalibInputType::kBinary);
  EXPECT_EQ(cfg->inputs[1].input_file_path, "path/to/user/bin/caffe_inception_calibrationset2.bin");
  EXPECT_EQ(cfg->exclude_ops, (std::vector<std::string>{"conv1", "conv2", "conv3"}));
}

TEST(DataConfig, Defaults) {
  auto cfg = ParseCalibConfig("preprocess_parameter { input_file_path: \"/data\" }", "/tmp/c.prototxt");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_EQ(cfg->strategy, "Quant_INT8-8");
  EXPECT_EQ(cfg->activation_bits, 8);
  EXPECT_FALSE(cfg->use_gpu);
  EXPECT_EQ(cfg->inputs[0].input_type, CalibInputType::kImage);
  EXPECT_EQ(cfg->inputs[0].image_format, ColorOrder::kBGR);
  EXPECT_TRUE(cfg->inputs[0].mean_value.empty());
  EXPECT_EQ(cfg->inputs[0].resolved_path, "/data");
}

TEST(DataConfig, Int16Strategy) {
  auto cfg = ParseCalibConfig("strategy: \"Quant_INT16-8\"\npreprocess_parameter: { input_file_path: \"d\" image_format: RGB }",
                              "/x/y/c.prototxt");
  ASSERT_TRUE(cfg.ok()) << cfg.status().message();
  EXPECT_EQ(cfg->activation_bits, 16);
  EXPECT_EQ(cfg->weight_bits, 8);
  EXPECT_EQ(cfg->inputs[0].image_format, ColorOrder::kRGB);
  EXPECT_EQ(cfg->inputs[0].resolved_path, "/x/y/d");
}

TEST(DataConfig, UnknownStrategyListsSupported) {
  auto cfg = ParseCalibConfig("strategy: \"Quant_INT4-4\" preprocess_parameter { input_file_path: \"d\" }", "/c");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.status().message().find("Quant_INT8-8, Quant_INT16-8"), std::string::npos) << cfg.status().message();
}

TEST(DataConfig, SyntaxErrorHasLineAndColumn) {
  auto cfg = ParseCalibConfig("strategy: \"Quant_INT8-8\"\n// c\ndevice: USE_TPU\n", "/c.prototxt");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.status().message().find("/c.prototxt:3:9:"), std::string::npos) << cfg.status().message();
  EXPECT_NE(cfg.status().message().find("USE_TPU"), std::string::npos) << cfg.status().message();
}

TEST(DataConfig, UnknownFieldAndMissingPath) {
  auto a = ParseCalibConfig("preprocess_parameter { input_file_path: \"d\" mean: 1 }", "/c");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("mean"), std::string::npos);
  auto b = ParseCalibConfig("preprocess_parameter { input_type: BINARY }", "/c");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("input_file_path"), std::string::npos) << b.status().message();
  auto c = ParseCalibConfig("strategy: \"Quant_INT8-8\"", "/c");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("no preprocess_parameter"), std::string::npos);
}

TEST(DataConfig, MeanAndStdRanges) {
  auto a = ParseCalibConfig("preprocess_parameter { input_file_path: \"d\" mean_value: 300 }", "/c");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("outside 0 to 255"), std::string::npos);
  auto b = ParseCalibConfig("preprocess_parameter { input_file_path: \"d\" standard_deviation: -1 }", "/c");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find(">= 0"), std::string::npos);
}

TEST(DataConfig, AbsolutePathNormalises) {
  EXPECT_EQ(AbsolutePath("/a/./b/../c"), "/a/c");
  EXPECT_EQ(AbsolutePath("/a/b/"), "/a/b/");
  EXPECT_EQ(AbsolutePath("/"), "/");
}

}  // namespace
}  // namespace dopt

namespace dopt {
namespace {
TEST(DataConfig, SyntaxErrorPositions) {
  auto a = ParseCalibConfig("preprocess_parameter {\n  input_file_path \"x\"\n}\n", "/c.prototxt");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("/c.prototxt:2:"), std::string::npos) << a.status().message();
  auto b = ParseCalibConfig("preprocess_parameter {\n  input_file_path: \"x\"\n", "/c.prototxt");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("/c.prototxt:"), std::string::npos) << b.status().message();
  // The colon-before-brace form of the original examples.
  EXPECT_TRUE(ParseCalibConfig("preprocess_parameter:\n{\n input_file_path: \"x\"\n}\n", "/c").ok());
}
}  // namespace
}  // namespace dopt
