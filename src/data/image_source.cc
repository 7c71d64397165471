#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/file_util.h"
#include "data/image_codec.h"
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

namespace {

bool IsRegularFile(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Loads dopt_image_codec.so once (data/image_codec.h says where it is looked for); a failure
// is remembered and returned to every caller.
StatusOr<DoptImageDecodeFn> ImageDecoder() {
  static std::once_flag once;
  static DoptImageDecodeFn fn = nullptr;
  static std::string error;
  std::call_once(once, [] {
    std::vector<std::string> tried;
    if (const char* env = std::getenv("DOPT_IMAGE_CODEC"); env && *env) {
      if (!IsRegularFile(env)) {
        error = std::string("DOPT_IMAGE_CODEC=") + env + " does not name a file (it should be dopt's " +
                DOPT_IMAGE_CODEC_FILE + ")";
        return;
      }
      // dlopen searches the library path for a name without '/': make it a path.
      std::string path = env;
      if (path.find('/') == std::string::npos) path = "./" + path;
      tried.push_back(path);
    } else if (std::string dir = ExecutableDir(); !dir.empty()) {
      tried.push_back(JoinPath(dir, DOPT_IMAGE_CODEC_FILE));
      tried.push_back(JoinPath(dir, std::string("../lib/dopt/") + DOPT_IMAGE_CODEC_FILE));
    } else {
      error = "decoding images needs the module " DOPT_IMAGE_CODEC_FILE
              ", and the executable's folder (/proc/self/exe) cannot be read to find it; set DOPT_IMAGE_CODEC to its path";
      return;
    }
    for (const std::string& path : tried) {
      if (!IsRegularFile(path)) continue;
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        const char* why = dlerror();
        error = "cannot load the image codec module " + path + ": " + (why ? why : "dlopen failed");
        return;
      }
      fn = reinterpret_cast<DoptImageDecodeFn>(dlsym(handle, DOPT_IMAGE_CODEC_SYMBOL));
      if (!fn) error = path + " is not dopt's image codec module (no " DOPT_IMAGE_CODEC_SYMBOL ")";
      return;  // the handle stays open for the life of the process
    }
    std::string where;
    for (const std::string& p : tried) where += (where.empty() ? "" : ", ") + p;
    error = "decoding images needs the module " DOPT_IMAGE_CODEC_FILE ", which was not found (looked in: " + where +
            "); set DOPT_IMAGE_CODEC to its path";
  });
  if (!fn) return NotFound(error);
  return fn;
}

}  // namespace

Status DecodeAndPreprocessImage(const std::string& bytes, const std::string& name, const ImagePreprocess& pp,
                                float* dst) {
  if (pp.channels != 1 && pp.channels != 3) {
    return InvalidArgument(name + ": images need 1 or 3 channels, the input has " + std::to_string(pp.channels));
  }
  if (pp.height <= 0 || pp.width <= 0) return InvalidArgument(name + ": image height and width must be positive");
  if (pp.height > INT32_MAX / pp.width / 3) return InvalidArgument(name + ": image size is too large");
  DOPT_ASSIGN_OR_RETURN(DoptImageDecodeFn decode, ImageDecoder());
  std::vector<uint8_t> pixels((size_t)(pp.height * pp.width * pp.channels));
  char err[512] = "";
  if (decode(bytes.data(), bytes.size(), (int)pp.channels, (int)pp.height, (int)pp.width,
             pp.order == ColorOrder::kRGB ? 1 : 0, pixels.data(), err, sizeof(err)) != 0) {
    return InvalidArgument(name + ": " + err);
  }
  const int64_t C = pp.channels, H = pp.height, W = pp.width;
  float mean[3], scale[3];
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = pp.mean.empty() ? 0.f : pp.mean[c];
    float s = pp.std.empty() ? 0.f : pp.std.size() == 1 ? pp.std[0] : pp.std[c];
    scale[c] = s == 0.f ? 1.f : 1.f / s;
  }
  for (int64_t y = 0; y < H; ++y) {
    const uint8_t* row = pixels.data() + y * W * C;
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
  if (pp.height > INT32_MAX / pp.width / 3) {
    return InvalidArgument(who + ": image size " + std::to_string(pp.height) + " x " + std::to_string(pp.width) +
                           " is too large");
  }
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
  // A missing or broken codec module is one error here, not a warning per image.
  if (auto codec = ImageDecoder(); !codec.ok()) return codec.status().WithContext(who);
  return std::unique_ptr<SampleSource>(new ImageFolderSource(input_name, folder, std::move(files), pp, std::move(warn)));
}

}  // namespace dopt
