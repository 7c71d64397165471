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

// The folders the codec modules are looked for in (data/image_codec.h), or an error.
StatusOr<std::vector<std::string>> CodecFolders() {
  if (const char* env = std::getenv("DOPT_IMAGE_CODEC_DIR"); env && *env) {
    struct stat st;
    if (stat(env, &st) != 0 || !S_ISDIR(st.st_mode)) {
      return NotFound(std::string("DOPT_IMAGE_CODEC_DIR=") + env + " is not a folder (it should hold dopt's " +
                      DOPT_IMAGE_CODEC_FILE + " and " + DOPT_IMAGE_CODEC_OPENCV_FILE + ")");
    }
    return std::vector<std::string>{env};
  }
  std::string dir = ExecutableDir();
  if (dir.empty()) {
    return NotFound("decoding images needs the modules " DOPT_IMAGE_CODEC_FILE " and " DOPT_IMAGE_CODEC_OPENCV_FILE
                    ", and the executable's folder (/proc/self/exe) cannot be read to find them; set "
                    "DOPT_IMAGE_CODEC_DIR to their folder");
  }
  return std::vector<std::string>{dir, JoinPath(dir, "../lib/dopt")};
}

// The path of codec module `file`, or an error naming where it was looked for.
StatusOr<std::string> FindCodec(const char* file) {
  DOPT_ASSIGN_OR_RETURN(std::vector<std::string> folders, CodecFolders());
  std::string where;
  for (const std::string& folder : folders) {
    std::string path = JoinPath(folder, file);
    if (path.find('/') == std::string::npos) path = "./" + path;  // dlopen would search the library path
    if (IsRegularFile(path)) return path;
    where += (where.empty() ? "" : ", ") + path;
  }
  return NotFound(std::string("decoding images needs the module ") + file + ", which was not found (looked in: " +
                  where + "); set DOPT_IMAGE_CODEC_DIR to its folder");
}

// Loads a codec module; the handle stays open for the life of the process.
StatusOr<DoptImageDecodeFn> LoadCodec(const char* file) {
  DOPT_ASSIGN_OR_RETURN(std::string path, FindCodec(file));
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return NotFound("cannot load the image codec module " + path + ": " + (why ? why : "dlopen failed"));
  }
  auto fn = reinterpret_cast<DoptImageDecodeFn>(dlsym(handle, DOPT_IMAGE_CODEC_SYMBOL));
  if (!fn) return NotFound(path + " is not one of dopt's image codec modules (no " DOPT_IMAGE_CODEC_SYMBOL ")");
  return fn;
}

// Each module is loaded once; a failure is remembered and returned to every caller.
template <const char* kFile>
StatusOr<DoptImageDecodeFn> Codec() {
  static std::once_flag once;
  static StatusOr<DoptImageDecodeFn> loaded = NotFound("");
  std::call_once(once, [] { loaded = LoadCodec(kFile); });
  return loaded;
}
constexpr char kPlainCodec[] = DOPT_IMAGE_CODEC_FILE;
constexpr char kOpenCvCodec[] = DOPT_IMAGE_CODEC_OPENCV_FILE;

}  // namespace

Status DecodeAndPreprocessImage(const std::string& bytes, const std::string& name, const ImagePreprocess& pp,
                                float* dst) {
  if (pp.channels != 1 && pp.channels != 3) {
    return InvalidArgument(name + ": images need 1 or 3 channels, the input has " + std::to_string(pp.channels));
  }
  if (pp.height <= 0 || pp.width <= 0) return InvalidArgument(name + ": image height and width must be positive");
  if (pp.height > INT32_MAX / pp.width / 3) return InvalidArgument(name + ": image size is too large");
  std::vector<uint8_t> pixels((size_t)(pp.height * pp.width * pp.channels));
  char err[512] = "";
  int rc = DOPT_IMAGE_DECLINED;
  for (auto codec : {Codec<kPlainCodec>, Codec<kOpenCvCodec>}) {  // the plain one first, OpenCV's for the rest
    DOPT_ASSIGN_OR_RETURN(DoptImageDecodeFn decode, codec());
    rc = decode(bytes.data(), bytes.size(), (int)pp.channels, (int)pp.height, (int)pp.width,
                pp.order == ColorOrder::kRGB ? 1 : 0, pixels.data(), err, sizeof(err));
    if (rc != DOPT_IMAGE_DECLINED) break;
  }
  if (rc != DOPT_IMAGE_OK) {
    return InvalidArgument(name + ": " + (rc == DOPT_IMAGE_DECLINED ? "no image codec reads this file" : err));
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
      // OpenCV's codec, asked for every file the plain one declines, that cannot be loaded ends
      // the run: one error, not a warning for each such file.
      if (bytes.ok()) {
        if (auto opencv = Codec<kOpenCvCodec>(); !opencv.ok()) {
          return Status(opencv.status().code(),
                        "input '" + input_ + "': " + opencv.status().message() + " (needed for " + path + ")");
        }
      }
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
  // A missing or broken codec module is one error here, not a warning per image. The OpenCV
  // codec is loaded only when the plain one declines a file, but must be there.
  if (auto codec = Codec<kPlainCodec>(); !codec.ok()) return codec.status().WithContext(who);
  if (auto path = FindCodec(DOPT_IMAGE_CODEC_OPENCV_FILE); !path.ok()) return path.status().WithContext(who);
  return std::unique_ptr<SampleSource>(new ImageFolderSource(input_name, folder, std::move(files), pp, std::move(warn)));
}

}  // namespace dopt
