// Replays every committed fuzz finding (tests/data/fuzz_regressions/<target>/*) through the
// same code as the libFuzzer target in fuzz/<target>_fuzzer.cc. Under the ASan + UBSan build
// (scripts/sanitize.sh) a regression is a sanitizer report; in any build a crash or a broken
// invariant (DOPT_FUZZ_CHECK) aborts the test.
#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/file_util.h"

#define DOPT_FUZZ_REPLAY
#include "../../fuzz/bin_file_fuzzer.cc"
#include "../../fuzz/calib_config_fuzzer.cc"
#include "../../fuzz/compress_conf_fuzzer.cc"
#include "../../fuzz/flag_parsing_fuzzer.cc"
#include "../../fuzz/image_codec_fuzzer.cc"
#include "../../fuzz/npy_fuzzer.cc"
#include "../../fuzz/onnx_loader_fuzzer.cc"
#include "../../fuzz/onnx_run_fuzzer.cc"
#include "../../fuzz/tf_graphdef_fuzzer.cc"

namespace {

using FuzzFn = int (*)(const uint8_t*, size_t);

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != ".." && n != "README.md") out.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

int Replay(const std::string& target, FuzzFn fn) {
  int n = 0;
  for (const std::string& path : Files(std::string(DOPT_SOURCE_DIR) + "/tests/data/fuzz_regressions/" + target)) {
    auto bytes = dopt::ReadFileToString(path);
    EXPECT_TRUE(bytes.ok()) << bytes.status().message();
    if (!bytes.ok()) continue;
    SCOPED_TRACE(path);
    EXPECT_EQ(fn(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()), 0);
    ++n;
  }
  return n;
}

TEST(FuzzRegressions, BinFile) { Replay("bin_file", DoptFuzz_bin_file); }
TEST(FuzzRegressions, CalibConfig) { Replay("calib_config", DoptFuzz_calib_config); }
TEST(FuzzRegressions, FlagParsing) { Replay("flag_parsing", DoptFuzz_flag_parsing); }
TEST(FuzzRegressions, OnnxLoader) { Replay("onnx_loader", DoptFuzz_onnx_loader); }
TEST(FuzzRegressions, CompressConf) { Replay("compress_conf", DoptFuzz_compress_conf); }
TEST(FuzzRegressions, TfGraphDef) { Replay("tf_graphdef", DoptFuzz_tf_graphdef); }
TEST(FuzzRegressions, Npy) { Replay("npy", DoptFuzz_npy); }
TEST(FuzzRegressions, OnnxRun) { Replay("onnx_run", DoptFuzz_onnx_run); }
TEST(FuzzRegressions, ImageCodec) { EXPECT_GE(Replay("image_codec", DoptFuzz_image_codec), 3); }

}  // namespace
