#include "pipeline/quantizer.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "calib/calibrator.h"
#include "common/file_util.h"
#include "common/signal_cleanup.h"
#include "common/sha256.h"
#include "data/calib_config.h"
#include "data/calibration_stream.h"
#include "frontends/load_model.h"
#include "ir/graph_edit.h"
#include "quant/apply_exclusions.h"
#include "quant/compute_quant_params.h"
#include "passes/cut_graph.h"
#include "quant/mark_quantizable.h"
#include "quant/compress_conf.h"
#include "quant/prepare.h"
#include "pipeline/exporters.h"
#include "quant/quant_selection.h"

namespace dopt {

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

bool Exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

bool IsDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Same path once made absolute, or the same existing file (links).
bool SamePath(const std::string& a, const std::string& b) {
  return AbsolutePath(a) == AbsolutePath(b) || SameFile(a, b);
}

std::string BaseName(const std::string& p) {
  size_t s = p.find_last_of('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

Status CheckFlags(const QuantizeOptions& o) {
  if (o.model.empty()) return InvalidArgument("-m 0: --model is required");
  if (o.cal_conf.empty()) return InvalidArgument("-m 0: --cal_conf is required (the calibration config, config.prototxt)");
  if (o.output.empty()) return InvalidArgument("-m 0: --output is required (the quantized model to write)");
  if (o.framework != 0 && o.framework != 3 && o.framework != 5) {
    return InvalidArgument("--framework " + std::to_string(o.framework) + " is not supported (3 = TensorFlow, 5 = PyTorch or ONNX)");
  }
  if (!Exists(o.model)) return NotFound("--model " + AbsolutePath(o.model) + " does not exist");
  if (!Exists(o.cal_conf)) return NotFound("--cal_conf " + AbsolutePath(o.cal_conf) + " does not exist");
  struct Out {
    const char* flag;
    const std::string& path;
  };
  std::vector<Out> outs = {{"--output", o.output}};
  if (!o.compress_conf.empty()) outs.push_back({"--compress_conf", o.compress_conf});
  for (const Out& out : outs) {
    if (SamePath(out.path, o.model)) return InvalidArgument(out.flag + std::string(" ") + out.path + " is the input model; refusing to overwrite it");
    if (SamePath(out.path, o.cal_conf)) return InvalidArgument(out.flag + std::string(" ") + out.path + " is the calibration config; refusing to overwrite it");
    if (IsDir(out.path)) return InvalidArgument(out.flag + std::string(" ") + out.path + " is a directory");
    std::string dir = DirName(AbsolutePath(out.path));
    if (!IsDir(dir)) return NotFound(out.flag + std::string(" ") + out.path + ": the folder " + dir + " does not exist");
  }
  if (!o.compress_conf.empty() && SamePath(o.output, o.compress_conf)) {
    return InvalidArgument("--output and --compress_conf name the same file " + o.output);
  }
  return Status::Ok();
}

// The error for a model none of whose weighted ops can be quantized: how many, of which types,
// and the first few reasons (the summary would list them all).
Status NothingQuantizable(const std::string& model, const QuantSelection& sel) {
  constexpr size_t kShown = 3;
  std::map<std::string, int> types;
  for (const ExcludedOp& e : sel.excluded) ++types[e.op_type];
  std::string type_list;
  for (const auto& [t, n] : types) type_list += (type_list.empty() ? "" : ", ") + t + " " + std::to_string(n);
  std::string why;
  for (size_t i = 0; i < sel.excluded.size() && i < kShown; ++i) {
    const ExcludedOp& e = sel.excluded[i];
    why += (i ? "; " : "") + ("node '" + e.node + "' (" + e.op_type + "): " + e.reason);
  }
  if (sel.excluded.size() > kShown) why += "; and " + std::to_string(sel.excluded.size() - kShown) + " more";
  const size_t n = sel.excluded.size();
  return InvalidArgument(model + ": none of the " + std::to_string(n) + " weighted op" + (n == 1 ? "" : "s") + " (" +
                         type_list + ") can be quantized, the model would stay float: " + why + "; nothing written");
}

// The error for a model with no float weighted op to quantize but ops that are already
// quantized (QLinearConv, MatMulInteger, ...: an ONNX Runtime QOperator or dynamic model).
Status AlreadyQuantizedModel(const std::string& model, const QuantSelection& sel) {
  std::map<std::string, int> types;
  for (const std::string& t : sel.already_quantized) ++types[t];
  std::string type_list;
  for (const auto& [t, n] : types) type_list += (type_list.empty() ? "" : ", ") + t + " " + std::to_string(n);
  const size_t n = sel.already_quantized.size(), f = sel.excluded.size();
  std::string floats = f == 0 ? "no float weighted op" : "its " + std::to_string(f) + " float weighted op" +
                                                             (f == 1 ? "" : "s") + " cannot be quantized";
  return InvalidArgument(model + ": the model is already quantized: it has " + std::to_string(n) + " integer op" +
                         (n == 1 ? "" : "s") + " (" + type_list + ") and " + floats +
                         "; quantize the float model instead (dopt run executes this one); nothing written");
}

}  // namespace

StatusOr<QuantizeSummary> QuantizeModel(const QuantizeOptions& o) {
  auto t_start = Clock::now();
  DOPT_RETURN_IF_ERROR(CheckFlags(o));
  DOPT_ASSIGN_OR_RETURN(CalibConfig cfg, LoadCalibConfig(o.cal_conf));
  ModelSource source;
  source.path = o.model;
  source.framework = o.framework;
  source.weight = o.weight;
  source.input_shape = o.flags.input_shape;
  source.out_nodes = o.flags.out_nodes;
  source.model_class = o.model_class;
  DOPT_ASSIGN_OR_RETURN(Graph graph, LoadModel(source));
  StatusOr<Exporter> found = FindExporter(graph.info.format);
  if (!found.ok()) return found.status().WithContext(o.model);
  const ExportFn export_fn = found->fn;
  if (cfg.equalization && found->no_equalization)  // before calibration: equalization needs the writer
    return Unimplemented(o.model + ": equalization: true: " + found->no_equalization + "; nothing written");
  DOPT_ASSIGN_OR_RETURN(CalibRequest req, ResolveCalibRequest(cfg, o.flags, ModelNamesFromGraph(graph)));
  DOPT_ASSIGN_OR_RETURN(CalibMethod method, ParseCalibMethod(cfg.calibration_method));

  QuantizeSummary sum;
  sum.source_opset = DefaultOpset(graph);
  QuantPlan& plan = sum.plan;
  plan.tool_version = kToolVersion;
  plan.strategy = cfg.strategy;
  plan.framework = o.framework ? o.framework : 5;
  plan.source_model = BaseName(o.model);
  if (graph.info.source_bytes) {
    plan.source_sha256 = Sha256Hex(*graph.info.source_bytes);
  } else {
    DOPT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(o.model));
    plan.source_sha256 = Sha256Hex(bytes);
  }
  plan.calibration_method = CalibMethodName(method);
  plan.activation_bits = cfg.activation_bits;
  plan.weight_bits = cfg.weight_bits;
  plan.per_channel = cfg.per_channel;
  plan.symmetric_activations = cfg.symmetric_activations || cfg.activation_bits > 8;

  // Graph passes up to the choice of ops.
  QuantSelection sel;
  {
    std::vector<std::pair<std::string, Shape>> shapes;
    for (const CalibInput& in : req.inputs) shapes.emplace_back(in.name, in.shape);
    PassManager cut;
    cut.Add(std::make_unique<CutGraphPass>(shapes, req.out_nodes));
    DOPT_RETURN_IF_ERROR(cut.Run(graph, &sum.passes).WithContext(o.model));
    // The rewrites the int8 simulation (dopt run --compress_conf) repeats: plan names refer
    // to the graph after them.
    PrepareOptions prep;
    prep.equalization = plan.equalization = cfg.equalization;  // cross-layer equalization
    DOPT_RETURN_IF_ERROR(PrepareForQuantization(graph, &sum.passes, prep).WithContext(o.model));
    PassManager pm;
    QuantSelectionOptions so;
    const std::string format = found->writer;
    so.activation_pairs = found->activation_pairs && cfg.quantize_activation_matmul;
    if (!cfg.quantize_activation_matmul) {
      so.activation_pairs_off_reason = "quantize_activation_matmul is false in the config";
    } else if (!found->activation_pairs) {
      so.activation_pairs_off_reason = "the " + format + " writer cannot quantize a product of two activations yet";
    }
    so.second_weights = found->second_weights;
    if (!so.second_weights) {
      so.second_weights_off_reason = "the " + format + " writer cannot quantize the weights of a recurrent op yet";
    }
    pm.Add(std::make_unique<MarkQuantizablePass>(&sel, so));
    DOPT_RETURN_IF_ERROR(pm.Run(graph, &sum.passes).WithContext(o.model));
    ApplyExclusions(graph, req.exclude_ops, &sel);
  }
  // Never a silent no-op: a model with weighted ops of which none can be quantized would be
  // written back in float while the user believes it is int8.
  if (sel.ops.empty() && !sel.already_quantized.empty()) return AlreadyQuantizedModel(o.model, sel);
  if (sel.ops.empty() && !sel.excluded.empty()) return NothingQuantizable(o.model, sel);
  sum.already_quantized = sel.already_quantized;

  // Calibration: observe the activation input of every op still selected.
  std::vector<std::string> observe;
  std::set<std::string> seen;
  for (const QuantCandidate& c : sel.ops) {
    const Node* n = nullptr;
    for (const Node& node : graph.nodes)
      if (node.name == c.node) n = &node;
    if (!n) return Internal("quantized op '" + c.node + "' vanished");
    const std::string& t = graph.value(n->inputs[c.activation_input]).name;
    if (seen.insert(t).second) observe.push_back(t);
    if (c.activation_pair) {
      const std::string& t2 = graph.value(n->inputs[c.weight_input]).name;
      if (seen.insert(t2).second) observe.push_back(t2);
    }
  }
  std::map<std::string, FloatRange> ranges;
  if (!observe.empty()) {
    auto t0 = Clock::now();
    DOPT_ASSIGN_OR_RETURN(auto stream, OpenCalibrationStream(req));
    CalibratorOptions co;
    co.method = method;
    co.range.percentile = cfg.percentile;
    co.range.quant_levels = 1 << cfg.activation_bits;
    co.range.symmetric = plan.symmetric_activations;
    co.max_samples = cfg.max_calibration_samples;
    co.num_threads = o.num_threads;
    co.progress = o.progress;
    DOPT_ASSIGN_OR_RETURN(CalibrationResult cr, Calibrate(graph, observe, *stream, co));
    if (cr.samples == 0) {
      return InvalidArgument(o.model + ": calibration saw 0 samples (the calibration data of " + o.cal_conf +
                             " yielded none), so no activation range is known; nothing written");
    }
    ranges = std::move(cr.ranges);
    plan.calibration_samples = (int)cr.samples;
    sum.samples_skipped = cr.skipped;
    sum.batches = cr.batches;
    sum.calibration_seconds = Seconds(t0);
  }

  {
    QuantParamOptions qo;
    qo.activation_bits = cfg.activation_bits;
    qo.weight_bits = cfg.weight_bits;
    qo.per_channel = cfg.per_channel;
    qo.symmetric_activations = cfg.symmetric_activations;
    qo.x86_saturation_safe = cfg.x86_saturation_safe;  // weights limited to [-64, 64]
    DOPT_RETURN_IF_ERROR(ComputeQuantParams(graph, sel, ranges, qo, &plan).WithContext(o.model));
  }

  // Outputs: the model in its own format and the compress_conf, both serialized before
  // anything is written.
  ExportOptions eo;
  eo.activation_bits = cfg.activation_bits;
  eo.model_path = o.model;
  eo.weight_path = o.weight;
  eo.output_path = o.output;
  DOPT_ASSIGN_OR_RETURN(ExportedModel exported, export_fn(graph, plan, eo));
  sum.output_opset = exported.output_opset;
  sum.output_format = exported.format_note;
  const std::string& model_bytes = exported.bytes;
  std::string conf_bytes;
  if (!o.compress_conf.empty()) {
    DOPT_ASSIGN_OR_RETURN(conf_bytes, SerializeCompressConf(plan));
  }
  DOPT_RETURN_IF_ERROR(WriteFileAtomic(o.output, model_bytes));
  if (!o.compress_conf.empty()) {
    // Until the compress_conf is in place too, a signal removes the model just written: the two
    // files appear together or not at all.
    ScopedTempFileRegistration model_until_conf(o.output);
    Status st = WriteFileAtomic(o.compress_conf, conf_bytes);
    if (!st.ok()) {
      std::remove(o.output.c_str());
      return st;
    }
    sum.compress_conf = AbsolutePath(o.compress_conf);
  }
  sum.output = AbsolutePath(o.output);
  sum.total_seconds = Seconds(t_start);
  return sum;
}

}  // namespace dopt
