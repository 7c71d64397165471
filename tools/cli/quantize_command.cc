// `dopt -m 0 ...`: the original tool's quantization command. Flags -> QuantizeOptions ->
// QuantizeModel (src/pipeline/quantizer.h) -> a short summary on stdout.
#include <cstdio>
#include <map>
#include <string>

#include "commands.h"
#include "data/calib_config.h"
#include "pipeline/analysis.h"
#include "pipeline/quantizer.h"

namespace dopt_cli {

namespace {

std::string Plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The accuracy options' outcome: ops raised above the strategy, the output cosine reached.
void PrintAccuracy(const dopt::QuantizeSummary& s) {
  const dopt::QuantPlan& p = s.plan;
  if (p.equalization) std::printf("  equalization:  Conv -> Conv chains equalized\n");
  if (p.bias_correction) {
    int n = 0;
    for (const auto& op : p.ops) n += !op.bias_correction.empty();
    std::printf("  bias:          corrected on %d op(s) (%lld held-out sample(s))\n", n, (long long)s.held_out_samples);
  }
  if (p.x86_saturation_safe != "NONE" && !p.x86_saturation_safe.empty())
    std::printf("  x86 safe:      %s (int8 weights in [-64, 64])\n", p.x86_saturation_safe.c_str());
  if (p.accuracy_target > 0) {
    std::printf("  accuracy:      output cosine %.5f (target %.5f%s, %.5f before raising; %lld held-out sample(s))\n",
                p.accuracy_achieved, p.accuracy_target, p.accuracy_achieved >= p.accuracy_target ? ", met" : ", NOT met",
                s.cosine_before_raising, (long long)s.held_out_samples);
  }
  for (const auto& r : p.raised)
    std::printf("  raised:        %s (%s) to %s: %s\n", r.node.c_str(), r.op_type.c_str(), r.precision.c_str(), r.reason.c_str());
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
  PrintAccuracy(s);
  if (!s.report.empty()) std::printf("  report:        %s\n", s.report.c_str());
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
  o.report = f.report;
  auto s = dopt::QuantizeModel(o);
  if (!s.ok()) return fail(s.status());
  // The percentile is only in the config; re-reading it is cheap and keeps the summary exact.
  double percentile = 99.99;
  if (auto cfg = dopt::LoadCalibConfig(f.cal_conf); cfg.ok()) percentile = cfg->percentile;
  PrintSummary(o, *s, percentile);
  return 0;
}

std::function<int()> AddAnalyzeCommand(CLI::App& app) {
  struct Flags {
    QuantizeFlags q;
    bool json = false;
    int top = 0;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "analyze", "layer-wise error analysis: each quantized op's SQNR alone and with everything before it quantized");
  cmd->add_option("--model", f->q.model, "model file: .pb, .py or .onnx")->required();
  cmd->add_option("--framework", f->q.framework, "3 = TensorFlow, 5 = PyTorch or ONNX");
  cmd->add_option("--weight", f->q.weight, "PyTorch weights (.pth)");
  cmd->add_option("--model_class", f->q.model_class, "PyTorch: the nn.Module class or factory function in --model");
  cmd->add_option("--cal_conf", f->q.cal_conf, "calibration config (config.prototxt)")->required();
  cmd->add_option("--input_format", f->q.input_format, "NCHW or NHWC")->check(CLI::IsMember({"NCHW", "NHWC"}));
  cmd->add_option("--input_shape", f->q.input_shape, "\"in1: n,c,h,w; in2: ...\"");
  cmd->add_option("--out_nodes", f->q.out_nodes, "\"out1; out2\"");
  cmd->add_option("--compress_conf", f->q.compress_conf, "analyse this existing plan instead of making one");
  cmd->add_option("--num_threads", f->q.num_threads, "threads (default: all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--report", f->q.report, "also write a self-contained HTML report");
  cmd->add_flag("--json", f->json, "print the analysis as JSON");
  cmd->add_option("--top", f->top, "print only the N worst layers (text output)")->check(CLI::NonNegativeNumber);
  return [f, cmd]() -> int {
    if (!*cmd) return -1;
    dopt::QuantizeOptions o;
    o.model = f->q.model;
    o.framework = f->q.framework;
    o.cal_conf = f->q.cal_conf;
    o.weight = f->q.weight;
    o.model_class = f->q.model_class;
    o.compress_conf = f->q.compress_conf;
    o.num_threads = f->q.num_threads;
    o.flags.input_shape = f->q.input_shape;
    o.flags.input_format = f->q.input_format.empty() ? "NCHW" : f->q.input_format;
    o.flags.out_nodes = f->q.out_nodes;
    o.report = f->q.report;
    o.analyze_only = true;
    auto s = dopt::QuantizeModel(o);
    if (!s.ok()) {
      std::fprintf(stderr, "dopt: error: %s\n", s.status().message().c_str());
      return s.status().code() == dopt::StatusCode::kInternal ? 3 : 2;
    }
    const std::string text = f->json ? dopt::AnalysisJson(s->analysis) : dopt::AnalysisText(s->analysis, f->top);
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (!s->report.empty() && !f->json) std::printf("report: %s\n", s->report.c_str());
    return 0;
  };
}

}  // namespace dopt_cli
