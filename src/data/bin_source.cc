#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/file_util.h"
#include "data/bin_file.h"
#include "data/sample_source.h"

namespace dopt {

namespace {

bool IsBinFileName(const std::string& n) {
  if (n.size() < 4) return false;
  std::string ext = n.substr(n.size() - 4);
  for (char& c : ext) c = (char)std::tolower((unsigned char)c);
  return ext == ".bin";
}

struct BinPart {
  std::string path;
  BinHeader header;
  int64_t samples = 0;
};

class BinSource : public SampleSource {
 public:
  BinSource(std::string input, std::string path, std::vector<BinPart> parts, Shape sample_shape, bool nhwc,
            bool whole)
      : input_(std::move(input)), path_(std::move(path)), parts_(std::move(parts)), shape_(std::move(sample_shape)),
        nhwc_(nhwc), whole_(whole) {
    for (const auto& p : parts_) total_ += p.samples;
    sample_floats_ = NumElements(shape_);
  }
  const std::string& input_name() const override { return input_; }
  const Shape& sample_shape() const override { return shape_; }
  int64_t num_samples() const override { return total_; }
  bool whole_samples() const override { return whole_; }

  StatusOr<FetchResult> Next(float* dst) override {
    while (part_ < parts_.size() && index_ >= parts_[part_].samples) {
      ++part_;
      index_ = 0;
      in_.close();
    }
    if (part_ >= parts_.size()) return FetchResult::kEnd;
    const BinPart& p = parts_[part_];
    if (!in_.is_open()) {
      in_.clear();
      in_.open(p.path, std::ios::binary);
      if (!in_) return IoError(p.path + ": cannot open for reading: " + std::strerror(errno));
      in_.seekg((std::streamoff)(p.header.header_bytes + (size_t)index_ * sample_floats_ * 4));
    }
    bool reorder = nhwc_ && p.header.magic == kBinMagicNCHW;
    float* target = dst;
    if (reorder) {
      scratch_.resize((size_t)sample_floats_);
      target = scratch_.data();
    }
    if (!in_.read(reinterpret_cast<char*>(target), (std::streamsize)(sample_floats_ * 4))) {
      return IoError(p.path + ": read of sample " + std::to_string(index_) + " failed (file changed while reading?)");
    }
    if (reorder) {  // file CHW -> model HWC
      int64_t H = shape_[0], W = shape_[1], C = shape_[2];
      for (int64_t c = 0; c < C; ++c)
        for (int64_t y = 0; y < H; ++y)
          for (int64_t x = 0; x < W; ++x) dst[(y * W + x) * C + c] = target[(c * H + y) * W + x];
    }
    ++index_;
    return FetchResult::kSample;
  }
  Status Rewind() override {
    part_ = 0;
    index_ = 0;
    in_.close();
    return Status::Ok();
  }
  std::string Describe() const override {
    std::string s = parts_.size() == 1 ? "BINARY file " + path_ : "BINARY folder " + path_ + " (" + std::to_string(parts_.size()) + " .bin files)";
    std::string magics;
    for (const auto& p : parts_) {
      std::string m = std::to_string(p.header.magic);
      if (magics.find(m) == std::string::npos) magics += (magics.empty() ? "" : "/") + m;
    }
    return s + ", magic " + magics;
  }

 private:
  std::string input_, path_;
  std::vector<BinPart> parts_;
  Shape shape_;
  bool nhwc_;
  bool whole_;
  int64_t total_ = 0, sample_floats_ = 0;
  size_t part_ = 0;
  int64_t index_ = 0;
  std::ifstream in_;
  std::vector<float> scratch_;
};

}  // namespace

StatusOr<std::unique_ptr<SampleSource>> OpenBinSource(const std::string& input_name, const std::string& path,
                                                     const Shape& input_shape, bool nhwc, WarningFn warn) {
  std::string who = "input '" + input_name + "'";
  // Samples of the input's shape without its batch dim (a rank-0 input has none).
  Shape sample_shape = input_shape.empty() ? Shape{} : Shape(input_shape.begin() + 1, input_shape.end());
  int whole = -1;  // unknown until the first file: 1 = files hold whole input tensors
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return NotFound(who + ": " + path + " does not exist");
  std::vector<std::string> files;
  if (S_ISDIR(st.st_mode)) {
    DIR* d = opendir(path.c_str());
    if (!d) return NotFound(who + ": cannot open folder " + path + ": " + std::strerror(errno));
    std::vector<std::string> skipped;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      struct stat fs;
      bool is_dir = stat(JoinPath(path, n).c_str(), &fs) == 0 && S_ISDIR(fs.st_mode);
      (!is_dir && IsBinFileName(n) ? files : skipped).push_back(n + (is_dir ? "/" : ""));
    }
    closedir(d);
    std::sort(files.begin(), files.end());
    std::sort(skipped.begin(), skipped.end());
    if (warn) for (const auto& s : skipped) warn(who + ": skipping " + JoinPath(path, s) + " (not a .bin file)");
    if (files.empty()) return InvalidArgument(who + ": no .bin files in folder " + path);
    for (auto& f : files) f = JoinPath(path, f);
  } else {
    files.push_back(path);
  }
  std::vector<BinPart> parts;
  for (const auto& f : files) {
    BinPart p;
    p.path = f;
    DOPT_ASSIGN_OR_RETURN(p.header, ReadBinHeader(f));
    const Shape& h = p.header.shape;
    p.samples = h[0];
    Shape file_sample(h.begin() + 1, h.end());
    Shape want = sample_shape;
    std::string note;
    // A file one rank above the input holds whole samples, each of the input's full shape: a
    // [N, 2, 1, 128] file feeds a [2, 1, 128] state, an [N] file a rank-0 input.
    bool file_whole = p.header.magic != kBinMagicNCHW && h.size() == input_shape.size() + 1 && file_sample == input_shape;
    if (whole >= 0 && (whole == 1) != file_whole) {
      return InvalidArgument(who + ": " + f + " has header shape " + ShapeToString(h) +
                             ", but the folder's other files hold " +
                             (whole ? "whole samples of " + ShapeToString(input_shape) : "samples of " + ShapeToString(sample_shape)));
    }
    whole = file_whole ? 1 : 0;
    if (file_whole) want = input_shape;
    if (p.header.magic == kBinMagicNCHW) {
      if (sample_shape.size() != 3) {
        return InvalidArgument(who + ": " + f + " is a 510 (N,C,H,W) file, but the input is " +
                               std::to_string(sample_shape.size() + 1) + "-D; use a 610 file");
      }
      if (nhwc) {
        want = {sample_shape[2], sample_shape[0], sample_shape[1]};
        note = " (510 data is N,C,H,W and is reordered for the NHWC model)";
      }
    }
    if (file_sample != want) {
      return InvalidArgument(who + ": " + f + " has header shape " + ShapeToString(h) + ", i.e. " +
                             std::to_string(h[0]) + " samples of " + ShapeToString(file_sample) +
                             "; the input needs samples of " + ShapeToString(want) + note +
                             " (or, one rank higher, whole samples of " + ShapeToString(input_shape) + ")");
    }
    parts.push_back(std::move(p));
  }
  bool w = whole == 1;
  return std::unique_ptr<SampleSource>(
      new BinSource(input_name, path, std::move(parts), w ? input_shape : sample_shape, nhwc && !w, w));
}

}  // namespace dopt
