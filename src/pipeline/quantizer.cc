#include "pipeline/quantizer.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

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
#include "quant/bias_correction.h"
#include "quant/requested_ops.h"
#include "quant/smooth_quant.h"
#include "quant/layer_precision.h"

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
  const bool analyze_plan = o.analyze_only && !o.compress_conf.empty();  // analyse an existing compress_conf
  if (o.output.empty() && !o.analyze_only) return InvalidArgument("-m 0: --output is required (the quantized model to write)");
  if (analyze_plan && !Exists(o.compress_conf)) {
    return NotFound("--compress_conf " + AbsolutePath(o.compress_conf) + " does not exist (analyze reads the plan it names)");
  }
  if (o.framework != 0 && o.framework != 3 && o.framework != 5) {
    return InvalidArgument("--framework " + std::to_string(o.framework) + " is not supported (3 = TensorFlow, 5 = PyTorch or ONNX)");
  }
  if (!Exists(o.model)) return NotFound("--model " + AbsolutePath(o.model) + " does not exist");
  if (!Exists(o.cal_conf)) return NotFound("--cal_conf " + AbsolutePath(o.cal_conf) + " does not exist");
  struct Out {
    const char* flag;
    const std::string& path;
  };
  std::vector<Out> outs;
  if (!o.output.empty() && !o.analyze_only) outs.push_back({"--output", o.output});
  if (!o.compress_conf.empty() && !o.analyze_only) outs.push_back({"--compress_conf", o.compress_conf});
  if (!o.report.empty()) outs.push_back({"--report", o.report});
  for (const Out& out : outs) {
    if (SamePath(out.path, o.model)) return InvalidArgument(out.flag + std::string(" ") + out.path + " is the input model; refusing to overwrite it");
    if (SamePath(out.path, o.cal_conf)) return InvalidArgument(out.flag + std::string(" ") + out.path + " is the calibration config; refusing to overwrite it");
    if (IsDir(out.path)) return InvalidArgument(out.flag + std::string(" ") + out.path + " is a directory");
    std::string dir = DirName(AbsolutePath(out.path));
    if (!IsDir(dir)) return NotFound(out.flag + std::string(" ") + out.path + ": the folder " + dir + " does not exist");
  }
  if (!o.report.empty() && ((!o.output.empty() && SamePath(o.output, o.report)) ||
                            (!o.compress_conf.empty() && SamePath(o.compress_conf, o.report)))) {
    return InvalidArgument("--report " + o.report + " names the same file as another output or input");
  }
  if (!o.analyze_only && !o.compress_conf.empty() && SamePath(o.output, o.compress_conf)) {
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

// bias_correction: each quantized op's output mean, simulated int8 vs float, per channel on
// the held-out samples, subtracted through its bias. In dependency order (empirical bias
// correction): an op is measured with every quantized op before it already corrected, and ops
// at the same depth (no path between them) in one simulation run.
Status CorrectBiases(const Graph& graph, PlanEvaluator& ev, QuantPlan* plan) {
  std::map<std::string, size_t> op_index;
  for (size_t i = 0; i < plan->ops.size(); ++i) op_index[plan->ops[i].node] = i;
  // depth: the number of quantized ops on the longest path from the inputs (nodes are in
  // topological order).
  std::vector<int> value_depth(graph.values.size(), 0);
  std::vector<std::vector<std::pair<std::string, int>>> levels;  // per depth: (output tensor, axis)
  std::map<std::string, size_t> op_of;                            // output tensor -> op index
  for (const Node& n : graph.nodes) {
    int d = 0;
    for (int id : n.inputs)
      if (id >= 0) d = std::max(d, value_depth[(size_t)id]);
    auto it = op_index.find(n.name);
    const bool quantized = it != op_index.end();
    for (int id : n.outputs)
      if (id >= 0) value_depth[(size_t)id] = d + (quantized ? 1 : 0);
    if (!quantized || n.outputs.empty()) continue;
    const QuantizedOp& op = plan->ops[it->second];
    if (!op.has_bias || op.weight_is_activation) continue;
    const int wid = graph.FindValue(op.weight.tensor);
    const int bid = graph.FindValue(op.bias.tensor);
    const Value& out = graph.value(n.outputs[0]);
    if (wid < 0 || bid < 0 || !graph.value(wid).ConstantValue() || !graph.value(bid).ConstantValue() || !out.rank_known) continue;
    const int axis = BiasOutputAxis(graph.value(wid).ConstantValue()->rank(), (int)out.shape.size());
    if ((int)levels.size() <= d) levels.resize((size_t)d + 1);
    levels[(size_t)d].emplace_back(out.name, axis);
    op_of[out.name] = it->second;
  }
  for (const auto& tensors : levels) {
    if (tensors.empty()) continue;
    DOPT_ASSIGN_OR_RETURN(auto errors, ev.ChannelMeanErrors(*plan, tensors));
    for (const auto& [tensor, mean] : errors) {
      QuantizedOp& op = plan->ops[op_of[tensor]];
      const Tensor* b = graph.value(graph.FindValue(op.bias.tensor)).ConstantValue();
      if (b->numel() != (int64_t)mean.size()) continue;
      op.bias_correction.assign(mean.size(), 0.f);
      for (size_t c = 0; c < mean.size(); ++c) op.bias_correction[c] = -(float)mean[c];
    }
  }
  plan->bias_correction = true;
  return Status::Ok();
}

// --report: the analysis as one HTML page (nothing when not asked for).
Status WriteReport(const QuantizeOptions& o, QuantizeSummary* sum) {
  if (o.report.empty()) return Status::Ok();
  DOPT_RETURN_IF_ERROR(WriteFileAtomic(o.report, RenderReportHtml(sum->analysis)));
  sum->report = AbsolutePath(o.report);
  return Status::Ok();
}

std::string Fixed(double v, int digits) {
  char b[32];
  std::snprintf(b, sizeof(b), "%.*f", digits, v);
  return b;
}

struct RaiseResult {
  QuantPlan plan;
  double cosine = 0;
};

// accuracy_target's search over the ops of `order` (most sensitive first). A candidate plan
// puts f ops in float and the next k of `order` at int16 activations; raising ops one at a
// time until the target is met reaches these plans, and the smallest f, then the smallest k,
// that meet the target are found by bisection (a few log2 n simulations instead of n): first
// f = 0 (int16 only); when even every op at int16 misses the target, the fewest ops in float
// with all others at int16 (at most n - 1: the model stays quantized), then the fewest int16
// beside them; for that step the ops are also ranked on the all-int16 plan (what int16 leaves
// is the int8 weights' error, which float removes), and that ranking is used when it needs
// fewer float ops. When int16 alone meets the target but the
// same ops in float leave less than half its output error (the error is in their int8
// weights), they go float. When nothing meets it, every op at int16 (the best plan that stays
// fully quantized) and the summary says the target was not met.
StatusOr<RaiseResult> RaiseUntilTarget(const Graph& graph, const QuantSelection& sel,
                                       const std::map<std::string, FloatRange>& ranges, const QuantParamOptions& qo,
                                       const QuantPlan& base, const std::vector<LayerAnalysis>& order, float target,
                                       PlanEvaluator& ev) {
  std::map<std::string, std::vector<float>> corrections;
  for (const QuantizedOp& op : base.ops) corrections[op.node] = op.bias_correction;
  const int n = (int)order.size();
  // The ops that go float, most sensitive first: `order`, or (which = 1) `at16`, the ranking on
  // the all-int16 plan.
  std::vector<LayerAnalysis> at16;
  int which = 0;
  auto float_order = [&]() -> const std::vector<LayerAnalysis>& { return which ? at16 : order; };
  std::map<std::tuple<int, int, int>, RaiseResult> cache;  // (which, f, k) -> result (f float, then k int16)
  auto eval = [&](int f, int k) -> StatusOr<RaiseResult> {
    auto it = cache.find({which, f, k});
    if (it != cache.end()) return it->second;
    QuantSelection s = sel;
    QuantParamOptions q = qo;
    RaiseResult r;
    r.plan = base;
    std::set<std::string> to_float;
    for (int i = 0; i < f; ++i) to_float.insert(float_order()[(size_t)i].name);
    for (int i = 0, raised = 0; i < n && raised < k; ++i) {
      if (to_float.count(order[(size_t)i].name)) continue;
      q.op_activation_bits[order[(size_t)i].name] = 16;
      ++raised;
    }
    std::vector<QuantCandidate> kept;
    for (const QuantCandidate& c : s.ops) {
      if (to_float.count(c.node)) {
        s.excluded.push_back({c.node, c.op_type, "accuracy_target " + Fixed(target, 4)});
      } else {
        kept.push_back(c);
      }
    }
    s.ops = std::move(kept);
    DOPT_RETURN_IF_ERROR(ComputeQuantParams(graph, s, ranges, q, &r.plan));
    for (QuantizedOp& op : r.plan.ops) op.bias_correction = corrections[op.node];
    DOPT_ASSIGN_OR_RETURN(auto e, ev.Compare(r.plan, {}));
    r.cosine = ev.OutputCosine(e);
    cache[{which, f, k}] = r;
    return r;
  };
  // The smallest x in [lo, hi] with ok(x), given ok(hi).
  auto bisect = [&](int lo, int hi, auto ok) -> StatusOr<int> {
    while (lo < hi) {
      const int mid = (lo + hi) / 2;
      DOPT_ASSIGN_OR_RETURN(bool good, ok(mid));
      if (good) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return hi;
  };
  int f = 0, k = n;
  DOPT_ASSIGN_OR_RETURN(RaiseResult all16, eval(0, n));
  bool met = all16.cosine >= target;
  if (!met && n > 1) {
    // What every op at int16 leaves is mostly the int8 weights' error, and float is what
    // removes it: besides `order` (the int8 ranking), the ops are ranked by their share of the
    // all-int16 plan's error (its output cosine with only that op quantized, at int16
    // activations). Each ranking gets its fewest float ops; the second is used only when it
    // needs fewer. On PP-OCRv4 det at 0.997 the int8 ranking needed 5 float ops, whose
    // weights cost little on other images (held-out cosine 0.989); the int16 one needs 3
    // (0.992). On NudeNet both need 3, and the int8 ranking's generalise better (held-out
    // 0.9988 against 0.9923, although the other had the higher cosine on the analysis samples).
    int best_f = -1, best_which = 0;
    for (int w : {0, 1}) {
      which = w;
      const int hi = best_f < 0 ? n - 1 : best_f - 1;  // the second ranking must need fewer
      if (hi < 1) continue;
      if (w == 1) {  // one more analysis, on the all-int16 plan
        DOPT_ASSIGN_OR_RETURN(AnalysisReport r16, AnalyzePlan(graph, all16.plan, ev, AnalyzeOptions{}));
        std::map<std::string, LayerAnalysis> by_name;
        for (const LayerAnalysis& l : r16.layers) by_name[l.name] = l;
        for (const LayerAnalysis& l : order) {
          auto it = by_name.find(l.name);
          at16.push_back(it == by_name.end() ? l : it->second);
        }
        std::stable_sort(at16.begin(), at16.end(), [](const LayerAnalysis& a, const LayerAnalysis& b) {
          return a.output_cosine != b.output_cosine ? a.output_cosine < b.output_cosine : a.sqnr_db < b.sqnr_db;
        });
      }
      DOPT_ASSIGN_OR_RETURN(RaiseResult most_float, eval(hi, n - hi));
      if (most_float.cosine < target) continue;
      DOPT_ASSIGN_OR_RETURN(best_f, bisect(1, hi, [&](int x) -> StatusOr<bool> {
        DOPT_ASSIGN_OR_RETURN(RaiseResult r, eval(x, n - x));
        return r.cosine >= target;
      }));
      best_which = w;
    }
    which = best_which;
    if (best_f >= 0) {
      f = best_f;
      k = n - f;
      met = true;
    }
  }
  if (met) {
    DOPT_ASSIGN_OR_RETURN(k, bisect(f == 0 ? 1 : 0, n - f, [&](int x) -> StatusOr<bool> {
      DOPT_ASSIGN_OR_RETURN(RaiseResult r, eval(f, x));
      return r.cosine >= target;
    }));
    // int16 activations leave the int8 weights' error: when the same ops in float leave less
    // than half the output error, that error is in their weights and float is the fix.
    if (f == 0) {
      DOPT_ASSIGN_OR_RETURN(RaiseResult as16, eval(0, k));
      DOPT_ASSIGN_OR_RETURN(RaiseResult asfloat, eval(k, 0));
      if (k < n && 1.0 - asfloat.cosine < 0.5 * (1.0 - as16.cosine)) f = k, k = 0;
    }
  } else {
    f = 0, k = n;
  }
  DOPT_ASSIGN_OR_RETURN(RaiseResult r, eval(f, k));
  const std::string result = std::to_string(f) + " float + " + std::to_string(k) + " int16: output cosine -> " + Fixed(r.cosine, 5);
  // Why op `l` (rank i in its ranking; at16: the ranking on the all-int16 plan) was raised.
  auto reason = [&](const LayerAnalysis& l, int i, bool at16_rank) {
    return "accuracy_target " + Fixed(target, 4) + ": " + (at16_rank ? "at int16 " : "") + "sensitivity rank " +
           std::to_string(i + 1) + " of " + std::to_string(n) + " (output cosine " + Fixed(l.output_cosine, 5) +
           " with only it quantized" + (at16_rank ? " at int16 activations" : "") + ", isolated SQNR " +
           Fixed(l.sqnr_db, 1) + " dB); " + result;
  };
  std::set<std::string> floated;
  for (int i = 0; i < f; ++i) {
    const LayerAnalysis& l = float_order()[(size_t)i];
    floated.insert(l.name);
    r.plan.raised.push_back({l.name, l.op_type, "float", reason(l, i, which == 1)});
  }
  for (int i = 0, raised = 0; i < n && raised < k; ++i) {
    const LayerAnalysis& l = order[(size_t)i];
    if (floated.count(l.name)) continue;
    ++raised;
    r.plan.raised.push_back({l.name, l.op_type, "int16", reason(l, i, false)});
  }
  return r;
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
  DOPT_ASSIGN_OR_RETURN(CalibRequest req, ResolveCalibRequest(cfg, o.flags, ModelNamesFromGraph(graph)));
  DOPT_ASSIGN_OR_RETURN(CalibMethod method, ParseCalibMethod(cfg.calibration_method));

  QuantizeSummary sum;
  sum.source_opset = DefaultOpset(graph);
  QuantPlan& plan = sum.plan;
  plan.tool_version = kToolVersion;
  plan.strategy = cfg.strategy;
  plan.framework = o.framework ? o.framework : 5;
  plan.source_model = BaseName(o.model);
  {  // a block: bytes read again for the hash are freed at once
    DOPT_ASSIGN_OR_RETURN(std::shared_ptr<const std::string> loaded, ModelSourceBytes(graph.info));
    if (loaded) {
      plan.source_sha256 = Sha256Hex(*loaded);  // the bytes the graph was read from (checked)
    } else {
      DOPT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(o.model));
      plan.source_sha256 = Sha256Hex(bytes);
    }
  }
  plan.calibration_method = CalibMethodName(method);
  plan.activation_bits = cfg.activation_bits;
  plan.weight_bits = cfg.weight_bits;
  plan.per_channel = cfg.per_channel;
  plan.symmetric_activations = cfg.symmetric_activations || cfg.activation_bits > 8;

  // Graph passes up to the choice of ops.
  QuantSelection sel;
  std::map<std::string, ChannelRescale> equalized;  // equalization: true: each Conv's factors
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
    DOPT_RETURN_IF_ERROR(PrepareForQuantization(graph, &sum.passes, prep, &equalized).WithContext(o.model));
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
      so.second_weights_off_reason = found->second_weights_off_reason
                                         ? found->second_weights_off_reason
                                         : "the " + format + " writer cannot quantize the weights of a recurrent op yet";
    }
    pm.Add(std::make_unique<MarkQuantizablePass>(&sel, so));
    DOPT_RETURN_IF_ERROR(pm.Run(graph, &sum.passes).WithContext(o.model));
    DOPT_RETURN_IF_ERROR(AddRequestedOps(graph, cfg.quantize_op_types, found->activation_only,
                                         "the " + format + " writer cannot quantize the input of an op without weights yet",
                                         &sel)
                             .WithContext(o.cal_conf));
    ApplyExclusions(graph, req.exclude_ops, &sel);
  }
  // Never a silent no-op: a model with weighted ops of which none can be quantized would be
  // written back in float while the user believes it is int8.
  if (sel.ops.empty() && !sel.already_quantized.empty()) return AlreadyQuantizedModel(o.model, sel);
  if (sel.ops.empty() && !sel.excluded.empty()) return NothingQuantizable(o.model, sel);
  sum.already_quantized = sel.already_quantized;

  // `dopt analyze --compress_conf FILE`: the analysis of an existing plan (made for this model).
  if (o.analyze_only && !o.compress_conf.empty()) {
    DOPT_ASSIGN_OR_RETURN(plan, ReadCompressConf(o.compress_conf));
    if (plan.equalization != cfg.equalization) {
      return InvalidArgument(o.compress_conf + ": the plan was made with equalization: " +
                             (plan.equalization ? "true" : "false") + ", the config " + o.cal_conf + " says " +
                             (cfg.equalization ? "true" : "false") + "; analyse it with the config it was made with");
    }
    // The plan's names and weights are those of the smoothed graph.
    DOPT_RETURN_IF_ERROR(ApplySmoothing(graph, plan, &sum.passes).WithContext(o.compress_conf));
    DOPT_ASSIGN_OR_RETURN(auto stream, OpenCalibrationStream(req));
    DOPT_ASSIGN_OR_RETURN(AnalysisSamples held, TakeSamples(*stream, cfg.analysis_samples));
    if (held.count == 0) return InvalidArgument(o.cal_conf + ": the calibration data yielded no sample to analyse on");
    for (const QuantizedOp& op : plan.ops) {
      if (!FindNode(graph, op.node)) {
        return InvalidArgument(o.compress_conf + ": op '" + op.node + "' is not a node of " + o.model +
                               " (the plan was made for another model)");
      }
    }
    DOPT_ASSIGN_OR_RETURN(auto ev, PlanEvaluator::Create(graph, held, AnalysisTensors(graph, plan), o.num_threads, HistogramTensors(plan)));
    DOPT_ASSIGN_OR_RETURN(sum.analysis, AnalyzePlan(graph, plan, *ev, AnalyzeOptions{}));
    DOPT_RETURN_IF_ERROR(WriteReport(o, &sum));
    sum.total_seconds = Seconds(t_start);
    return sum;
  }

  // Mixed precision by hand: layer_precision blocks of the config.
  std::map<std::string, int> op_bits;
  if (!cfg.layer_precision.empty()) {
    std::vector<PrecisionRequest> requests;
    for (const auto& lp : cfg.layer_precision) requests.push_back({lp.op, lp.tensor, lp.precision});
    auto precisions = ResolveLayerPrecision(graph, sel, requests);
    if (!precisions.ok()) return precisions.status().WithContext(o.cal_conf);
    op_bits = ApplyLayerPrecision(*precisions, "layer_precision in the config", &sel, &plan.raised);
    if (sel.ops.empty()) return NothingQuantizable(o.model, sel);
  }

  // smooth_quant_alpha: one pass over the calibration data for each smoothable activation's
  // per-channel maximum, then the float-equivalent rewrite; calibration below sees the smoothed
  // activations, and the plan records the factors for its readers.
  if (cfg.smooth_quant_alpha >= 0) {
    if (!found->smoothing) {
      return InvalidArgument(o.cal_conf + ": smooth_quant_alpha: the " + std::string(found->writer) +
                             " writer cannot store smoothed activations yet (ONNX models only); remove it from the config");
    }
    plan.smooth_quant_alpha = cfg.smooth_quant_alpha;
    std::vector<SmoothingGroup> groups = SmoothingGroups(graph, sel);
    if (!groups.empty()) {
      std::vector<std::string> tensors;
      for (const SmoothingGroup& g : groups) tensors.push_back(g.tensor);
      DOPT_ASSIGN_OR_RETURN(auto stream, OpenCalibrationStream(req));
      CalibratorOptions co;
      co.max_samples = cfg.max_calibration_samples;
      co.num_threads = o.num_threads;
      co.progress = o.progress;
      auto absmax = ChannelAbsMax(graph, tensors, *stream, co);
      if (!absmax.ok()) return absmax.status().WithContext(o.model + ": smooth_quant_alpha");
      plan.smoothing = SmoothingFactors(graph, groups, *absmax, cfg.smooth_quant_alpha);
      DOPT_RETURN_IF_ERROR(ApplySmoothing(graph, plan, &sum.passes).WithContext(o.model));
    }
  }

  // Calibration: observe the activation input of every op still selected.
  std::vector<std::string> observe;
  std::set<std::string> seen;
  for (const QuantCandidate& c : sel.ops) {
    const Node* n = FindNode(graph, c.node);
    if (!n) return Internal("quantized op '" + c.node + "' vanished");
    const std::string& t = graph.value(n->inputs[c.activation_input]).name;
    if (seen.insert(t).second) observe.push_back(t);
    if (c.activation_pair) {
      const std::string& t2 = graph.value(n->inputs[c.weight_input]).name;
      if (seen.insert(t2).second) observe.push_back(t2);
    }
  }
  // accuracy_target and bias_correction measure on samples kept aside from calibration (the
  // first analysis_samples of the data, when it has at least twice as many); the analysis
  // (--report, dopt analyze) looks at the first samples of the calibration data.
  const bool accuracy = cfg.accuracy_target > 0 || cfg.bias_correction;
  const bool want_samples = accuracy || o.analyze_only || !o.report.empty();
  AnalysisSamples held;
  std::map<std::string, FloatRange> ranges, observed;
  DOPT_ASSIGN_OR_RETURN(auto stream, OpenCalibrationStream(req));
  if (accuracy && stream->num_samples() >= 2 * cfg.analysis_samples) {
    DOPT_ASSIGN_OR_RETURN(held, TakeSamples(*stream, cfg.analysis_samples));
    sum.held_out_samples = held.count;
  }
  if (!observe.empty()) {
    auto t0 = Clock::now();
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
    observed = std::move(cr.minmax);
    plan.calibration_samples = (int)cr.samples;
    sum.samples_skipped = cr.skipped;
    sum.batches = cr.batches;
    sum.calibration_seconds = Seconds(t0);
  }
  if (want_samples && held.count == 0) {
    DOPT_RETURN_IF_ERROR(stream->Rewind());
    DOPT_ASSIGN_OR_RETURN(held, TakeSamples(*stream, cfg.analysis_samples));
  }
  stream.reset();

  QuantParamOptions qo;
  qo.activation_bits = cfg.activation_bits;
  qo.weight_bits = cfg.weight_bits;
  qo.per_channel = cfg.per_channel;
  qo.symmetric_activations = cfg.symmetric_activations;
  qo.op_activation_bits = op_bits;
  qo.wide_ranges = &observed;
  qo.x86_saturation_safe = cfg.x86_saturation_safe;  // weights limited to [-64, 64]
  DOPT_RETURN_IF_ERROR(ComputeQuantParams(graph, sel, ranges, qo, &plan).WithContext(o.model));

  std::unique_ptr<PlanEvaluator> ev;
  if (want_samples) {
    if (held.count == 0) return InvalidArgument(o.model + ": no calibration sample is left for the accuracy analysis");
    DOPT_ASSIGN_OR_RETURN(ev, PlanEvaluator::Create(graph, held, AnalysisTensors(graph, plan), o.num_threads, HistogramTensors(plan)));
  }
  if (cfg.bias_correction) DOPT_RETURN_IF_ERROR(CorrectBiases(graph, *ev, &plan).WithContext(o.model + ": bias_correction"));

  // accuracy_target: the most sensitive ops are raised, to int16 activations, until the
  // output cosine on the held-out samples reaches the target; where int16 activations cannot
  // reach it (the error is in the int8 weights), some to float (RaiseUntilTarget).
  if (cfg.accuracy_target > 0) {
    plan.accuracy_target = cfg.accuracy_target;
    DOPT_ASSIGN_OR_RETURN(auto errors, ev->Compare(plan, {}));
    double cosine = ev->OutputCosine(errors);
    sum.cosine_before_raising = cosine;
    if (cosine < cfg.accuracy_target) {
      DOPT_ASSIGN_OR_RETURN(AnalysisReport ranking, AnalyzePlan(graph, plan, *ev, AnalyzeOptions{}));
      std::vector<LayerAnalysis> order;
      for (const LayerAnalysis& l : ranking.layers)
        if (l.activation_bits <= 8) order.push_back(l);
      // Most sensitive first: the lowest output cosine with only that op quantized, then the
      // lowest isolated SQNR.
      std::stable_sort(order.begin(), order.end(), [](const LayerAnalysis& a, const LayerAnalysis& b) {
        return a.output_cosine != b.output_cosine ? a.output_cosine < b.output_cosine : a.sqnr_db < b.sqnr_db;
      });
      DOPT_ASSIGN_OR_RETURN(RaiseResult r, RaiseUntilTarget(graph, sel, ranges, qo, plan, order, cfg.accuracy_target, *ev));
      plan = std::move(r.plan);
      cosine = r.cosine;
    }
    plan.accuracy_achieved = (float)cosine;
  }
  if (o.analyze_only || !o.report.empty()) {
    DOPT_ASSIGN_OR_RETURN(sum.analysis, AnalyzePlan(graph, plan, *ev, AnalyzeOptions{}));
  }
  if (o.analyze_only) {
    DOPT_RETURN_IF_ERROR(WriteReport(o, &sum));
    sum.total_seconds = Seconds(t_start);
    return sum;
  }

  // Outputs: the model in its own format and the compress_conf, both serialized before
  // anything is written.
  ExportOptions eo;
  eo.activation_bits = cfg.activation_bits;
  eo.model_path = o.model;
  eo.weight_path = o.weight;
  eo.output_path = o.output;
  eo.equalized = std::move(equalized);
  DOPT_RETURN_IF_ERROR(ApplyBiasCorrections(graph, plan).WithContext(o.model));
  DOPT_ASSIGN_OR_RETURN(ExportedModel exported, export_fn(graph, plan, eo));
  sum.output_opset = exported.output_opset;
  sum.output_format = exported.format_note;
  const std::string& model_bytes = exported.bytes;
  std::string conf_bytes;
  if (!o.compress_conf.empty()) {
    DOPT_ASSIGN_OR_RETURN(conf_bytes, SerializeCompressConf(plan));
  }
  DOPT_RETURN_IF_ERROR(WriteReport(o, &sum));  // first: it is not part of the model/compress_conf pair
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
