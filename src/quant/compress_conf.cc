#include "quant/compress_conf.h"

#include <cmath>
#include <cstdio>

#include "common/file_util.h"
#include "compress_conf.pb.h"

namespace dopt {

namespace {

constexpr const char* kFormat = "dopt.compress_conf";
// The newest format_version this dopt reads and writes. A plan is written as version 1 unless it
// uses something an older reader would silently misread: version 2 for smoothing (field 23: an
// old reader would pair the smoothed scales with the unsmoothed weights) and activation-only ops
// (op field 13).
constexpr uint32_t kFormatVersion = 2;

uint32_t FormatVersionOf(const QuantPlan& p) {
  if (!p.smoothing.empty()) return 2;
  for (const QuantizedOp& op : p.ops)
    if (op.activation_only) return 2;
  return 1;
}

void ToProto(const TensorQuant& q, dopt_compress::TensorQuantParam* p) {
  p->set_tensor(q.tensor);
  p->set_bits(q.bits);
  p->set_symmetric(q.symmetric);
  p->set_axis(q.axis);
  for (float s : q.scales) p->add_scale(s);
  for (int32_t z : q.zero_points) p->add_offset(z);
  if (q.range_min != 0 || q.range_max != 0) {
    p->set_range_min(q.range_min);
    p->set_range_max(q.range_max);
  }
}

TensorQuant FromProto(const dopt_compress::TensorQuantParam& p) {
  TensorQuant q;
  q.tensor = p.tensor();
  q.bits = p.bits();
  q.symmetric = p.symmetric();
  q.axis = p.axis();
  q.scales.assign(p.scale().begin(), p.scale().end());
  q.zero_points.assign(p.offset().begin(), p.offset().end());
  q.range_min = p.range_min();
  q.range_max = p.range_max();
  return q;
}

Status CheckTensor(const TensorQuant& q, const std::string& where) {
  if (q.bits != 8 && q.bits != 16 && q.bits != 32)
    return InvalidArgument(where + ": bits " + std::to_string(q.bits) + " (8, 16 or 32 expected)");
  if (!q.zero_points.empty() && q.zero_points.size() != q.scales.size()) {
    return InvalidArgument(where + ": " + std::to_string(q.scales.size()) + " scale(s) but " +
                           std::to_string(q.zero_points.size()) + " offset(s)");
  }
  if (q.axis < -1) return InvalidArgument(where + ": axis " + std::to_string(q.axis));
  return Status::Ok();
}

// ---- text and JSON ----

// Text shows 6 significant digits; JSON 9, enough to give back every float32 exactly.
std::string Num(double v, int digits = 6) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
  char b[40];
  std::snprintf(b, sizeof(b), "%.*g", digits, v);
  return b;
}

std::string JsonNum(double v) { return std::isfinite(v) ? Num(v, 9) : "null"; }

std::string JsonStr(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof(b), "\\u%04x", c);
          o += b;
        } else {
          o += (char)c;
        }
    }
  }
  return o + "\"";
}

template <typename T>
std::string JsonArray(const std::vector<T>& v) {
  std::string o = "[";
  for (size_t i = 0; i < v.size(); ++i) o += (i ? ", " : "") + JsonNum((double)v[i]);
  return o + "]";
}

std::string JsonTensor(const TensorQuant& q, const std::string& ind) {
  std::string o = "{\n";
  o += ind + "  \"tensor\": " + JsonStr(q.tensor) + ",\n";
  o += ind + "  \"bits\": " + std::to_string(q.bits) + ",\n";
  o += ind + "  \"symmetric\": " + (q.symmetric ? "true" : "false") + ",\n";
  o += ind + "  \"axis\": " + std::to_string(q.axis) + ",\n";
  o += ind + "  \"scales\": " + JsonArray(q.scales) + ",\n";
  o += ind + "  \"offsets\": " + JsonArray(q.zero_points) + ",\n";
  o += ind + "  \"range_min\": " + JsonNum(q.range_min) + ",\n";
  o += ind + "  \"range_max\": " + JsonNum(q.range_max) + "\n";
  return o + ind + "}";
}

std::string ToJson(const QuantPlan& p) {
  std::string o = "{\n";
  o += "  \"format\": " + JsonStr(kFormat) + ",\n";
  o += "  \"format_version\": " + std::to_string(FormatVersionOf(p)) + ",\n";
  o += "  \"tool_version\": " + JsonStr(p.tool_version) + ",\n";
  o += "  \"strategy\": " + JsonStr(p.strategy) + ",\n";
  o += "  \"framework\": " + std::to_string(p.framework) + ",\n";
  o += "  \"source_model\": " + JsonStr(p.source_model) + ",\n";
  o += "  \"source_sha256\": " + JsonStr(p.source_sha256) + ",\n";
  o += "  \"calibration_method\": " + JsonStr(p.calibration_method) + ",\n";
  o += "  \"calibration_samples\": " + std::to_string(p.calibration_samples) + ",\n";
  o += "  \"activation_bits\": " + std::to_string(p.activation_bits) + ",\n";
  o += "  \"weight_bits\": " + std::to_string(p.weight_bits) + ",\n";
  o += std::string("  \"per_channel\": ") + (p.per_channel ? "true" : "false") + ",\n";
  o += std::string("  \"symmetric_activations\": ") + (p.symmetric_activations ? "true" : "false") + ",\n";
  o += "  \"ops\": [";
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const QuantizedOp& op = p.ops[i];
    o += i ? ",\n    {\n" : "\n    {\n";
    o += "      \"name\": " + JsonStr(op.node) + ",\n";
    o += "      \"type\": " + JsonStr(op.op_type) + ",\n";
    if (op.activation_only) {
      o += "      \"activation_only\": true,\n";
      o += "      \"activation\": " + JsonTensor(op.input, "      ") + "\n    }";
      continue;
    }
    o += "      \"weight_name\": " + JsonStr(op.weight.tensor) + ",\n";
    o += "      \"weight_input_index\": " + std::to_string(op.weight_input_index) + ",\n";
    o += "      \"activation\": " + JsonTensor(op.input, "      ") + ",\n";
    o += "      \"weight\": " + JsonTensor(op.weight, "      ");
    if (op.has_bias) o += ",\n      \"bias\": " + JsonTensor(op.bias, "      ");
    if (op.weight_is_activation) o += ",\n      \"weight_is_activation\": true";
    if (op.has_weight2) {
      o += ",\n      \"weight2_input_index\": " + std::to_string(op.weight2_input_index);
      o += ",\n      \"weight2\": " + JsonTensor(op.weight2, "      ");
    }
    if (op.weight_limit > 0) o += ",\n      \"weight_limit\": " + std::to_string(op.weight_limit);
    if (!op.bias_correction.empty()) o += ",\n      \"bias_correction\": " + JsonArray(op.bias_correction);
    o += "\n    }";
  }
  o += p.ops.empty() ? "],\n" : "\n  ],\n";
  o += "  \"excluded\": [";
  for (size_t i = 0; i < p.excluded.size(); ++i) {
    const ExcludedOp& e = p.excluded[i];
    o += std::string(i ? "," : "") + "\n    {\"name\": " + JsonStr(e.node) + ", \"type\": " + JsonStr(e.op_type) +
         ", \"reason\": " + JsonStr(e.reason) + "}";
  }
  o += p.excluded.empty() ? "],\n" : "\n  ],\n";
  o += std::string("  \"equalization\": ") + (p.equalization ? "true" : "false") + ",\n";
  o += std::string("  \"bias_correction\": ") + (p.bias_correction ? "true" : "false") + ",\n";
  o += "  \"x86_saturation_safe\": " + JsonStr(p.x86_saturation_safe) + ",\n";
  o += "  \"accuracy_target\": " + JsonNum(p.accuracy_target) + ",\n";
  o += "  \"accuracy_achieved\": " + JsonNum(p.accuracy_achieved) + ",\n";
  o += "  \"raised\": [";
  for (size_t i = 0; i < p.raised.size(); ++i) {
    const RaisedOp& r = p.raised[i];
    o += std::string(i ? "," : "") + "\n    {\"name\": " + JsonStr(r.node) + ", \"type\": " + JsonStr(r.op_type) +
         ", \"precision\": " + JsonStr(r.precision) + ", \"reason\": " + JsonStr(r.reason) + "}";
  }
  o += p.raised.empty() ? "],\n" : "\n  ],\n";
  o += "  \"smooth_quant_alpha\": " + (p.smooth_quant_alpha >= 0 ? JsonNum(p.smooth_quant_alpha) : std::string("null")) + ",\n";
  o += "  \"smoothing\": [";
  for (size_t i = 0; i < p.smoothing.size(); ++i) {
    const ActivationSmoothing& s = p.smoothing[i];
    std::string ops;
    for (size_t j = 0; j < s.ops.size(); ++j) ops += (j ? ", " : "") + JsonStr(s.ops[j]);
    o += std::string(i ? "," : "") + "\n    {\"tensor\": " + JsonStr(s.tensor) + ", \"ops\": [" + ops +
         "], \"scale\": " + JsonArray(s.scale) + "}";
  }
  o += p.smoothing.empty() ? "]\n" : "\n  ]\n";
  return o + "}\n";
}

std::string ScaleList(const std::vector<float>& v, size_t max_shown = 8) {
  std::string o;
  for (size_t i = 0; i < v.size() && i < max_shown; ++i) o += (i ? " " : "") + Num(v[i]);
  if (v.size() > max_shown) o += " ... (" + std::to_string(v.size() - max_shown) + " more)";
  return o;
}

std::string TextTensor(const TensorQuant& q, bool activation) {
  std::string o = "'" + q.tensor + "' " + std::to_string(q.bits) + "-bit " + (q.symmetric ? "symmetric" : "asymmetric");
  if (q.axis < 0 && q.scales.size() == 1) {
    o += ", scale " + Num(q.scales[0]) + ", offset " + std::to_string(q.zero_points.empty() ? 0 : q.zero_points[0]);
  } else {
    float mn = q.scales.empty() ? 0 : q.scales[0], mx = mn;
    for (float s : q.scales) mn = std::min(mn, s), mx = std::max(mx, s);
    o += ", " + std::to_string(q.scales.size()) + " channel(s) along axis " + std::to_string(q.axis) + ", scales " +
         Num(mn) + " to " + Num(mx) + ": " + ScaleList(q.scales);
    bool zero = true;
    for (int32_t z : q.zero_points) zero = zero && z == 0;
    o += zero ? ", offsets 0" : ", offsets non-zero";
  }
  if (activation) o += ", range [" + Num(q.range_min) + ", " + Num(q.range_max) + "]";
  return o;
}

std::string ToText(const QuantPlan& p) {
  std::string o;
  o += "format:       " + std::string(kFormat) + " v" + std::to_string(FormatVersionOf(p)) + "\n";
  o += "tool:         " + p.tool_version + "\n";
  o += "strategy:     " + p.strategy + " (activations " + std::to_string(p.activation_bits) + "-bit, weights " +
       std::to_string(p.weight_bits) + "-bit)\n";
  o += "framework:    " + std::to_string(p.framework) + "\n";
  o += "source model: " + p.source_model + "\n";
  o += "sha256:       " + p.source_sha256 + "\n";
  o += "calibration:  " + p.calibration_method + ", " + std::to_string(p.calibration_samples) + " sample(s)\n";
  o += std::string("weights:      ") + (p.per_channel ? "per channel" : "per tensor") + ", symmetric\n";
  o += std::string("activations:  per tensor, ") + (p.symmetric_activations ? "symmetric" : "asymmetric (with offset)") + "\n";
  o += "quantized ops: " + std::to_string(p.ops.size()) + "\n";
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const QuantizedOp& op = p.ops[i];
    o += "  [" + std::to_string(i + 1) + "] " + op.node + " (" + op.op_type + ")\n";
    o += "      activation " + TextTensor(op.input, true) + (op.activation_only ? " (input 0 only: no weight)" : "") + "\n";
    if (op.activation_only) continue;
    if (op.weight_is_activation) {
      o += "      activation " + TextTensor(op.weight, true) + " (input " + std::to_string(op.weight_input_index) +
           ", the second activation)\n";
    } else {
      o += "      weight     " + TextTensor(op.weight, false) + " (input " + std::to_string(op.weight_input_index) + ")\n";
    }
    if (op.has_weight2) {
      o += "      weight     " + TextTensor(op.weight2, false) + " (input " + std::to_string(op.weight2_input_index) + ")\n";
    }
    if (op.has_bias) o += "      bias       " + TextTensor(op.bias, false) + "\n";
    if (op.weight_limit > 0) o += "      weights limited to [-" + std::to_string(op.weight_limit) + ", " + std::to_string(op.weight_limit) + "]\n";
    if (!op.bias_correction.empty()) o += "      bias corrected on " + std::to_string(op.bias_correction.size()) + " channel(s)\n";
  }
  o += "excluded ops: " + std::to_string(p.excluded.size()) + "\n";
  for (const ExcludedOp& e : p.excluded) o += "  " + e.node + " (" + e.op_type + "): " + e.reason + "\n";
  std::string opts;
  if (p.equalization) opts += " equalization";
  if (p.bias_correction) opts += " bias_correction";
  if (p.x86_saturation_safe != "NONE" && !p.x86_saturation_safe.empty()) opts += " x86_saturation_safe=" + p.x86_saturation_safe;
  if (p.accuracy_target > 0) opts += " accuracy_target=" + Num(p.accuracy_target) + " (achieved " + Num(p.accuracy_achieved) + ")";
  if (p.smooth_quant_alpha >= 0) {
    opts += " smooth_quant_alpha=" + Num(p.smooth_quant_alpha) + " (" + std::to_string(p.smoothing.size()) + " activation(s) smoothed)";
  }
  if (!opts.empty()) o += "accuracy options:" + opts + "\n";
  if (!p.raised.empty()) {
    o += "raised ops: " + std::to_string(p.raised.size()) + "\n";
    for (const RaisedOp& r : p.raised) o += "  " + r.node + " (" + r.op_type + "): " + r.precision + ", " + r.reason + "\n";
  }
  return o;
}

}  // namespace

StatusOr<std::string> SerializeCompressConf(const QuantPlan& plan) {
  dopt_compress::CompressConf c;
  c.set_format(kFormat);
  c.set_format_version(FormatVersionOf(plan));
  c.set_tool_version(plan.tool_version);
  c.set_strategy(plan.strategy);
  c.set_framework(plan.framework);
  c.set_source_model(plan.source_model);
  c.set_source_sha256(plan.source_sha256);
  c.set_calibration_method(plan.calibration_method);
  c.set_calibration_samples(plan.calibration_samples);
  c.set_activation_bits(plan.activation_bits);
  c.set_weight_bits(plan.weight_bits);
  c.set_per_channel(plan.per_channel);
  c.set_symmetric_activations(plan.symmetric_activations);
  for (const QuantizedOp& op : plan.ops) {
    auto* p = c.add_op();
    p->set_name(op.node);
    p->set_type(op.op_type);
    if (op.activation_only) {
      p->set_activation_only(true);
      p->set_weight_input_index(-1);
      ToProto(op.input, p->mutable_activation());
      continue;
    }
    p->set_weight_name(op.weight.tensor);
    p->set_weight_input_index(op.weight_input_index);
    ToProto(op.input, p->mutable_activation());
    ToProto(op.weight, p->mutable_weight());
    if (op.has_bias) ToProto(op.bias, p->mutable_bias());
    if (op.weight_is_activation) p->set_weight_is_activation(true);
    if (op.has_weight2) {
      ToProto(op.weight2, p->mutable_weight2());
      p->set_weight2_input_index(op.weight2_input_index);
    }
    if (op.weight_limit > 0) p->set_weight_limit(op.weight_limit);
    for (float b : op.bias_correction) p->add_bias_correction(b);
  }
  for (const ExcludedOp& e : plan.excluded) {
    auto* p = c.add_excluded();
    p->set_name(e.node);
    p->set_type(e.op_type);
    p->set_reason(e.reason);
  }
  if (plan.equalization) c.set_equalization(true);
  if (plan.bias_correction) c.set_bias_correction(true);
  if (plan.x86_saturation_safe != "NONE" && !plan.x86_saturation_safe.empty())
    c.set_x86_saturation_safe(plan.x86_saturation_safe);
  if (plan.accuracy_target > 0) c.set_accuracy_target(plan.accuracy_target);
  if (plan.accuracy_achieved > 0) c.set_accuracy_achieved(plan.accuracy_achieved);
  for (const RaisedOp& r : plan.raised) {
    auto* p = c.add_raised();
    p->set_name(r.node);
    p->set_type(r.op_type);
    p->set_precision(r.precision);
    p->set_reason(r.reason);
  }
  if (plan.smooth_quant_alpha >= 0) c.set_smooth_quant_alpha(plan.smooth_quant_alpha);
  for (const ActivationSmoothing& s : plan.smoothing) {
    auto* p = c.add_smoothing();
    p->set_tensor(s.tensor);
    for (float v : s.scale) p->add_scale(v);
    for (const std::string& op : s.ops) p->add_op(op);
  }
  std::string out;
  if (!c.SerializeToString(&out)) return Internal("serialising the compress_conf failed");
  return out;
}

StatusOr<QuantPlan> ParseCompressConf(const std::string& bytes, const std::string& name) {
  dopt_compress::CompressConf c;
  if (bytes.empty() || !c.ParseFromString(bytes) || c.format() != kFormat) {
    return InvalidArgument(name + ": not a compress_conf file (a binary dopt.compress_conf protobuf)");
  }
  if (c.format_version() > kFormatVersion) {
    return Unimplemented(name + ": compress_conf format version " + std::to_string(c.format_version()) +
                         " is newer than this dopt reads (" + std::to_string(kFormatVersion) + ")");
  }
  QuantPlan p;
  p.tool_version = c.tool_version();
  p.strategy = c.strategy();
  p.framework = c.framework();
  p.source_model = c.source_model();
  p.source_sha256 = c.source_sha256();
  p.calibration_method = c.calibration_method();
  p.calibration_samples = c.calibration_samples();
  p.activation_bits = c.activation_bits();
  p.weight_bits = c.weight_bits();
  p.per_channel = c.per_channel();
  p.symmetric_activations = c.symmetric_activations();
  for (const auto& op : c.op()) {
    QuantizedOp q;
    q.node = op.name();
    q.op_type = op.type();
    q.weight_input_index = op.weight_input_index();
    q.input = FromProto(op.activation());
    q.weight = FromProto(op.weight());
    if (q.weight.tensor.empty()) q.weight.tensor = op.weight_name();
    q.has_bias = op.has_bias();  // the bias message is present
    if (q.has_bias) q.bias = FromProto(op.bias());
    q.weight_is_activation = op.weight_is_activation();
    q.has_weight2 = op.has_weight2();
    if (q.has_weight2) {
      q.weight2 = FromProto(op.weight2());
      q.weight2_input_index = op.weight2_input_index();
    }
    const std::string where = name + ": op '" + q.node + "'";
    DOPT_RETURN_IF_ERROR(CheckTensor(q.input, where + " activation"));
    q.activation_only = op.activation_only();
    if (q.activation_only) {
      if (op.has_weight() || q.has_bias || q.has_weight2 || q.weight_is_activation) {
        return InvalidArgument(where + ": an activation-only op with a weight or bias");
      }
      p.ops.push_back(std::move(q));
      continue;
    }
    DOPT_RETURN_IF_ERROR(CheckTensor(q.weight, where + " weight"));
    if (q.has_bias) DOPT_RETURN_IF_ERROR(CheckTensor(q.bias, where + " bias"));
    if (q.has_weight2) {
      DOPT_RETURN_IF_ERROR(CheckTensor(q.weight2, where + " second weight"));
      if (q.weight2_input_index < 0) return InvalidArgument(where + ": second weight without an input index");
    }
    q.weight_limit = op.weight_limit();
    if (q.weight_limit < 0 || q.weight_limit > 127) {
      return InvalidArgument(where + ": weight_limit " + std::to_string(q.weight_limit) + " (1 to 127 expected)");
    }
    q.bias_correction.assign(op.bias_correction().begin(), op.bias_correction().end());
    p.ops.push_back(std::move(q));
  }
  for (const auto& e : c.excluded()) p.excluded.push_back({e.name(), e.type(), e.reason()});
  p.equalization = c.equalization();
  p.bias_correction = c.bias_correction();
  p.x86_saturation_safe = c.has_x86_saturation_safe() ? c.x86_saturation_safe() : "NONE";
  if (p.x86_saturation_safe != "NONE" && p.x86_saturation_safe != "FIRST_LAYER" && p.x86_saturation_safe != "ALL") {
    return InvalidArgument(name + ": x86_saturation_safe \"" + p.x86_saturation_safe + "\" (NONE, FIRST_LAYER or ALL expected)");
  }
  p.accuracy_target = c.accuracy_target();
  p.accuracy_achieved = c.accuracy_achieved();
  for (const auto& r : c.raised()) p.raised.push_back({r.name(), r.type(), r.precision(), r.reason()});
  p.smooth_quant_alpha = c.has_smooth_quant_alpha() ? c.smooth_quant_alpha() : -1.f;
  for (const auto& s : c.smoothing()) {
    ActivationSmoothing a;
    a.tensor = s.tensor();
    a.scale.assign(s.scale().begin(), s.scale().end());
    a.ops.assign(s.op().begin(), s.op().end());
    if (a.tensor.empty() || a.scale.empty() || a.ops.empty()) {
      return InvalidArgument(name + ": a smoothing entry without a tensor, factors or ops");
    }
    for (float v : a.scale) {
      if (!(v > 0) || !std::isfinite(v)) return InvalidArgument(name + ": smoothing of '" + a.tensor + "': a factor is not positive and finite");
    }
    p.smoothing.push_back(std::move(a));
  }
  return p;
}

StatusOr<QuantPlan> ReadCompressConf(const std::string& path) {
  DOPT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, kMaxSmallFileBytes));
  return ParseCompressConf(bytes, path);
}

std::string CompressConfToText(const QuantPlan& plan, bool json) { return json ? ToJson(plan) : ToText(plan); }

}  // namespace dopt
