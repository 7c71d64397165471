#include "data/calib_config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <unistd.h>

#include <cctype>
#include <algorithm>
#include <cmath>
#include <set>

#include "common/file_util.h"
#include "data/flag_parsing.h"
#include "dopt_config.pb.h"

namespace dopt {

const char* CalibInputTypeName(CalibInputType t) { return t == CalibInputType::kImage ? "IMAGE" : "BINARY"; }
const char* ColorOrderName(ColorOrder c) { return c == ColorOrder::kBGR ? "BGR" : "RGB"; }

const std::vector<std::string>& SupportedStrategies() {
  static const std::vector<std::string> kStrategies = {"Quant_INT8-8", "Quant_INT16-8"};
  return kStrategies;
}

std::string StripLineComments(const std::string& text) {
  std::string out = text;
  char quote = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    char c = out[i];
    if (quote) {
      if (c == '\\' && i + 1 < out.size()) {
        ++i;
      } else if (c == quote || c == '\n') {
        quote = 0;
      }
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#') {  // TextFormat's own comment: skip it so quotes inside don't count
      while (i < out.size() && out[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < out.size() && out[i + 1] == '/') {
      while (i < out.size() && out[i] != '\n') out[i++] = ' ';
    }
  }
  return out;
}

std::string AbsolutePath(const std::string& path) {
  std::string p = path;
  if (p.empty() || p[0] != '/') {
    std::string cwd;
    char buf[4096];
    if (getcwd(buf, sizeof(buf))) cwd = buf;
    p = cwd + "/" + p;
  }
  // Lexical normalisation: drop "." and empty parts, fold "..".
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string part = p.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& part : parts) out += "/" + part;
  if (out.empty()) out = "/";
  if (path.size() > 1 && path.back() == '/' && out != "/") out += "/";
  return out;
}

namespace {

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column, const std::string& message) override {
    if (first.empty()) {
      first_line = line;
      first_column = column;
      first = message;
    }
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  std::string first;
  int first_line = -1, first_column = -1;
};

// TextFormat reports a bad value (an unknown enum name) at the token after it, often on the
// next line. Where the message quotes the value, point at the value itself.
void LocateQuotedValue(const std::string& text, const std::string& message, int* line, int* column) {
  const std::string key = "value of \"";
  size_t k = message.find(key);
  if (k == std::string::npos || *line < 0) return;
  size_t e = message.find('"', k + key.size());
  if (e == std::string::npos) return;
  std::string value = message.substr(k + key.size(), e - k - key.size());
  // The last occurrence of the value at or before the reported position.
  size_t pos = 0;
  int cur_line = 0;
  while (cur_line < *line && pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;
    pos = nl + 1;
    ++cur_line;
  }
  size_t limit = std::min(text.size(), pos + (size_t)std::max(*column, 0));
  size_t hit = text.rfind(value, limit);
  if (hit == std::string::npos || value.empty()) return;
  int l = 0;
  size_t line_start = 0;
  for (size_t i = 0; i < hit; ++i) {
    if (text[i] == '\n') {
      ++l;
      line_start = i + 1;
    }
  }
  *line = l;
  *column = (int)(hit - line_start);
}

std::string FloatStr(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

}  // namespace

StatusOr<CalibConfig> ParseCalibConfig(const std::string& text, const std::string& config_path) {
  CalibConfig cfg;
  cfg.config_path = AbsolutePath(config_path);
  const std::string& where = cfg.config_path;
  dopt_config::NotrainParameter msg;
  google::protobuf::TextFormat::Parser parser;
  CollectErrors errors;
  parser.RecordErrorsTo(&errors);
  parser.AllowPartialMessage(true);  // required fields are checked below, with a clearer message
  std::string stripped = StripLineComments(text);
  if (!parser.ParseFromString(stripped, &msg)) {
    if (errors.first.empty()) return InvalidArgument(where + ": cannot parse the config");
    int line = errors.first_line, column = errors.first_column;
    LocateQuotedValue(stripped, errors.first, &line, &column);
    if (line < 0) return InvalidArgument(where + ": " + errors.first);
    return InvalidArgument(where + ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " +
                           errors.first);
  }
  cfg.strategy = msg.strategy();
  if (cfg.strategy == "Quant_INT8-8") {
    cfg.activation_bits = 8;
  } else if (cfg.strategy == "Quant_INT16-8") {
    cfg.activation_bits = 16;
  } else {
    std::string list;
    for (const auto& s : SupportedStrategies()) list += (list.empty() ? "" : ", ") + s;
    return InvalidArgument(where + ": unknown strategy \"" + cfg.strategy + "\"; supported: " + list);
  }
  cfg.weight_bits = 8;
  cfg.use_gpu = msg.device() == dopt_config::USE_GPU;
  if (msg.preprocess_parameter_size() == 0) {
    return InvalidArgument(where + ": no preprocess_parameter block; give one per model input");
  }
  std::string config_dir = DirName(cfg.config_path);
  for (int i = 0; i < msg.preprocess_parameter_size(); ++i) {
    const auto& p = msg.preprocess_parameter(i);
    std::string blk = where + ": preprocess_parameter #" + std::to_string(i + 1);
    PreprocessSpec spec;
    spec.input_type = p.input_type() == dopt_config::BINARY ? CalibInputType::kBinary : CalibInputType::kImage;
    spec.image_format = p.image_format() == dopt_config::RGB ? ColorOrder::kRGB : ColorOrder::kBGR;
    if (!p.has_input_file_path()) return InvalidArgument(blk + " has no input_file_path (it is required)");
    spec.input_file_path = p.input_file_path();
    if (spec.input_file_path.empty()) return InvalidArgument(blk + ": input_file_path is empty");
    spec.resolved_path = AbsolutePath(spec.input_file_path[0] == '/' ? spec.input_file_path
                                                                     : JoinPath(config_dir, spec.input_file_path));
    for (float m : p.mean_value()) {
      if (!(m >= 0.f && m <= 255.f)) {
        return InvalidArgument(blk + ": mean_value " + FloatStr(m) + " is outside 0 to 255");
      }
      spec.mean_value.push_back(m);
    }
    for (float s : p.standard_deviation()) {
      if (!(s >= 0.f) || std::isinf(s)) {
        return InvalidArgument(blk + ": standard_deviation " + FloatStr(s) + " must be >= 0 and finite");
      }
      spec.standard_deviation.push_back(s);
    }
    cfg.inputs.push_back(std::move(spec));
  }
  std::vector<std::string> entries(msg.exclude_op().begin(), msg.exclude_op().end());
  cfg.exclude_ops = SplitExcludeOps(entries);

  // dopt extensions.
  if (msg.has_calibration_method()) {
    static const std::vector<std::string> kMethods = {"minmax", "kl", "percentile", "mse"};
    std::string m = msg.calibration_method();
    for (char& c : m) c = (char)std::tolower((unsigned char)c);
    if (m == "entropy") m = "kl";
    if (std::find(kMethods.begin(), kMethods.end(), m) == kMethods.end()) {
      return InvalidArgument(where + ": unknown calibration_method \"" + msg.calibration_method() +
                             "\"; supported: minmax, kl, percentile, mse");
    }
    cfg.calibration_method = m;
  }
  cfg.percentile = msg.percentile();
  if (!(cfg.percentile > 50.f && cfg.percentile <= 100.f)) {
    return InvalidArgument(where + ": percentile " + FloatStr(cfg.percentile) + " must be above 50 and at most 100");
  }
  cfg.per_channel = msg.per_channel();
  cfg.symmetric_activations = msg.symmetric_activations();
  cfg.max_calibration_samples = msg.max_calibration_samples();
  cfg.quantize_activation_matmul = msg.quantize_activation_matmul();
  cfg.equalization = msg.equalization();
  cfg.bias_correction = msg.bias_correction();
  cfg.x86_saturation_safe = dopt_config::X86SaturationSafe_Name(msg.x86_saturation_safe());
  cfg.accuracy_target = msg.accuracy_target();
  if (!(cfg.accuracy_target >= 0.f && cfg.accuracy_target <= 1.f)) {
    return InvalidArgument(where + ": accuracy_target " + FloatStr(cfg.accuracy_target) +
                           " must be an output cosine between 0 and 1 (0 = off)");
  }
  cfg.analysis_samples = msg.analysis_samples();
  cfg.quantize_op_types = SplitExcludeOps({msg.quantize_op_type().begin(), msg.quantize_op_type().end()});
  if (msg.has_smooth_quant_alpha()) {
    cfg.smooth_quant_alpha = msg.smooth_quant_alpha();
    if (!(cfg.smooth_quant_alpha >= 0.f && cfg.smooth_quant_alpha <= 1.f)) {
      return InvalidArgument(where + ": smooth_quant_alpha " + FloatStr(cfg.smooth_quant_alpha) +
                             " is not in [0, 1] (the share of each activation channel's range moved into the weights)");
    }
  }
  if (cfg.analysis_samples < 1) return InvalidArgument(where + ": analysis_samples must be >= 1");
  for (int i = 0; i < msg.layer_precision_size(); ++i) {
    const auto& lp = msg.layer_precision(i);
    const std::string blk = where + ": layer_precision #" + std::to_string(i + 1);
    if (lp.op().empty() == lp.tensor().empty()) {
      return InvalidArgument(blk + " must name exactly one of op or tensor");
    }
    CalibConfig::LayerPrecision p;
    p.op = lp.op();
    p.tensor = lp.tensor();
    p.precision = lp.precision() == dopt_config::INT8 ? "int8" : lp.precision() == dopt_config::INT16 ? "int16" : "float";
    cfg.layer_precision.push_back(std::move(p));
  }
  if (cfg.max_calibration_samples < 0) {
    return InvalidArgument(where + ": max_calibration_samples must be >= 0 (0 = every sample)");
  }
  return cfg;
}

StatusOr<CalibConfig> LoadCalibConfig(const std::string& path) {
  auto bytes = ReadFileToString(path, kMaxConfigBytes);
  if (!bytes.ok()) {
    std::string m = bytes.status().message();
    if (m.compare(0, path.size(), path) == 0) m = AbsolutePath(path) + m.substr(path.size());
    return Status(bytes.status().code(), "cannot read --cal_conf: " + m);
  }
  return ParseCalibConfig(*bytes, path);
}

}  // namespace dopt
