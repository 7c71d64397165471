// .bin sources (610/510, good and bad), the lockstep stream, and BinWriter.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "common/file_util.h"
#include "data/bin_file.h"
#include "data/calibration_stream.h"

namespace dopt {
namespace {

class DataStream : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/dopt stream \xE6\x95\xB0-XXXXXX";
    ASSERT_NE(mkdtemp(t), nullptr);
    dir_ = t;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  // Values 0, 1, 2, ... + offset.
  std::string WriteBin(const std::string& name, int32_t magic, Shape shape, float offset = 0) {
    std::vector<float> v((size_t)NumElements(shape));
    for (size_t i = 0; i < v.size(); ++i) v[i] = offset + (float)i;
    std::string p = JoinPath(dir_, name);
    EXPECT_TRUE(WriteFileAtomic(p, SerializeBinFile(Tensor::FromFloats(shape, v), magic)).ok());
    return p;
  }
  std::string WriteRaw(const std::string& name, const std::vector<int32_t>& header, size_t floats) {
    std::string b(reinterpret_cast<const char*>(header.data()), header.size() * 4);
    b.append(floats * 4, '\0');
    std::string p = JoinPath(dir_, name);
    EXPECT_TRUE(WriteFileAtomic(p, b).ok());
    return p;
  }
  std::string dir_;
};

std::unique_ptr<SampleSource> Open(const std::string& name, const std::string& path, const Shape& s, bool nhwc,
                                   WarningFn warn) {
  auto r = OpenBinSource(name, path, s, nhwc, std::move(warn));
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::vector<float> Drain(SampleSource& s) {
  std::vector<float> all, buf((size_t)NumElements(s.sample_shape()));
  while (true) {
    auto r = s.Next(buf.data());
    EXPECT_TRUE(r.ok());
    if (!r.ok() || *r == FetchResult::kEnd) break;
    all.insert(all.end(), buf.begin(), buf.end());
  }
  return all;
}

TEST_F(DataStream, Bin610RankThree) {
  std::string p = WriteBin("a.bin", 610, {5, 2, 3});
  auto h = ReadBinHeader(p);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->header_bytes, 20u);
  auto src = OpenBinSource("x", p, {1, 2, 3}, false, nullptr);
  ASSERT_TRUE(src.ok()) << src.status().message();
  EXPECT_EQ((*src)->num_samples(), 5);
  auto all = Drain(**src);
  ASSERT_EQ(all.size(), 30u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], (float)i);
  ASSERT_TRUE((*src)->Rewind().ok());
  EXPECT_EQ(Drain(**src).size(), 30u);
}

TEST_F(DataStream, Bin610HeaderIsNotAlways20Bytes) {
  std::string p = WriteBin("r2.bin", 610, {4, 6});
  EXPECT_EQ(ReadBinHeader(p)->header_bytes, 16u);
  std::string q = WriteBin("r5.bin", 610, {2, 1, 2, 2, 2});
  EXPECT_EQ(ReadBinHeader(q)->header_bytes, 28u);
  auto src = OpenBinSource("x", q, {1, 1, 2, 2, 2}, true, nullptr);  // 610 is never reordered
  ASSERT_TRUE(src.ok());
  auto all = Drain(**src);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], (float)i);
}

TEST_F(DataStream, Bin510ReorderedForNhwc) {
  std::string p = WriteBin("n.bin", 510, {2, 3, 2, 2});
  auto nchw = OpenBinSource("x", p, {1, 3, 2, 2}, false, nullptr);
  ASSERT_TRUE(nchw.ok());
  auto a = Drain(**nchw);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], (float)i);
  auto nhwc = OpenBinSource("x", p, {1, 2, 2, 3}, true, nullptr);
  ASSERT_TRUE(nhwc.ok()) << nhwc.status().message();
  auto b = Drain(**nhwc);
  ASSERT_EQ(b.size(), 24u);
  for (int n = 0; n < 2; ++n)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 2; ++x)
        for (int c = 0; c < 3; ++c) EXPECT_EQ(b[((n * 2 + y) * 2 + x) * 3 + c], (float)(((n * 3 + c) * 2 + y) * 2 + x));
}

TEST_F(DataStream, BinErrors) {
  auto msg = [&](const std::string& p, Shape s = {1, 3, 2, 2}) {
    auto r = OpenBinSource("x", p, s, false, nullptr);
    return r.ok() ? std::string("OK") : r.status().message();
  };
  EXPECT_NE(msg(WriteRaw("m.bin", {611, 1, 4}, 4)).find("bad magic number 611"), std::string::npos);
  EXPECT_NE(msg(WriteRaw("r.bin", {610, 9}, 0)).find("rank 9, expected 1 to 8"), std::string::npos);
  EXPECT_NE(msg(WriteRaw("r0.bin", {610, 0}, 0)).find("rank 0"), std::string::npos);
  EXPECT_NE(msg(WriteRaw("d.bin", {610, 2, 3, -4}, 0)).find("dims must be positive"), std::string::npos);
  EXPECT_NE(msg(WriteRaw("s.bin", {610, 2, 3, 4}, 11)).find("needs exactly 64"), std::string::npos);
  EXPECT_NE(msg(WriteRaw("l.bin", {610, 2, 3, 4}, 13)).find("file has 68 bytes"), std::string::npos);
  EXPECT_NE(msg(WriteRaw("t.bin", {610}, 0)).find("too short"), std::string::npos);
  EXPECT_NE(msg(WriteRaw("h.bin", {510, 1, 3}, 0)).find("510 header alone needs 20"), std::string::npos);
  EXPECT_NE(msg(WriteBin("w.bin", 610, {2, 3, 2, 3})).find("the input needs samples of [3,2,2]"), std::string::npos);
  EXPECT_NE(msg(WriteBin("q.bin", 510, {2, 3, 2, 2}), {1, 12}).find("use a 610 file"), std::string::npos);
  EXPECT_NE(msg(JoinPath(dir_, "none.bin")).find("does not exist"), std::string::npos);
}

TEST_F(DataStream, BinOneRankAboveHoldsWholeSamples) {
  // A recurrent state [2, 1, 3] is not batch-first: a [N, 2, 1, 3] file holds N whole states.
  std::string p = WriteBin("state.bin", 610, {4, 2, 1, 3});
  auto src = OpenBinSource("h", p, {2, 1, 3}, false, nullptr);
  ASSERT_TRUE(src.ok()) << src.status().message();
  EXPECT_TRUE((*src)->whole_samples());
  EXPECT_EQ((*src)->sample_shape(), (Shape{2, 1, 3}));
  EXPECT_EQ((*src)->num_samples(), 4);
  auto all = Drain(**src);
  ASSERT_EQ(all.size(), 24u);
  EXPECT_EQ(all[23], 23.f);
  // The input's own rank keeps today's rule: first dim = samples = batch.
  auto own = OpenBinSource("h", WriteBin("own.bin", 610, {5, 1, 3}), {2, 1, 3}, false, nullptr);
  ASSERT_TRUE(own.ok()) << own.status().message();
  EXPECT_FALSE((*own)->whole_samples());
  EXPECT_EQ((*own)->num_samples(), 5);
  // A rank-0 input (a sample rate) is fed from an [N] file.
  auto sr = OpenBinSource("sr", WriteBin("sr.bin", 610, {3}), {}, false, nullptr);
  ASSERT_TRUE(sr.ok()) << sr.status().message();
  EXPECT_TRUE((*sr)->whole_samples());
  EXPECT_EQ((*sr)->sample_shape(), Shape{});
  EXPECT_EQ(Drain(**sr), (std::vector<float>{0, 1, 2}));
  // Neither rule: the message names both.
  auto bad = OpenBinSource("h", WriteBin("bad.bin", 610, {4, 2, 2, 3}), {2, 1, 3}, false, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("whole samples of [2,1,3]"), std::string::npos) << bad.status().message();
}

TEST_F(DataStream, WholeSamplesAreNotStacked) {
  std::vector<std::unique_ptr<SampleSource>> sources;
  sources.push_back(Open("x", WriteBin("x.bin", 610, {3, 4}), {1, 4}, false, nullptr));
  sources.push_back(Open("h", WriteBin("h.bin", 610, {3, 2, 1, 5}), {2, 1, 5}, false, nullptr));
  auto stream = CalibrationStream::Create(std::move(sources), 1);
  ASSERT_TRUE(stream.ok()) << stream.status().message();
  std::map<std::string, Tensor> feeds;
  int batches = 0;
  while (true) {
    auto more = (*stream)->NextBatch(&feeds);
    ASSERT_TRUE(more.ok()) << more.status().message();
    if (!*more) break;
    ++batches;
    EXPECT_EQ(feeds["x"].shape(), (Shape{1, 4}));
    EXPECT_EQ(feeds["h"].shape(), (Shape{2, 1, 5}));
  }
  EXPECT_EQ(batches, 3);
  std::vector<std::unique_ptr<SampleSource>> two;
  two.push_back(Open("x", WriteBin("x2.bin", 610, {4, 4}), {2, 4}, false, nullptr));
  two.push_back(Open("h", WriteBin("h2.bin", 610, {4, 2, 1, 5}), {2, 1, 5}, false, nullptr));
  auto s2 = CalibrationStream::Create(std::move(two), 2);
  ASSERT_FALSE(s2.ok());
  EXPECT_NE(s2.status().message().find("takes whole samples"), std::string::npos) << s2.status().message();
}

TEST_F(DataStream, BinFolderConcatenates) {
  std::string sub = JoinPath(dir_, "parts");
  ASSERT_EQ(::mkdir(sub.c_str(), 0755), 0);
  WriteBin("parts/b.bin", 610, {2, 4}, 100);
  WriteBin("parts/a.BIN", 510, {3, 4, 1, 1}, 0);
  { std::ofstream(JoinPath(sub, "readme.txt")) << "x"; }
  int warnings = 0;
  auto src = OpenBinSource("x", sub, {1, 4, 1, 1}, false, [&](const std::string&) { ++warnings; });
  ASSERT_FALSE(src.ok());  // 610 file b.bin has samples (4), not (4,1,1)
  auto src2 = OpenBinSource("x", sub, {1, 4}, false, [&](const std::string&) { ++warnings; });
  ASSERT_FALSE(src2.ok());  // and 510 needs a 4-D input
  std::remove(JoinPath(sub, "a.BIN").c_str());
  WriteBin("parts/a.BIN", 610, {3, 4}, 0);
  auto src3 = OpenBinSource("x", sub, {1, 4}, false, [&](const std::string&) { ++warnings; });
  ASSERT_TRUE(src3.ok()) << src3.status().message();
  EXPECT_EQ((*src3)->num_samples(), 5);
  auto all = Drain(**src3);
  ASSERT_EQ(all.size(), 20u);
  EXPECT_EQ(all[11], 11.f);   // a.BIN first (sorted by name)
  EXPECT_EQ(all[12], 100.f);  // then b.bin
  EXPECT_GE(warnings, 1);
}

TEST_F(DataStream, LockstepBatches) {
  std::vector<std::unique_ptr<SampleSource>> s;
  s.push_back(Open("a", WriteBin("a.bin", 610, {5, 2}), {2, 2}, false, nullptr));
  s.push_back(Open("b", WriteBin("b.bin", 610, {5, 3}, 1000), {2, 3}, false, nullptr));
  auto cs = CalibrationStream::Create(std::move(s), 2);
  ASSERT_TRUE(cs.ok());
  std::map<std::string, Tensor> feeds;
  std::vector<int64_t> sizes;
  while (true) {
    auto more = (*cs)->NextBatch(&feeds);
    ASSERT_TRUE(more.ok()) << more.status().message();
    if (!*more) break;
    sizes.push_back(feeds["a"].dim(0));
    EXPECT_EQ(feeds["a"].dim(0), feeds["b"].dim(0));
    // Row k of a is sample i = values 2i, 2i+1; row k of b is 1000 + 3i...: same i.
    for (int64_t k = 0; k < feeds["a"].dim(0); ++k) {
      float ia = feeds["a"].data<float>()[k * 2] / 2;
      float ib = (feeds["b"].data<float>()[k * 3] - 1000) / 3;
      EXPECT_EQ(ia, ib);
    }
  }
  EXPECT_EQ(sizes, (std::vector<int64_t>{2, 2, 1}));
  EXPECT_EQ((*cs)->samples_drawn(), 5);
  ASSERT_TRUE((*cs)->Rewind().ok());
  auto more = (*cs)->NextBatch(&feeds);
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(feeds["a"].data<float>()[0], 0.f);
}

TEST_F(DataStream, ShortInputIsNamed) {
  std::vector<std::unique_ptr<SampleSource>> s;
  s.push_back(Open("a", WriteBin("a.bin", 610, {5, 2}), {2, 2}, false, nullptr));
  s.push_back(Open("b", WriteBin("b.bin", 610, {4, 2}), {2, 2}, false, nullptr));
  auto cs = CalibrationStream::Create(std::move(s), 2);
  ASSERT_FALSE(cs.ok());
  EXPECT_NE(cs.status().message().find("input 'b' is short: it offers 4 samples"), std::string::npos)
      << cs.status().message();
}

TEST_F(DataStream, BinWriterStreamsAndCleansUp) {
  std::string p = JoinPath(dir_, "out.bin");
  {
    BinWriter w;
    ASSERT_TRUE(w.Open(p, 610, {2}).ok());
    float a[4] = {1, 2, 3, 4};
    ASSERT_TRUE(w.Append(a, 2).ok());
    ASSERT_TRUE(w.Append(a, 1).ok());
    ASSERT_TRUE(w.Finish().ok());
  }
  auto t = ReadBinFile(p);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->shape(), (Shape{3, 2}));
  EXPECT_EQ(t->data<float>()[4], 1.f);
  {
    BinWriter w;  // abandoned: nothing is left behind, the old file stays
    ASSERT_TRUE(w.Open(p, 510, {1, 1, 1}).ok());
  }
  EXPECT_EQ(ReadBinHeader(p)->magic, 610);
  std::string ls;
  int n = 0;
  for (auto* f = popen(("ls -A '" + dir_ + "'").c_str(), "r"); f;) {
    char buf[256];
    while (fgets(buf, sizeof(buf), f)) ++n;
    pclose(f);
    break;
  }
  EXPECT_EQ(n, 1);
  BinWriter bad;
  EXPECT_FALSE(bad.Open(JoinPath(dir_, "x.bin"), 510, {2, 2}).ok());
}

}  // namespace
}  // namespace dopt
