// An ONNX model read from a file does not hold its bytes after loading (ModelInfo::source_file):
// the writer reads the file again, writes exactly what it would have written from held bytes,
// and refuses when the file changed in between.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "common/file_util.h"
#include "frontends/onnx/onnx_frontend.h"

namespace dopt {
namespace {

class OnnxSourceFile : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bytes = ReadFileToString(std::string(DOPT_SOURCE_DIR) + "/examples/mnist_cnn.onnx");
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    bytes_ = *bytes;
    char tmpl[] = "/tmp/dopt_source_file_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/m.onnx";
    Write(bytes_);
  }
  void TearDown() override {
    std::remove(path_.c_str());
    rmdir(dir_.c_str());
  }
  void Write(const std::string& b) {
    std::ofstream f(path_, std::ios::binary | std::ios::trunc);
    f << b;
  }
  std::string bytes_, dir_, path_;
};

TEST_F(OnnxSourceFile, BytesAreReleasedAndTheOutputIsTheSame) {
  auto from_file = LoadOnnxModel(path_);
  ASSERT_TRUE(from_file.ok()) << from_file.status().message();
  EXPECT_EQ(from_file->info.source_bytes, nullptr);
  ASSERT_TRUE(from_file->info.source_file.has_value());
  EXPECT_EQ(from_file->info.source_file->size, (int64_t)bytes_.size());
  auto held = LoadOnnxModelFromBytes(bytes_, path_, dir_);
  ASSERT_TRUE(held.ok()) << held.status().message();
  ASSERT_NE(held->info.source_bytes, nullptr);
  auto a = SerializeOnnxModel(*from_file);
  auto b = SerializeOnnxModel(*held);
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(*a, *b);
  // A copy of the graph (the quantizer's analysis copies) reads the file again too.
  Graph copy = *from_file;
  auto c = SerializeOnnxModel(copy);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(*a, *c);
}

TEST_F(OnnxSourceFile, AChangedFileIsAnErrorNotAMixedModel) {
  const std::string want = path_ + ": the model file changed while dopt ran";
  for (int change = 0; change < 3; ++change) {
    Write(bytes_);
    auto g = LoadOnnxModel(path_);
    ASSERT_TRUE(g.ok()) << g.status().message();
    if (change == 0) {
      Write(bytes_ + "x");  // grown
    } else if (change == 1) {
      struct timespec times[2] = {{0, UTIME_OMIT}, {1000000, 0}};  // same bytes, another modification time
      ASSERT_EQ(utimensat(AT_FDCWD, path_.c_str(), times, 0), 0);
    } else {
      std::remove(path_.c_str());
    }
    auto out = SerializeOnnxModel(*g);
    ASSERT_FALSE(out.ok()) << "change " << change;
    EXPECT_EQ(out.status().message().rfind(want, 0), 0u) << out.status().message();
  }
}

}  // namespace
}  // namespace dopt
