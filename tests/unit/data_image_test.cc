// IMAGE preprocessing against an independent computation on images written with OpenCV.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/sample_source.h"

namespace dopt {
namespace {

std::string TempDir(const std::string& tag) {
  std::string t = "/tmp/dopt data " + tag + " \xC3\xA9\xE6\x95\xB0-XXXXXX";  // spaces and UTF-8
  std::vector<char> buf(t.begin(), t.end());
  buf.push_back('\0');
  EXPECT_NE(mkdtemp(buf.data()), nullptr);
  return buf.data();
}

// A 2x3 BGR image with distinct channel values.
cv::Mat TestImage() {
  cv::Mat m(2, 3, CV_8UC3);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) m.at<cv::Vec3b>(y, x) = cv::Vec3b(10 + 40 * y + x, 100 + 5 * x, 200 - 30 * y);
  return m;
}

std::string ReadAll(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Expected value of channel c (in output order) at (y, x).
float Expected(const cv::Mat& bgr, int y, int x, int c, bool rgb, const std::vector<float>& mean, const std::vector<float>& sd) {
  int src = rgb ? 2 - c : c;
  float v = bgr.at<cv::Vec3b>(y, x)[src];
  float s = sd.empty() ? 0.f : sd.size() == 1 ? sd[0] : sd[c];
  return (v - mean[c]) / (s == 0 ? 1.f : s);
}

class DataImage : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("img");
    img_ = TestImage();
    ASSERT_TRUE(cv::imwrite(dir_ + "/a.png", img_));
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string dir_;
  cv::Mat img_;
};

TEST_F(DataImage, NchwBgrMeanStd) {
  ImagePreprocess pp;
  pp.channels = 3, pp.height = 2, pp.width = 3;
  pp.mean = {104, 113, 123};
  pp.std = {0.5f};
  std::vector<float> out(18);
  ASSERT_TRUE(DecodeAndPreprocessImage(ReadAll(dir_ + "/a.png"), "a.png", pp, out.data()).ok());
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x)
        EXPECT_FLOAT_EQ(out[(c * 2 + y) * 3 + x], Expected(img_, y, x, c, false, pp.mean, pp.std)) << c << y << x;
}

TEST_F(DataImage, NhwcRgbPerChannelStd) {
  ImagePreprocess pp;
  pp.channels = 3, pp.height = 2, pp.width = 3;
  pp.nhwc = true;
  pp.order = ColorOrder::kRGB;
  pp.mean = {1, 2, 3};
  pp.std = {2, 4, 0};  // 0: no division
  std::vector<float> out(18);
  ASSERT_TRUE(DecodeAndPreprocessImage(ReadAll(dir_ + "/a.png"), "a.png", pp, out.data()).ok());
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x)
      for (int c = 0; c < 3; ++c)
        EXPECT_FLOAT_EQ(out[(y * 3 + x) * 3 + c], Expected(img_, y, x, c, true, pp.mean, pp.std)) << c << y << x;
}

TEST_F(DataImage, GreyInputConvertsWithBt601Weights) {
  ImagePreprocess pp;
  pp.channels = 1, pp.height = 2, pp.width = 3;
  std::vector<float> out(6);
  ASSERT_TRUE(DecodeAndPreprocessImage(ReadAll(dir_ + "/a.png"), "a.png", pp, out.data()).ok());
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 3; ++x) {
      cv::Vec3b p = img_.at<cv::Vec3b>(y, x);
      float grey = 0.114f * p[0] + 0.587f * p[1] + 0.299f * p[2];
      EXPECT_NEAR(out[y * 3 + x], grey, 0.51f);
    }
}

TEST_F(DataImage, GreyFileExpandsToThreeEqualChannels) {
  cv::Mat g(2, 2, CV_8UC1);
  g.at<uint8_t>(0, 0) = 7, g.at<uint8_t>(0, 1) = 70, g.at<uint8_t>(1, 0) = 140, g.at<uint8_t>(1, 1) = 250;
  ASSERT_TRUE(cv::imwrite(dir_ + "/g.pgm", g));
  ImagePreprocess pp;
  pp.channels = 3, pp.height = 2, pp.width = 2;
  std::vector<float> out(12);
  ASSERT_TRUE(DecodeAndPreprocessImage(ReadAll(dir_ + "/g.pgm"), "g.pgm", pp, out.data()).ok());
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out[c * 4 + i], (float)g.data[i]);
}

TEST_F(DataImage, ResizeUniformStaysUniform) {
  cv::Mat m(5, 7, CV_8UC3, cv::Scalar(20, 40, 60));
  ASSERT_TRUE(cv::imwrite(dir_ + "/u.bmp", m));
  ImagePreprocess pp;
  pp.channels = 3, pp.height = 4, pp.width = 9;
  std::vector<float> out(3 * 36);
  ASSERT_TRUE(DecodeAndPreprocessImage(ReadAll(dir_ + "/u.bmp"), "u.bmp", pp, out.data()).ok());
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 36; ++i) EXPECT_EQ(out[c * 36 + i], 20.f * (c + 1));
}

TEST_F(DataImage, CorruptImageIsAnError) {
  ImagePreprocess pp;
  pp.channels = 3, pp.height = 2, pp.width = 2;
  std::vector<float> out(12);
  Status st = DecodeAndPreprocessImage("not a png", "bad.png", pp, out.data());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("bad.png"), std::string::npos);
}

TEST_F(DataImage, FolderSortsSkipsAndWarns) {
  ASSERT_TRUE(cv::imwrite(dir_ + "/B.JPG", img_));
  { std::ofstream(dir_ + "/notes.txt") << "x"; }
  { std::ofstream(dir_ + "/broken.png") << "garbage"; }
  ASSERT_EQ(::mkdir((dir_ + "/sub").c_str(), 0755), 0);
  std::vector<std::string> warnings;
  ImagePreprocess pp;
  pp.channels = 3, pp.height = 2, pp.width = 3;
  auto src = OpenImageFolderSource("x", dir_, pp, [&](const std::string& w) { warnings.push_back(w); });
  ASSERT_TRUE(src.ok()) << src.status().message();
  EXPECT_EQ((*src)->num_samples(), 3);  // B.JPG, a.png, broken.png
  EXPECT_EQ(warnings.size(), 2u);       // notes.txt and sub/
  std::vector<float> buf(18);
  std::vector<FetchResult> got;
  while (true) {
    auto r = (*src)->Next(buf.data());
    ASSERT_TRUE(r.ok());
    if (*r == FetchResult::kEnd) break;
    got.push_back(*r);
  }
  EXPECT_EQ(got, (std::vector<FetchResult>{FetchResult::kSample, FetchResult::kSample, FetchResult::kSkipped}));
  ASSERT_EQ(warnings.size(), 3u);
  EXPECT_NE(warnings[2].find("broken.png"), std::string::npos);
}

TEST_F(DataImage, EmptyFolderIsAnError) {
  std::string empty = TempDir("empty");
  ImagePreprocess pp;
  pp.channels = 3, pp.height = 2, pp.width = 3;
  auto src = OpenImageFolderSource("x", empty, pp, nullptr);
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.status().message().find("no image files"), std::string::npos);
  std::system(("rm -rf '" + empty + "'").c_str());
}

TEST(DataImageNames, Extensions) {
  for (const char* n : {"a.bmp", "a.DIB", "a.jpeg", "a.JPG", "b.jpe", "c.PNG", "d.webp", "e.pbm", "f.pgm", "g.ppm", "h.TIFF", "i.tif"})
    EXPECT_TRUE(IsImageFileName(n)) << n;
  for (const char* n : {"a.gif", "a", "a.txt", "png", ".bin"}) EXPECT_FALSE(IsImageFileName(n)) << n;
}

}  // namespace
}  // namespace dopt
