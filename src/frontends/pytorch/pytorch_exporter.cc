#include "frontends/pytorch/pytorch_exporter.h"

#include <cstdio>
#include <sstream>

#include "common/file_util.h"
#include "data/calib_config.h"
#include "frontends/pytorch/pytorch_names.h"
#include "frontends/pytorch/torch_helper_process.h"
#include "io/npy.h"
#include "ops/op.h"

namespace dopt {

namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if ((unsigned char)c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", (unsigned char)c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonFloat(float f) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", (double)f);  // round-trips a float exactly
  return buf;
}

std::string TensorQuantJson(const TensorQuant& q, const Shape& shape) {
  std::ostringstream o;
  o << "{\"bits\": " << q.bits << ", \"axis\": " << q.axis << ", \"scales\": [";
  for (size_t i = 0; i < q.scales.size(); ++i) o << (i ? ", " : "") << JsonFloat(q.scales[i]);
  o << "], \"zero_points\": [";
  for (size_t i = 0; i < q.zero_points.size(); ++i) o << (i ? ", " : "") << q.zero_points[i];
  o << "], \"shape\": [";
  for (size_t i = 0; i < shape.size(); ++i) o << (i ? ", " : "") << shape[i];
  o << "]}";
  return o.str();
}

// The node input named `name` (the bias in the plan), or input `fallback` when the name is
// empty; -1 when none.
int FindInput(const Graph& g, const Node& n, const std::string& name, int fallback) {
  for (size_t i = 1; i < n.inputs.size(); ++i)
    if (n.inputs[i] >= 0 && (g.value(n.inputs[i]).name == name || (name.empty() && (int)i == fallback)))
      return n.inputs[i];
  return -1;
}

// The BatchNorm module right after node `node` whose node is gone: dopt folded it (empty: none).
std::string FoldedBatchNorm(const Graph& graph, const std::string& node) {
  const std::string bn = TorchMetadata(graph, kTorchBatchNormAfter + node);
  if (bn.empty()) return "";
  const std::string bn_module = bn.substr(0, bn.find('\t')), bn_node = bn.substr(bn.find('\t') + 1);
  for (const Node& n : graph.nodes)
    if (n.name == bn_node) return "";
  return bn_module;
}

std::string FloatList(const std::vector<float>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + JsonFloat(v[i]);
  return s + "]";
}

}  // namespace

StatusOr<std::string> TorchPlanJson(const Graph& graph, const QuantPlan& plan,
                                    std::vector<std::pair<std::string, Tensor>>* weight_files,
                                    const std::map<std::string, ChannelRescale>& equalized) {
  std::ostringstream o;
  // Products of two activations (attention's Q x K^T and softmax x V) have no module: the helper
  // finds them by the module whose forward() ran them (the scope) and their position among the
  // scope's products of two activations, in graph (= execution) order.
  std::map<std::string, std::pair<std::string, int>> pair_position;  // node -> (scope, index)
  std::map<std::string, int> pairs_in_scope;
  for (const Node& n : graph.nodes) {
    const OpDef* def = OpDefOf(n);
    if (!def || !def->quant.activation_pair || n.inputs.size() < 2) continue;
    bool both_activations = true;
    for (int i = 0; i < 2; ++i)
      both_activations = both_activations && n.inputs[i] >= 0 && !graph.value(n.inputs[i]).ConstantValue();
    if (!both_activations) continue;
    const std::string scope = ScopeModuleOfNode(n.name);
    pair_position[n.name] = {scope, pairs_in_scope[scope]++};
  }
  o << "{\"activation_bits\": " << plan.activation_bits << ", \"pair_scopes\": {";
  bool first = true;
  for (const auto& [scope, count] : pairs_in_scope) {
    o << (first ? "" : ", ") << JsonString(scope) << ": " << count;
    first = false;
  }
  o << "}, \"ops\": [";
  first = true;
  for (const QuantizedOp& op : plan.ops) {
    const Node* node = nullptr;
    for (const Node& n : graph.nodes)
      if (n.name == op.node) node = &n;
    if (!node) return Internal("quantized op '" + op.node + "' is not in the graph");
    if (op.weight_is_activation) {
      auto pos = pair_position.find(op.node);
      if (pos == pair_position.end())
        return Internal("quantized op '" + op.node + "' is not a product of two activations");
      // input: the quantization of operand 0 or 1 (the other one's is `weight`).
      const int input_operand = op.weight_input_index == 0 ? 1 : 0;
      o << (first ? "" : ",") << "\n {\"node\": " << JsonString(op.node) << ", \"op_type\": " << JsonString(op.op_type)
        << ", \"pair\": true, \"scope\": " << JsonString(pos->second.first) << ", \"index\": " << pos->second.second
        << ", \"input_operand\": " << input_operand << ",\n  \"input\": " << TensorQuantJson(op.input, {})
        << ",\n  \"weight\": " << TensorQuantJson(op.weight, {}) << "}";
      first = false;
      continue;
    }
    const std::string module = TorchMetadata(graph, kTorchModuleOfNode + op.node);
    if (module.empty()) {
      return InvalidArgument("quantized op '" + op.node + "' (" + op.op_type +
                             ") runs no Conv/Linear module's weight, so the TorchScript model cannot quantize it; "
                             "leave it in float with exclude_op in the config");
    }
    // A BatchNorm module right after it whose node is gone was folded into it.
    const std::string fold_bn = FoldedBatchNorm(graph, op.node);
    const Tensor* w = nullptr;
    if (op.weight_input_index < (int)node->inputs.size() && node->inputs[op.weight_input_index] >= 0)
      w = graph.value(node->inputs[op.weight_input_index]).ConstantValue();
    if (!w) return Internal("quantized op '" + op.node + "' has no constant weight");
    // The weight's output-channel axis from the op's traits, also for a per-tensor plan: the
    // helper carries dopt's other per-channel folds along it.
    const OpDef* def = OpDefOf(*node);
    if (!def || !def->quant.weighted()) return Internal("quantized op '" + op.node + "' is not a weighted op");
    DOPT_ASSIGN_OR_RETURN(int channel_axis, def->quant.weight_axis(*node, op.weight_input_index, w->rank()));
    // dopt's weight after its folds (BatchNorm, Mul/Add by constants): the helper checks its own
    // folded weight against it and carries any other per-channel factor into the weight scales.
    const std::string weight_file = "weight_" + std::to_string(weight_files->size()) + ".npy";
    weight_files->emplace_back(weight_file, w->CastTo(DType::kFloat32));
    const Shape& wshape = w->shape();
    o << (first ? "" : ",") << "\n {\"node\": " << JsonString(op.node) << ", \"op_type\": " << JsonString(op.op_type)
      << ", \"module\": " << JsonString(module) << ", \"fold_bn\": " << (fold_bn.empty() ? "null" : JsonString(fold_bn))
      << ", \"weight_file\": " << JsonString(weight_file) << ", \"weight_channel_axis\": " << channel_axis
      << ",\n  \"input\": " << TensorQuantJson(op.input, {}) << ",\n  \"weight\": " << TensorQuantJson(op.weight, wshape);
    if (op.has_weight2) {  // LSTM/GRU/RNN's R, per gate row like W
      const Tensor* w2 = op.weight2_input_index >= 0 && op.weight2_input_index < (int)node->inputs.size() &&
                                 node->inputs[op.weight2_input_index] >= 0
                             ? graph.value(node->inputs[op.weight2_input_index]).ConstantValue()
                             : nullptr;
      if (!w2) return Internal("quantized op '" + op.node + "' has no constant second weight");
      const std::string weight2_file = "weight_" + std::to_string(weight_files->size()) + ".npy";
      weight_files->emplace_back(weight2_file, w2->CastTo(DType::kFloat32));
      o << ",\n  \"weight2_file\": " << JsonString(weight2_file)
        << ", \"weight2\": " << TensorQuantJson(op.weight2, w2->shape());
    }
    if (op.has_bias) {
      const int bid = FindInput(graph, *node, op.bias.tensor, def->quant.bias_input);
      const Tensor* b = bid >= 0 ? graph.value(bid).ConstantValue() : nullptr;
      if (b) {
        const std::string bias_file = "bias_" + std::to_string(weight_files->size()) + ".npy";
        weight_files->emplace_back(bias_file, b->CastTo(DType::kFloat32));
        o << ",\n  \"bias_file\": " << JsonString(bias_file) << ", \"bias\": " << TensorQuantJson(op.bias, {});
        if (!op.bias_correction.empty()) {  // already in bias_file; the helper adds it to the module's own bias
          o << ",\n  \"bias_correction\": [";
          for (size_t i = 0; i < op.bias_correction.size(); ++i) o << (i ? ", " : "") << JsonFloat(op.bias_correction[i]);
          o << "]";
        }
      }
    }
    o << "}";
    first = false;
  }
  o << "\n], \"equalized\": [";
  first = true;
  for (const auto& [node, r] : equalized) {
    const std::string module = TorchMetadata(graph, kTorchModuleOfNode + node);
    if (module.empty()) {
      return InvalidArgument("equalization rescaled Conv '" + node +
                             "', which runs no Conv module's weight, so the TorchScript model cannot hold it; "
                             "turn equalization off for this model");
    }
    const std::string fold_bn = FoldedBatchNorm(graph, node);
    o << (first ? "" : ",") << "\n {\"node\": " << JsonString(node) << ", \"module\": " << JsonString(module)
      << ", \"fold_bn\": " << (fold_bn.empty() ? "null" : JsonString(fold_bn))
      << ",\n  \"out_divided\": " << FloatList(r.out_divided) << ",\n  \"in_multiplied\": " << FloatList(r.in_multiplied)
      << "}";
    first = false;
  }
  o << "\n]}\n";
  return o.str();
}

StatusOr<ExportedModel> ExportPyTorch(Graph& graph, const QuantPlan& plan, const ExportOptions& o) {
  const std::string weight = o.weight_path.empty() ? TorchMetadata(graph, kTorchWeight) : o.weight_path;
  const std::string context = o.model_path + " (weights " + weight + ")";
  std::vector<std::pair<std::string, Tensor>> weights;
  StatusOr<std::string> json = TorchPlanJson(graph, plan, &weights, o.equalized);
  if (!json.ok()) return json.status().WithContext(o.model_path);
  DOPT_ASSIGN_OR_RETURN(TempDir dir, TempDir::Create());
  const std::string plan_path = JoinPath(dir.path(), "plan.json"), pt_path = JoinPath(dir.path(), "model.pt");
  DOPT_RETURN_IF_ERROR(WriteFileAtomic(plan_path, *json));
  for (const auto& [file, tensor] : weights) DOPT_RETURN_IF_ERROR(WriteNpy(JoinPath(dir.path(), file), tensor));
  Status st = RunTorchHelper({"build-pt", "--model", AbsolutePath(o.model_path), "--weight", AbsolutePath(weight),
                              "--model_class", TorchMetadata(graph, kTorchModelClass), "--input_shape",
                              TorchMetadata(graph, kTorchInputShape), "--plan", plan_path, "--output", pt_path},
                             dir.path());
  if (!st.ok()) return st.WithContext(context + ": writing the TorchScript model");
  ExportedModel out;
  DOPT_ASSIGN_OR_RETURN(out.bytes, ReadFileToString(pt_path));
  out.format_note = "TorchScript";
  return out;
}

}  // namespace dopt
