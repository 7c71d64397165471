// Resource limits on hostile input (src/common/limits.h) and the signal cleanup registry.
// The ONNX-level cases (huge initializers, cycles, nested subgraphs) are in
// tests/e2e/test_hostile_inputs.py, which builds the models with the onnx package.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <climits>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/file_util.h"
#include "common/limits.h"
#include "common/signal_cleanup.h"
#include "data/bin_file.h"
#include "ir/tensor.h"

namespace dopt {
namespace {

std::string Int32s(std::initializer_list<int32_t> v) {
  std::string s(v.size() * 4, '\0');
  size_t i = 0;
  for (int32_t x : v) std::memcpy(&s[4 * i++], &x, 4);
  return s;
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string TempPath(const std::string& name) {
  return std::string(::testing::TempDir()) + "/dopt_hardening_" + std::to_string(getpid()) + "_" + name;
}

TEST(Limits, CheckedNumElementsRejectsInt64Overflow) {
  // 2^32 * 2^32 = 2^64 wraps to 0 in int64 arithmetic; it must be an error, not 0.
  auto n = CheckedNumElements({int64_t{1} << 32, int64_t{1} << 32}, INT64_MAX);
  ASSERT_FALSE(n.ok());
  EXPECT_TRUE(Contains(n.status().message(), "[4294967296,4294967296]")) << n.status().message();
  auto m = CheckedNumElements({INT64_MAX, 2}, INT64_MAX);
  EXPECT_FALSE(m.ok());
  auto big = CheckedNumElements({int64_t{1} << 20, int64_t{1} << 20}, int64_t{1} << 40);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(*big, int64_t{1} << 40);
  EXPECT_FALSE(CheckedNumElements({int64_t{1} << 20, int64_t{1} << 20}, int64_t{1} << 39).ok());
}

TEST(Limits, NumElementsSaturatesInsteadOfOverflowing) {
  EXPECT_EQ(NumElements({int64_t{1} << 32, int64_t{1} << 32}), INT64_MAX);
  EXPECT_EQ(NumElements({INT64_MAX, 3, 0}), INT64_MAX);  // saturated before the 0: still "too big"
  EXPECT_EQ(NumElements({-2, INT64_MAX}), INT64_MIN);
  EXPECT_EQ(NumElements({2, 3, 4}), 24);
}

TEST(Limits, TensorRefusesAShapeAboveTheLimit) {
  EXPECT_THROW(Tensor(DType::kFloat32, {int64_t{1} << 32, int64_t{1} << 32}), std::bad_alloc);
}

TEST(Limits, Bin610HeaderClaimingTrillionsOfElementsIsAnErrorBeforeAllocating) {
  // 10^6 x 10^6 = 10^12 elements (4 TB) declared in a 20-byte file.
  std::string bytes = Int32s({610, 2, 1000000, 1000000}) + std::string(4, '\0');
  std::string path = TempPath("huge.bin");
  ASSERT_TRUE(WriteFileAtomic(path, bytes).ok());
  for (const auto& st : {ReadBinFile(path).status(), ReadBinHeader(path).status()}) {
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(Contains(st.message(), path)) << st.message();
    EXPECT_TRUE(Contains(st.message(), "[1000000,1000000]")) << st.message();
  }
  // The same claim within the element limit is still checked against the file size.
  std::string small = Int32s({610, 2, 1000, 1000}) + std::string(4, '\0');
  auto st = ParseBinFile(small, "s.bin").status();
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.message(), "needs exactly 4000016")) << st.message();
  std::remove(path.c_str());
}

TEST(Limits, Bin510HeaderWithInt32MaxDimsIsAnError) {
  std::string bytes = Int32s({510, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX});
  auto st = ParseBinFile(bytes, "n.bin").status();
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(Contains(st.message(), "too large")) << st.message();
}

TEST(SignalCleanup, RegistryHoldsAndReleasesPaths) {
  // Every slot can be taken and given back; a full registry says so instead of overflowing.
  std::vector<std::string> paths;
  int taken = 0;
  for (int i = 0; i < 100; ++i) {
    paths.push_back(TempPath("slot" + std::to_string(i)));
    if (RegisterTempFile(paths.back())) ++taken;
  }
  EXPECT_GT(taken, 0);
  EXPECT_LT(taken, 100);
  for (const auto& p : paths) UnregisterTempFile(p);
  EXPECT_TRUE(RegisterTempFile(paths[0]));
  UnregisterTempFile(paths[0]);
  EXPECT_FALSE(RegisterTempFile(std::string(5000, 'x')));  // longer than the handler's buffer
}

// A signal that lands while a temp file exists removes it, and the process still dies of the
// signal. Run in a child process: the handler re-raises with the default action.
TEST(SignalCleanup, SignalRemovesRegisteredTempFilesAndReRaises) {
#if defined(__SANITIZE_THREAD__)
  // scripts/sanitize.sh runs the whole binary in one process under TSan; once earlier tests
  // have started pool threads, TSan's runtime never delivers a signal raised in a forked child
  // (it exits 12 below). The normal and ASan suites run this test in a process of its own.
  GTEST_SKIP() << "ThreadSanitizer does not deliver signals in a child forked from a multi-threaded process";
#endif
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    std::string kept = TempPath("kept_" + std::to_string(sig));
    std::string temp = TempPath("temp_" + std::to_string(sig) + ".dopt-tmp-1");
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::signal(sig, SIG_DFL);
      InstallSignalCleanup();
      for (const std::string& p : {kept, temp}) {
        FILE* f = std::fopen(p.c_str(), "wb");
        if (!f) ::_exit(10);
        std::fclose(f);
      }
      if (!RegisterTempFile(temp)) ::_exit(11);
      std::raise(sig);
      ::_exit(12);  // not reached
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status)) << "signal " << sig << ": child status " << status;
    if (WIFSIGNALED(status)) {
      EXPECT_EQ(WTERMSIG(status), sig);
    }
    EXPECT_NE(::access(temp.c_str(), F_OK), 0) << temp << " survived signal " << sig;
    EXPECT_EQ(::access(kept.c_str(), F_OK), 0) << "an unregistered file was removed";
    std::remove(kept.c_str());
    std::remove(temp.c_str());
  }
}

TEST(SignalCleanup, WriteFileAtomicLeavesOnlyTheOutput) {
  std::string dir = TempPath("atomic_dir");
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_TRUE(WriteFileAtomic(dir + "/out.bin", "abc").ok());
  std::string listing;
  FILE* p = ::popen(("ls -A " + dir).c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[256];
  while (std::fgets(buf, sizeof(buf), p)) listing += buf;
  ::pclose(p);
  EXPECT_EQ(listing, "out.bin\n");
  std::remove((dir + "/out.bin").c_str());
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace dopt
