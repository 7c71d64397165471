// The image codec modules (data/image_codec.h): the plain codec (libjpeg-turbo, libpng) gives
// exactly cv::imdecode's pixels on every file it accepts, declines what needs OpenCV's own
// handling, and both modules finish (grey, resize, RGB) the same way.
#include <dlfcn.h>
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "data/image_codec.h"
#include "data/sample_source.h"

namespace dopt {
namespace {

DoptImageDecodeFn Load(const char* file) {
  std::string path = JoinPath(ExecutableDir(), file);
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  EXPECT_NE(h, nullptr) << path << ": " << dlerror();
  return h ? reinterpret_cast<DoptImageDecodeFn>(dlsym(h, DOPT_IMAGE_CODEC_SYMBOL)) : nullptr;
}

std::string ReadAll(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Encode(const cv::Mat& m, const std::string& ext, const std::vector<int>& params = {}) {
  std::vector<uchar> buf;
  EXPECT_TRUE(cv::imencode(ext, m, buf, params));
  return std::string(buf.begin(), buf.end());
}

cv::Mat Noise(int h, int w, int type, uint64_t seed) {
  cv::Mat m(h, w, type);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(m, m, cv::Size(5, 5), 1.5);  // natural-ish content: JPEG has real work to do
  return m;
}

class ImageCodec : public ::testing::Test {
 protected:
  void SetUp() override {
    plain_ = Load(DOPT_IMAGE_CODEC_FILE);
    opencv_ = Load(DOPT_IMAGE_CODEC_OPENCV_FILE);
    ASSERT_NE(plain_, nullptr);
    ASSERT_NE(opencv_, nullptr);
  }
  // The plain codec's result at the image's own size (no resize), or its return code.
  int Plain(const std::string& bytes, int h, int w, cv::Mat* out) {
    *out = cv::Mat(h, w, CV_8UC3);
    char err[256];
    return plain_(bytes.data(), bytes.size(), 3, h, w, 0, out->data, err, sizeof(err));
  }
  // Checks one file: accepted with cv::imdecode's exact pixels, or declined. Returns accepted.
  bool CheckSame(const std::string& bytes, const std::string& what) {
    cv::Mat ref = cv::imdecode(cv::Mat(1, (int)bytes.size(), CV_8UC1, const_cast<char*>(bytes.data())), cv::IMREAD_COLOR);
    if (ref.empty()) return false;
    cv::Mat got;
    int rc = Plain(bytes, ref.rows, ref.cols, &got);
    EXPECT_TRUE(rc == DOPT_IMAGE_OK || rc == DOPT_IMAGE_DECLINED) << what << ": " << rc;
    if (rc != DOPT_IMAGE_OK) return false;
    EXPECT_EQ(cv::norm(ref, got, cv::NORM_INF), 0) << what;
    return true;
  }
  DoptImageDecodeFn plain_ = nullptr, opencv_ = nullptr;
};

TEST_F(ImageCodec, SharedImagesDecodeExactlyAsOpenCv) {
  const std::string root = std::string(DOPT_SOURCE_DIR) + "/../shared/testdata/images";
  int files = 0, accepted = 0;
  std::vector<std::string> folders{root + "/imagenet-sample", root + "/faces", root + "/misc"};
  if (DIR* c = opendir((root + "/cifar10-test").c_str())) {
    while (dirent* e = readdir(c))
      if (e->d_name[0] != '.') folders.push_back(root + "/cifar10-test/" + e->d_name);
    closedir(c);
  }
  for (const std::string& folder : folders) {
    DIR* d = opendir(folder.c_str());
    if (!d) continue;
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (!IsImageFileName(name)) continue;
      ++files;
      accepted += CheckSame(ReadAll(folder + "/" + name), folder + "/" + name);
    }
    closedir(d);
  }
  if (files == 0) GTEST_SKIP() << "no shared images in " << root;
  std::printf("plain codec: %d of %d shared images, the rest declined\n", accepted, files);
  // Nearly all are plain (one PNG with an alpha channel is not).
  EXPECT_GE(accepted, files * 99 / 100) << accepted << " of " << files;
}

// An APP1 Exif block (TIFF, one IFD0 entry per value: orientation), inserted after SOI.
std::string WithExifOrientations(const std::string& jpeg, std::vector<unsigned> orientations, bool big_endian) {
  auto u16 = [&](unsigned v) {
    return big_endian ? std::string{(char)(v >> 8), (char)v} : std::string{(char)v, (char)(v >> 8)};
  };
  auto u32 = [&](unsigned v) { return big_endian ? u16(v >> 16) + u16(v & 0xffff) : u16(v & 0xffff) + u16(v >> 16); };
  std::string tiff = std::string(big_endian ? "MM" : "II") + u16(42) + u32(8) + u16((unsigned)orientations.size());
  for (unsigned o : orientations) tiff += u16(0x0112) + u16(3) + u32(1) + u16(o) + u16(0);
  tiff += u32(0);  // no next IFD
  const std::string body = std::string("Exif\0\0", 6) + tiff;
  const size_t length = body.size() + 2;
  return jpeg.substr(0, 2) + "\xFF\xE1" + std::string{(char)(length >> 8), (char)length} + body + jpeg.substr(2);
}
std::string WithExifOrientation(const std::string& jpeg, unsigned char orientation) {
  return WithExifOrientations(jpeg, {orientation}, false);
}

uint32_t Crc32(const std::string& bytes) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// A PNG eXIf chunk (raw little-endian TIFF, one IFD0 entry: orientation), inserted after IHDR.
std::string WithPngExifOrientation(const std::string& png, unsigned char orientation) {
  const unsigned char tiff[] = {'I', 'I', 0x2A, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0,
                                0, 0, orientation, 0, 0, 0, 0, 0, 0, 0};
  std::string body = std::string("eXIf") + std::string((const char*)tiff, sizeof(tiff));
  auto be32 = [](uint32_t v) {
    return std::string{(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
  };
  std::string chunk = be32((uint32_t)sizeof(tiff)) + body + be32(Crc32(body));
  return png.substr(0, 8 + 25) + chunk + png.substr(8 + 25);  // signature, then IHDR (25 bytes)
}

struct NamedFile {
  const char* what;
  std::string bytes;
};

TEST_F(ImageCodec, SyntheticPlainFilesDecodeExactly) {
  cv::Mat color = Noise(37, 53, CV_8UC3, 1), grey = Noise(29, 41, CV_8UC1, 2);
  const NamedFile cases[] = {
      {"png rgb", Encode(color, ".png")},
      {"png grey", Encode(grey, ".png")},
      {"jpeg 4:2:0 q95", Encode(color, ".jpg")},
      {"jpeg q30", Encode(color, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 30})},
      {"jpeg progressive", Encode(color, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1})},
      {"jpeg grey", Encode(grey, ".jpg")},
      {"jpeg restart intervals", Encode(color, ".jpg", {cv::IMWRITE_JPEG_RST_INTERVAL, 2})},
      {"jpeg with exif orientation 1", WithExifOrientation(Encode(color, ".jpg"), 1)},
      // OpenCV reads the first APP1 block only: an XMP block first hides the EXIF block behind it.
      {"jpeg with xmp before exif orientation 6",
       [&] {
         std::string r = WithExifOrientation(Encode(color, ".jpg"), 6);
         return r.substr(0, 2) + std::string("\xFF\xE1\x00\x1E", 4) + "http://ns.adobe.com/xap/1.0/" + r.substr(2);
       }()},
      {"jpeg with exif orientation 0 (invalid: OpenCV leaves it)", WithExifOrientation(Encode(color, ".jpg"), 0)},
      {"jpeg with exif orientation 9 (invalid: OpenCV leaves it)", WithExifOrientation(Encode(color, ".jpg"), 9)},
      // The same tag twice with the same value (a shared ImageNet image has it).
      {"jpeg with exif orientation 6 twice", WithExifOrientations(Encode(color, ".jpg"), {6, 6}, true)},
  };
  for (const NamedFile& c : cases) EXPECT_TRUE(CheckSame(c.bytes, c.what)) << c.what << " was declined";
  // Orientations 2 to 8 turn the (non-square) image as OpenCV turns it, in either byte order.
  const std::string jpeg = Encode(color, ".jpg");
  for (unsigned o = 2; o <= 8; ++o)
    for (bool big_endian : {false, true}) {
      const std::string what = "jpeg with exif orientation " + std::to_string(o) + (big_endian ? " (MM)" : " (II)");
      const std::string bytes = WithExifOrientations(jpeg, {o}, big_endian);
      cv::Mat ref = cv::imdecode(cv::Mat(1, (int)bytes.size(), CV_8UC1, const_cast<char*>(bytes.data())), cv::IMREAD_COLOR);
      ASSERT_EQ(ref.rows, o >= 5 ? color.cols : color.rows) << what;  // OpenCV did read the block
      EXPECT_TRUE(CheckSame(bytes, what)) << what << " was declined";
    }
}

TEST_F(ImageCodec, FilesNeedingOpenCvAreDeclinedAndStillRead) {
  cv::Mat color = Noise(20, 30, CV_8UC3, 3);
  cv::Mat c16;
  color.convertTo(c16, CV_16U, 257);
  cv::Mat rgba;
  cv::cvtColor(color, rgba, cv::COLOR_BGR2BGRA);
  std::string jpeg = Encode(color, ".jpg");
  const NamedFile cases[] = {
      {"jpeg with two different exif orientations", WithExifOrientations(jpeg, {1, 6}, false)},
      {"png 16-bit", Encode(c16, ".png")},
      {"png with alpha", Encode(rgba, ".png")},
      {"png with exif orientation", WithPngExifOrientation(Encode(color, ".png"), 6)},
      {"jpeg truncated", jpeg.substr(0, jpeg.size() / 2)},
      {"bmp", Encode(color, ".bmp")},
      {"ppm", Encode(color, ".ppm")},
  };
  for (const NamedFile& c : cases) {
    cv::Mat ref = cv::imdecode(cv::Mat(1, (int)c.bytes.size(), CV_8UC1, const_cast<char*>(c.bytes.data())),
                               cv::IMREAD_COLOR);
    cv::Mat got;
    EXPECT_EQ(Plain(c.bytes, std::max(ref.rows, 1), std::max(ref.cols, 1), &got), DOPT_IMAGE_DECLINED) << c.what;
    if (ref.empty()) {  // OpenCV refuses it too: one error naming the file
      ImagePreprocess pp;
      pp.channels = 3, pp.height = 4, pp.width = 4;
      std::vector<float> dst(48);
      Status st = DecodeAndPreprocessImage(c.bytes, c.what, pp, dst.data());
      EXPECT_EQ(st.message(), std::string(c.what) + ": cannot decode image (corrupt or not an image)");
      continue;
    }
    // Through the data layer (plain codec, then OpenCV's): cv::imdecode's pixels, orientation included.
    ImagePreprocess pp;
    pp.channels = 3, pp.height = ref.rows, pp.width = ref.cols, pp.nhwc = true;
    std::vector<float> dst((size_t)ref.total() * 3);
    Status st = DecodeAndPreprocessImage(c.bytes, c.what, pp, dst.data());
    ASSERT_TRUE(st.ok()) << c.what << ": " << st.message();
    cv::Mat f;
    ref.convertTo(f, CV_32FC3);
    EXPECT_EQ(std::memcmp(f.ptr<float>(0), dst.data(), dst.size() * sizeof(float)), 0) << c.what;
  }
  std::string png6 = WithPngExifOrientation(Encode(color, ".png"), 6);
  cv::Mat probe = cv::imdecode(cv::Mat(1, (int)png6.size(), CV_8UC1, png6.data()), cv::IMREAD_COLOR);
  EXPECT_EQ(probe.rows, 30);  // and OpenCV turns a PNG by its eXIf chunk too
}

TEST_F(ImageCodec, BothModulesFinishTheSameWay) {
  std::string jpeg = Encode(Noise(45, 61, CV_8UC3, 4), ".jpg");
  for (int channels : {1, 3})
    for (int rgb : {0, 1})
      for (auto [h, w] : {std::pair{45, 61}, std::pair{16, 20}, std::pair{90, 33}}) {
        std::vector<unsigned char> a((size_t)h * w * channels), b(a.size());
        char err[256];
        ASSERT_EQ(plain_(jpeg.data(), jpeg.size(), channels, h, w, rgb, a.data(), err, sizeof(err)), DOPT_IMAGE_OK);
        ASSERT_EQ(opencv_(jpeg.data(), jpeg.size(), channels, h, w, rgb, b.data(), err, sizeof(err)), DOPT_IMAGE_OK);
        EXPECT_EQ(a, b) << channels << " " << rgb << " " << h << "x" << w;
      }
}

}  // namespace
}  // namespace dopt
