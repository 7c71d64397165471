// `dopt -m 0 ...`: the original tool's quantization command. Flags -> QuantizeOptions ->
// QuantizeModel (src/pipeline/quantizer.h) -> a short summary on stdout.
#include <cstdio>
#include <map>
#include <string>

#include "commands.h"
#include "data/calib_config.h"
#include "pipeline/quantizer.h"

namespace dopt_cli {

namespace {

std::string Plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void PrintSummary(const dopt::QuantizeOptions& o, const dopt::QuantizeSummary& s, double percentile) {
  const dopt::QuantPlan& p = s.plan;
  std::map<std::string, int> by_type;
  for (const auto& op : p.ops) ++by_type[op.op_type];
  std::string types;
  for (const auto& [t, n] : by_type) types += (types.empty() ? "" : ", ") + t + " " + std::to_string(n);
  std::printf("dopt: quantized %s -> %s\n", o.model.c_str(), o.output.c_str());
  std::printf("  strategy:      %s: activations int%d %s per tensor, weights int%d symmetric %s\n", p.strategy.c_str(),
              p.activation_bits, p.symmetric_activations ? "symmetric" : "asymmetric", p.weight_bits,
              p.per_channel ? "per output channel" : "per tensor");
  std::string method = p.calibration_method;
  if (method == "percentile") {
    char b[32];
    std::snprintf(b, sizeof(b), " %g", percentile);
    method += b;
  }
  std::printf("  calibration:   %s, %s in %s, %.2f s", method.c_str(), Plural((size_t)p.calibration_samples, "sample", "samples").c_str(),
              Plural((size_t)s.batches, "batch", "batches").c_str(), s.calibration_seconds);
  if (s.samples_skipped) std::printf(" (%lld skipped)", (long long)s.samples_skipped);
  std::printf("\n");
  for (const auto& r : s.passes) {
    if (r.pass == "fold_constants" && r.changes > 0) {
      std::printf("  folded:        %s computing constants alone (Constant, Identity, Cast, ...) into initializers\n",
                  Plural((size_t)r.changes, "node", "nodes").c_str());
    }
    if (r.pass == "fold_batchnorm" && r.changes > 0) {
      std::printf("  folded:        %s into the preceding Conv\n", Plural((size_t)r.changes, "BatchNormalization", "BatchNormalizations").c_str());
    }
    if (r.pass == "equalize_channels") {
      int chains = 0;
      for (const auto& q : s.passes) chains = q.pass == "equalize" ? q.changes : chains;
      std::printf("  equalized:     %s across %s (cross-layer equalization)\n",
                  Plural((size_t)r.changes, "channel", "channels").c_str(),
                  Plural((size_t)chains, "Conv chain", "Conv chains").c_str());
    }
    if (r.pass == "fold_affine" && r.changes > 0) {
      std::printf("  folded:        %s by constants into the preceding Conv/Gemm\n",
                  Plural((size_t)r.changes, "Mul/Add/Sub/Div", "Mul/Add/Sub/Div ops").c_str());
    }
  }
  std::printf("  quantized:     %s%s\n", Plural(p.ops.size(), "op", "ops").c_str(), types.empty() ? "" : (" (" + types + ")").c_str());
  std::printf("  left in float: %s\n", Plural(p.excluded.size(), "op", "ops").c_str());
  if (!s.already_quantized.empty()) {
    std::map<std::string, int> int_types;
    for (const auto& t : s.already_quantized) ++int_types[t];
    std::string list;
    for (const auto& [t, n] : int_types) list += (list.empty() ? "" : ", ") + t + " " + std::to_string(n);
    std::printf("  already int:   %s (%s), kept as they are\n",
                Plural(s.already_quantized.size(), "op", "ops").c_str(), list.c_str());
  }
  for (const auto& e : p.excluded) std::printf("    %s (%s): %s\n", e.node.c_str(), e.op_type.c_str(), e.reason.c_str());
  if (s.output_opset > 0) {
    std::printf("  model:         %s (%s, opset %d%s)\n", s.output.c_str(), s.output_format.c_str(), s.output_opset,
                s.output_opset != s.source_opset ? (", upgraded from " + std::to_string(s.source_opset)).c_str() : "");
  } else {
    std::printf("  model:         %s (%s)\n", s.output.c_str(), s.output_format.c_str());
  }
  std::printf("  compress_conf: %s\n", s.compress_conf.empty() ? "(not written: no --compress_conf)" : s.compress_conf.c_str());
  std::printf("  time:          %.2f s\n", s.total_seconds);
}

}  // namespace

int RunQuantizeCommand(const QuantizeFlags& f) {
  auto fail = [](const dopt::Status& st) {
    std::fprintf(stderr, "dopt: error: %s\n", st.message().c_str());
    return st.code() == dopt::StatusCode::kInternal ? 3 : 2;
  };
  if (f.mode != 0) {
    return fail(dopt::InvalidArgument("-m " + std::to_string(f.mode) + " is not supported (0 = no-training quantization)"));
  }
  dopt::QuantizeOptions o;
  o.model = f.model;
  o.framework = f.framework;
  o.cal_conf = f.cal_conf;
  o.weight = f.weight;
  o.model_class = f.model_class;
  o.output = f.output;
  o.compress_conf = f.compress_conf;
  o.num_threads = f.num_threads;
  o.flags.input_shape = f.input_shape;
  o.flags.input_format = f.input_format;
  o.flags.out_nodes = f.out_nodes;
  auto s = dopt::QuantizeModel(o);
  if (!s.ok()) return fail(s.status());
  // The percentile is only in the config; re-reading it is cheap and keeps the summary exact.
  double percentile = 99.99;
  if (auto cfg = dopt::LoadCalibConfig(f.cal_conf); cfg.ok()) percentile = cfg->percentile;
  PrintSummary(o, *s, percentile);
  return 0;
}

}  // namespace dopt_cli
