#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/file_util.h"
#include "data/sample_source.h"

namespace dopt {

void PrintWarning(const std::string& message) { std::fprintf(stderr, "dopt: warning: %s\n", message.c_str()); }

bool IsImageFileName(const std::string& name) {
  static const char* kExt[] = {".bmp", ".dib", ".jpeg", ".jpg", ".jpe", ".png", ".webp",
                               ".pbm", ".pgm", ".ppm", ".tiff", ".tif"};
  size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot);
  for (char& c : ext) c = (char)std::tolower((unsigned char)c);
  for (const char* e : kExt) if (ext == e) return true;
  return false;
}

Status DecodeAndPreprocessImage(const std::string& bytes, const std::string& name, const ImagePreprocess& pp,
                                float* dst) {
  static bool quiet = [] {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    return true;
  }();
  (void)quiet;
  if (pp.channels != 1 && pp.channels != 3) {
    return InvalidArgument(name + ": images need 1 or 3 channels, the input has " + std::to_string(pp.channels));
  }
  cv::Mat img;
  try {
    cv::Mat buf(1, (int)bytes.size(), CV_8UC1, const_cast<char*>(bytes.data()));
    if (!bytes.empty()) img = cv::imdecode(buf, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return InvalidArgument(name + ": cannot decode image: " + e.what());
  }
  if (img.empty()) return InvalidArgument(name + ": cannot decode image (corrupt or not an image)");
  if (img.depth() != CV_8U) img.convertTo(img, CV_8U);  // 16-bit PNG/TIFF are scaled by imdecode already
  if (pp.channels == 1) cv::cvtColor(img, img, cv::COLOR_BGR2GRAY);
  if (img.rows != pp.height || img.cols != pp.width) {
    cv::resize(img, img, cv::Size((int)pp.width, (int)pp.height), 0, 0, cv::INTER_LINEAR);
  }
  if (pp.channels == 3 && pp.order == ColorOrder::kRGB) cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
  const int64_t C = pp.channels, H = pp.height, W = pp.width;
  float mean[3], scale[3];
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = pp.mean.empty() ? 0.f : pp.mean[c];
    float s = pp.std.empty() ? 0.f : pp.std.size() == 1 ? pp.std[0] : pp.std[c];
    scale[c] = s == 0.f ? 1.f : 1.f / s;
  }
  for (int64_t y = 0; y < H; ++y) {
    const uint8_t* row = img.ptr<uint8_t>((int)y);
    for (int64_t x = 0; x < W; ++x) {
      for (int64_t c = 0; c < C; ++c) {
        float v = ((float)row[x * C + c] - mean[c]) * scale[c];
        if (pp.nhwc) {
          dst[(y * W + x) * C + c] = v;
        } else {
          dst[(c * H + y) * W + x] = v;
        }
      }
    }
  }
  return Status::Ok();
}

namespace {

class ImageFolderSource : public SampleSource {
 public:
  ImageFolderSource(std::string input, std::string folder, std::vector<std::string> files, ImagePreprocess pp,
                    WarningFn warn)
      : input_(std::move(input)), folder_(std::move(folder)), files_(std::move(files)), pp_(std::move(pp)),
        warn_(std::move(warn)) {
    shape_ = pp_.nhwc ? Shape{pp_.height, pp_.width, pp_.channels} : Shape{pp_.channels, pp_.height, pp_.width};
  }
  const std::string& input_name() const override { return input_; }
  const Shape& sample_shape() const override { return shape_; }
  int64_t num_samples() const override { return (int64_t)files_.size(); }
  StatusOr<FetchResult> Next(float* dst) override {
    if (pos_ >= files_.size()) return FetchResult::kEnd;
    std::string path = JoinPath(folder_, files_[pos_++]);
    auto bytes = ReadFileToString(path, kMaxSmallFileBytes);
    Status st = bytes.ok() ? DecodeAndPreprocessImage(*bytes, path, pp_, dst) : bytes.status();
    if (!st.ok()) {
      if (warn_) warn_("input '" + input_ + "': skipping " + st.message());
      return FetchResult::kSkipped;
    }
    return FetchResult::kSample;
  }
  Status Rewind() override {
    pos_ = 0;
    return Status::Ok();
  }
  std::string Describe() const override {
    return "IMAGE folder " + folder_ + " (" + std::to_string(files_.size()) + " image files)";
  }

 private:
  std::string input_, folder_;
  std::vector<std::string> files_;
  ImagePreprocess pp_;
  WarningFn warn_;
  Shape shape_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<SampleSource>> OpenImageFolderSource(const std::string& input_name, const std::string& folder,
                                                             const ImagePreprocess& pp, WarningFn warn) {
  std::string who = "input '" + input_name + "'";
  if (pp.channels != 1 && pp.channels != 3) {
    return InvalidArgument(who + ": IMAGE data needs 1 or 3 channels, the input has " + std::to_string(pp.channels));
  }
  if (pp.height <= 0 || pp.width <= 0) return InvalidArgument(who + ": image height and width must be positive");
  DIR* d = opendir(folder.c_str());
  if (!d) return NotFound(who + ": cannot open image folder " + folder + ": " + std::strerror(errno));
  std::vector<std::string> files, skipped;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    std::string full = JoinPath(folder, n);
    bool is_dir = stat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    if (!is_dir && IsImageFileName(n)) {
      files.push_back(n);
    } else {
      skipped.push_back(n + (is_dir ? "/" : ""));
    }
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  std::sort(skipped.begin(), skipped.end());
  if (warn) {
    for (const auto& s : skipped) warn(who + ": skipping " + JoinPath(folder, s) + " (" + (s.back() == '/' ? "a sub-folder" : "not an image file name") + ")");
  }
  if (files.empty()) {
    return InvalidArgument(who + ": no image files in " + folder +
                           " (looked for .bmp .dib .jpeg .jpg .jpe .png .webp .pbm .pgm .ppm .tiff .tif)");
  }
  return std::unique_ptr<SampleSource>(new ImageFolderSource(input_name, folder, std::move(files), pp, std::move(warn)));
}

}  // namespace dopt
