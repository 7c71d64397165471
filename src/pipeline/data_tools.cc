// The calibration-data tools behind `dopt check-config`, `make-bin` and `inspect`.
#include <sys/stat.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/data_tools.h"
#include "common/file_util.h"
#include "common/progress.h"
#include "data/bin_file.h"
#include "data/calib_config.h"
#include "data/calibration_stream.h"
#include "data/flag_parsing.h"
#include "data/model_binding.h"
#include "data/sample_source.h"
#include "frontends/load_model.h"
#include "io/npy.h"
#include "quant/compress_conf.h"

namespace dopt {

namespace {

std::string Floats(const std::vector<float>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) {
    char b[32];
    std::snprintf(b, sizeof(b), "%s%g", i ? "," : "", v[i]);
    s += b;
  }
  return s + ")";
}

// ---- check-config ----


}  // namespace

Status CheckConfig(const CheckConfigRequest& a) {
  DOPT_ASSIGN_OR_RETURN(CalibConfig cfg, LoadCalibConfig(a.cal_conf));
  struct stat st;
  if (stat(a.model.c_str(), &st) != 0) return NotFound("--model " + AbsolutePath(a.model) + " does not exist");
  DOPT_ASSIGN_OR_RETURN(Graph graph, LoadModel(a.model, a.framework));
  ModelNames names = ModelNamesFromGraph(graph);
  CalibFlags flags;
  flags.input_shape = a.input_shape;
  flags.input_format = a.input_format;
  flags.out_nodes = a.out_nodes;
  DOPT_ASSIGN_OR_RETURN(CalibRequest req, ResolveCalibRequest(cfg, flags, names));

  std::printf("config:     %s\n", cfg.config_path.c_str());
  std::printf("model:      %s\n", AbsolutePath(a.model).c_str());
  std::printf("strategy:   %s (activations %d-bit, weights %d-bit)\n", cfg.strategy.c_str(), cfg.activation_bits,
              cfg.weight_bits);
  if (cfg.use_gpu || a.device_idx >= 0) {
    std::printf("device:     %s%s requested; dopt has no GPU backend yet, the CPU is used\n",
                cfg.use_gpu ? "USE_GPU" : "USE_CPU",
                a.device_idx >= 0 ? (" (--device_idx " + std::to_string(a.device_idx) + ")").c_str() : "");
  } else {
    std::printf("device:     USE_CPU (the CPU is used)\n");
  }
  std::printf("layout:     %s\n", req.layout == DataLayout::kNHWC ? "NHWC" : "NCHW");
  std::printf("inputs:     %zu\n", req.inputs.size());
  StreamOptions so;
  so.batch_size = a.batch_size;
  DOPT_ASSIGN_OR_RETURN(auto stream, OpenCalibrationStream(req, so));
  for (size_t i = 0; i < req.inputs.size(); ++i) {
    const CalibInput& in = req.inputs[i];
    const auto& src = stream->sources()[i];
    std::printf("  [%zu] %s%s\n", i + 1, in.name.c_str(), in.cut_point ? "  (inner tensor: the graph is cut here)" : "");
    std::printf("      shape:      %s\n", ShapeToString(in.shape).c_str());
    std::printf("      type:       %s\n", CalibInputTypeName(in.data.input_type));
    std::printf("      data:       %s\n", in.data.resolved_path.c_str());
    std::printf("      source:     %s\n", src->Describe().c_str());
    std::printf("      samples:    %lld of %s%s\n", (long long)src->num_samples(), ShapeToString(src->sample_shape()).c_str(),
                src->whole_samples() ? " (whole input tensors: the data is one rank above the input)" : "");
    if (in.data.input_type == CalibInputType::kImage) {
      auto pp = ImagePreprocessFor(in, req.layout);
      std::vector<float> mean = pp.mean.empty() ? std::vector<float>((size_t)pp.channels, 0.f) : pp.mean;
      std::string sd = pp.std.empty() ? "none (no division)" : Floats(pp.std);
      std::printf("      preprocess: %s, %s, resize to %lldx%lld (bilinear), (x - mean) / std, mean %s, std %s\n",
                  ColorOrderName(in.data.image_format), pp.channels == 1 ? "grey" : "3 channels",
                  (long long)pp.height, (long long)pp.width, Floats(mean).c_str(), sd.c_str());
    } else {
      std::printf("      preprocess: none (BINARY data is used as is%s)\n",
                  req.layout == DataLayout::kNHWC ? "; 510 files are reordered to NHWC" : "");
    }
  }
  if (req.out_nodes.empty()) {
    std::printf("out_nodes:  (the model's outputs)\n");
  } else {
    std::printf("out_nodes:  %s\n", QuotedList(req.out_nodes, 1000).c_str());
  }
  std::printf("exclude_op: %s\n", req.exclude_ops.empty() ? "(none)" : QuotedList(req.exclude_ops, 1000).c_str());
  std::fflush(stdout);

  Progress progress("reading calibration data", stream->num_samples());
  std::map<std::string, Tensor> feeds;
  int64_t batches = 0;
  while (true) {
    DOPT_ASSIGN_OR_RETURN(bool more, stream->NextBatch(&feeds));
    if (!more) break;
    ++batches;
    progress.Update(stream->samples_drawn() + stream->samples_skipped());
  }
  progress.Finish();
  std::printf("read:       %lld sample(s) per input in %lld batch(es) of up to %lld", (long long)stream->samples_drawn(),
              (long long)batches, (long long)stream->batch_size());
  if (stream->samples_skipped() > 0) std::printf(", %lld skipped", (long long)stream->samples_skipped());
  std::printf("\nOK\n");
  return Status::Ok();
}

// ---- make-bin ----


static StatusOr<std::vector<float>> ParseFloatList(const std::string& flag, const std::string& text) {
  std::vector<float> out;
  std::string s = NormalizeFullWidthPunct(text);
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    std::string t = TrimSpaces(s.substr(i, j - i));
    char* end = nullptr;
    float v = t.empty() ? 0.f : std::strtof(t.c_str(), &end);
    if (t.empty() || *end != '\0' || !std::isfinite(v)) return InvalidArgument(flag + ": '" + t + "' is not a number");
    out.push_back(v);
    i = j + 1;
  }
  return out;
}

// float32 holds every integer of magnitude up to 2^24 exactly.
constexpr int64_t kExactFloatInt = int64_t{1} << 24;

Status MakeBin(const MakeBinRequest& a) {
  if (a.output.empty()) return InvalidArgument("make-bin: --output is required");
  if (a.npy.empty() == a.images.empty()) return InvalidArgument("make-bin: give either --npy files or --images FOLDER");
  for (const auto& n : a.npy) {
    if (SameFile(n, a.output)) return InvalidArgument("make-bin: --output " + a.output + " is also an input");
  }
  BinWriter w;
  if (!a.npy.empty()) {
    Shape sample;
    for (size_t i = 0; i < a.npy.size(); ++i) {
      DOPT_ASSIGN_OR_RETURN(Tensor t, ReadNpy(a.npy[i]));
      // A scalar is one sample of a rank-0 input (a sample rate): it becomes [1].
      if (t.rank() == 0) t = t.Reshaped({1});
      // Integers (token ids, masks, sample rates) and bools (0/1) are stored as float32, which
      // holds every integer up to 2^24 exactly; dopt casts them back to the input's type.
      if (IsInteger(t.dtype())) {
        const std::vector<int64_t> v = t.ToInt64Vector();
        for (size_t e = 0; e < v.size(); ++e) {
          if (v[e] > kExactFloatInt || v[e] < -kExactFloatInt) {
            return InvalidArgument(a.npy[i] + ": integer value " + std::to_string(v[e]) + " (element " + std::to_string(e) +
                                   ") cannot be stored exactly in float32 calibration data (|value| <= 16777216)");
          }
        }
      }
      if (t.dtype() != DType::kFloat32) t = t.CastTo(DType::kFloat32);
      Shape s(t.shape().begin() + 1, t.shape().end());
      if (i == 0) {
        sample = s;
        DOPT_RETURN_IF_ERROR(w.Open(a.output, a.magic, sample));
      } else if (s != sample) {
        return InvalidArgument(a.npy[i] + ": array shape " + ShapeToString(t.shape()) + " does not match " +
                                     a.npy[0] + " (samples of " + ShapeToString(sample) + ")");
      }
      DOPT_RETURN_IF_ERROR(w.Append(t.data<float>(), t.dim(0)));
    }
  } else {
    DOPT_ASSIGN_OR_RETURN(auto dims, ParseInputShape("x:" + a.image_shape));
    if (a.image_shape.empty() || dims[0].dims.size() != 3) {
      return InvalidArgument("make-bin: --image_shape must be C,H,W (e.g. 3,224,224), got '" + a.image_shape + "'");
    }
    DOPT_ASSIGN_OR_RETURN(DataLayout layout, ParseInputFormat(a.input_format));
    if (a.magic == kBinMagicNCHW && layout == DataLayout::kNHWC) {
      return InvalidArgument("make-bin: 510 files hold N,C,H,W data (dopt reorders them for NHWC models); "
                                   "use --magic 610 to write NHWC data");
    }
    ImagePreprocess pp;
    pp.channels = dims[0].dims[0];
    pp.height = dims[0].dims[1];
    pp.width = dims[0].dims[2];
    pp.nhwc = layout == DataLayout::kNHWC;
    if (a.image_format != "BGR" && a.image_format != "RGB") {
      return InvalidArgument("make-bin: --image_format '" + a.image_format + "' is not BGR or RGB");
    }
    pp.order = a.image_format == "RGB" ? ColorOrder::kRGB : ColorOrder::kBGR;
    if (!a.mean.empty()) {
      DOPT_ASSIGN_OR_RETURN(pp.mean, ParseFloatList("--mean_value", a.mean));
      if ((int64_t)pp.mean.size() != pp.channels) {
        return InvalidArgument("make-bin: " + std::to_string(pp.mean.size()) + " --mean_value(s) for " +
                                     std::to_string(pp.channels) + " channel(s)");
      }
      for (float m : pp.mean) if (m < 0 || m > 255) return InvalidArgument("make-bin: --mean_value must be within 0 to 255");
    }
    if (!a.stdev.empty()) {
      DOPT_ASSIGN_OR_RETURN(pp.std, ParseFloatList("--standard_deviation", a.stdev));
      if (pp.std.size() != 1 && (int64_t)pp.std.size() != pp.channels) {
        return InvalidArgument("make-bin: give one --standard_deviation or one per channel");
      }
      for (float s : pp.std) if (s < 0) return InvalidArgument("make-bin: --standard_deviation must be >= 0");
    }
    std::string folder = AbsolutePath(a.images);
    DOPT_ASSIGN_OR_RETURN(auto src, OpenImageFolderSource("images", folder, pp));
    DOPT_RETURN_IF_ERROR(w.Open(a.output, a.magic, src->sample_shape()));
    std::vector<float> buf((size_t)NumElements(src->sample_shape()));
    Progress progress("converting images", src->num_samples());
    int64_t seen = 0;
    while (true) {
      DOPT_ASSIGN_OR_RETURN(FetchResult r, src->Next(buf.data()));
      if (r == FetchResult::kEnd) break;
      progress.Update(++seen);
      if (r == FetchResult::kSample) DOPT_RETURN_IF_ERROR(w.Append(buf.data(), 1));
    }
    progress.Finish();
    if (w.num_samples() == 0) return InvalidArgument("make-bin: no image in " + folder + " could be decoded");
  }
  int64_t n = w.num_samples();
  DOPT_RETURN_IF_ERROR(w.Finish());
  DOPT_ASSIGN_OR_RETURN(BinHeader h, ReadBinHeader(a.output));
  std::printf("wrote %s: magic %d, shape %s (%lld samples)\n", a.output.c_str(), h.magic,
              ShapeToString(h.shape).c_str(), (long long)n);
  return Status::Ok();
}

// ---- inspect ----

// A compress_conf file (the quantization parameters): printed readably or as JSON.
static Status InspectCompressConf(const std::string& path, bool json, const Status& bin_error) {
  auto plan = ReadCompressConf(path);
  if (!plan.ok()) {
    if (plan.status().code() == StatusCode::kUnimplemented) return plan.status();
    std::string lower = path;
    for (char& c : lower) c = (char)std::tolower((unsigned char)c);
    if (lower.size() >= 4 && lower.compare(lower.size() - 4, 4, ".bin") == 0) return bin_error;
    return InvalidArgument(path + ": neither a calibration .bin file (" + bin_error.message() +
                                 ") nor a compress_conf file");
  }
  if (!json) std::printf("file:         %s\n", AbsolutePath(path).c_str());
  std::fputs(CompressConfToText(*plan, json).c_str(), stdout);
  return Status::Ok();
}

Status Inspect(const std::string& path, bool json) {
  auto header = ReadBinHeader(path);
  if (!header.ok()) {
    const StatusCode code = header.status().code();
    if (code == StatusCode::kNotFound || code == StatusCode::kIoError) return header.status();
    return InspectCompressConf(path, json, header.status());
  }
  if (json) return InvalidArgument(path + ": --json is for compress_conf files; this is a calibration .bin file");
  const BinHeader& h = *header;
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot open for reading");
  in.seekg((std::streamoff)h.header_bytes);
  int64_t total = NumElements(h.shape);
  double sum = 0, sumsq = 0, mn = std::numeric_limits<double>::infinity(), mx = -mn;
  int64_t nonfinite = 0, left = total;
  std::vector<float> buf(1 << 16);
  while (left > 0) {
    size_t n = (size_t)std::min<int64_t>(left, (int64_t)buf.size());
    if (!in.read(reinterpret_cast<char*>(buf.data()), (std::streamsize)(n * 4))) return IoError(path + ": read failed");
    for (size_t i = 0; i < n; ++i) {
      double v = buf[i];
      if (!std::isfinite(v)) {
        ++nonfinite;
        continue;
      }
      sum += v;
      sumsq += v * v;
      mn = std::min(mn, v);
      mx = std::max(mx, v);
    }
    left -= (int64_t)n;
  }
  int64_t finite = total - nonfinite;
  double mean = finite ? sum / finite : 0, var = finite ? std::max(0.0, sumsq / finite - mean * mean) : 0;
  Shape sample(h.shape.begin() + 1, h.shape.end());
  std::printf("file:      %s\n", AbsolutePath(path).c_str());
  std::printf("magic:     %d (%s)\n", h.magic, h.magic == kBinMagicAnyRank ? "any rank" : "N,C,H,W");
  std::printf("header:    %zu bytes\n", h.header_bytes);
  std::printf("shape:     %s (rank %zu)\n", ShapeToString(h.shape).c_str(), h.shape.size());
  std::printf("samples:   %lld of %s\n", (long long)h.shape[0], ShapeToString(sample).c_str());
  std::printf("values:    %lld float32\n", (long long)total);
  if (finite) {
    std::printf("min:       %.6g\nmax:       %.6g\nmean:      %.6g\nstd:       %.6g\n", mn, mx, mean, std::sqrt(var));
  }
  if (nonfinite) std::printf("non-finite: %lld (NaN or Inf)\n", (long long)nonfinite);
  return Status::Ok();
}

}  // namespace dopt
