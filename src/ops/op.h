// What one op file provides: everything dopt knows about the op. Its input/output counts, a
// shape/type rule, a reference kernel, constant folding, how a node of it is carried to a newer
// opset and its role in quantization. The op list is ops.inc; each entry NAME has a file
// src/ops/<snake_name>.cc defining `const OpDef& OpDef_NAME()` with designated initializers
// (docs/architecture.md, "Adding an op"). Nothing outside src/ops keeps a list of ops.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "dopt/status.h"
#include "ir/graph.h"
#include "kernels/epilogue.h"

namespace dopt {

// What shape inference knows about one input.
struct ValueInfo {
  DType dtype = DType::kUndefined;
  bool rank_known = false;
  Shape shape;                   // -1 for unknown dims
  const Tensor* value = nullptr; // constant value, when known
  bool present = false;          // false for an omitted optional input
  bool ShapeKnown() const {
    if (!rank_known) return false;
    for (int64_t d : shape) if (d < 0) return false;
    return true;
  }
};

class InferContext {
 public:
  InferContext(const Node& node, std::vector<ValueInfo> inputs, int num_outputs)
      : node_(node), inputs_(std::move(inputs)), outputs_(num_outputs) {}
  const Node& node() const { return node_; }
  int num_inputs() const { return (int)inputs_.size(); }
  int num_outputs() const { return (int)outputs_.size(); }
  bool has_input(int i) const { return i < num_inputs() && inputs_[i].present; }
  const ValueInfo& input(int i) const { return inputs_[i]; }
  ValueInfo& output(int i) { return outputs_[i]; }
  void SetOutput(int i, DType dtype, Shape shape) {
    outputs_[i].dtype = dtype;
    outputs_[i].rank_known = true;
    outputs_[i].shape = std::move(shape);
  }
  void SetOutputUnknownRank(int i, DType dtype) {
    outputs_[i].dtype = dtype;
    outputs_[i].rank_known = false;
    outputs_[i].shape.clear();
  }
  std::vector<ValueInfo>& outputs() { return outputs_; }

 private:
  const Node& node_;
  std::vector<ValueInfo> inputs_;
  std::vector<ValueInfo> outputs_;
};

// Runs a sub-graph (If's branch, Loop's and Scan's body) of the node being run. Ops cannot
// include the executor (layers), so the executor hands its kernels one of these: it runs the
// prepared sub-graph `body` on `inputs` (one per body input, in compute dtype) and resolves
// the body's outer-scope values by name against the enclosing execution's live tensors.
// Returns the body's outputs in compute dtype.
class SubgraphRunner {
 public:
  virtual ~SubgraphRunner() = default;
  virtual StatusOr<std::vector<Tensor>> Run(const Graph& body, const std::vector<Tensor>& inputs) = 0;
};

class KernelContext {
 public:
  KernelContext(const Node& node, std::vector<const Tensor*> inputs, int num_outputs, ThreadPool* pool)
      : node_(node), inputs_(std::move(inputs)), outputs_(num_outputs), pool_(pool) {}
  const Node& node() const { return node_; }
  int num_inputs() const { return (int)inputs_.size(); }
  bool has_input(int i) const { return i < num_inputs() && inputs_[i] != nullptr; }
  const Tensor& input(int i) const { return *inputs_[i]; }
  int num_outputs() const { return (int)outputs_.size(); }
  // Allocates output i with a fresh zeroed buffer.
  Tensor& Output(int i, DType dtype, Shape shape) {
    outputs_[i] = Tensor(dtype, std::move(shape));
    return outputs_[i];
  }
  // Allocates output i without clearing it: only for kernels that write every element.
  Tensor& OutputUninitialized(int i, DType dtype, Shape shape) {
    outputs_[i] = Tensor::Uninitialized(dtype, std::move(shape));
    return outputs_[i];
  }
  // Sets output i to an existing tensor (e.g. a reshaped view of an input).
  void SetOutput(int i, Tensor t) { outputs_[i] = std::move(t); }
  std::vector<Tensor>& outputs() { return outputs_; }
  ThreadPool* pool() const { return pool_; }
  // The runner of the node's sub-graphs; nullptr outside an executor (constant folding,
  // a bare kernel call), where ops with sub-graphs report an error.
  SubgraphRunner* subgraphs() const { return subgraphs_; }
  void set_subgraphs(SubgraphRunner* r) { subgraphs_ = r; }
  // State the node's kernel may keep from one run to the next (MatMul: its constant weight
  // prepacked), owned by the executor that runs the node and freed with it; nullptr outside an
  // executor. Kernels store what they like and must check it still matches their inputs.
  std::shared_ptr<void>* node_state() const { return node_state_; }
  // Whether input i is a constant of the executor running the node (an initializer or a folded
  // value): its buffer and values then stay the same for the executor's lifetime, so state
  // derived from it may be kept in node_state() keyed by its address. False outside an executor.
  bool input_is_constant(int i) const { return i >= 0 && i < 64 && ((constant_inputs_ >> i) & 1); }
  void set_node_state(std::shared_ptr<void>* state, uint64_t constant_inputs) {
    node_state_ = state;
    constant_inputs_ = constant_inputs;
  }

 private:
  const Node& node_;
  std::vector<const Tensor*> inputs_;
  std::vector<Tensor> outputs_;
  ThreadPool* pool_;
  SubgraphRunner* subgraphs_ = nullptr;
  std::shared_ptr<void>* node_state_ = nullptr;
  uint64_t constant_inputs_ = 0;  // bit i: input i is an executor constant
};

// ---- opset upgrade (src/passes/upgrade_opset.cc is the driver) ----

// Rewrites node `ni` of `g` from default-domain opset `from` to `to` (7 <= from < to <= 21) so
// that it computes exactly what it did: attributes that became inputs, changed defaults, ...
// It may add nodes and values (references into g.nodes / g.values are then stale) and checks
// itself which versions of the op the node crosses (OpsetCrosses, ops/op_upgrade.h).
using UpgradeFn = Status (*)(Graph& g, int ni, int from, int to);

// How a node of the op is carried to a newer opset. Every op declares exactly one of the two
// (tests/unit/op_registry_test.cc checks it): a rewrite, or a note saying why none is needed.
struct OpsetUpgrade {
  UpgradeFn rewrite = nullptr;
  // No rewrite needed from opset 7 to 21: what changed between those versions (new types,
  // optional attributes or inputs whose defaults keep the old meaning), from ONNX's changelog.
  const char* unchanged = nullptr;
  // The oldest default-domain opset whose version of the op computes what its opset-7 version
  // does (ONNX's since_version of the op at opset 7, when below 7): a model of an older opset
  // loads as opset 7 when every op it uses has oldest <= its opset (onnx_frontend.cc).
  int oldest = 7;
  // The same declaration, with `oldest` set: NoUpgradeNeeded("...").Since(6).
  constexpr OpsetUpgrade Since(int opset) const {
    OpsetUpgrade u = *this;
    u.oldest = opset;
    return u;
  }
};
constexpr OpsetUpgrade UpgradeBy(UpgradeFn rewrite) { return {.rewrite = rewrite, .unchanged = nullptr, .oldest = 7}; }
constexpr OpsetUpgrade NoUpgradeNeeded(const char* what_changed) {
  return {.rewrite = nullptr, .unchanged = what_changed, .oldest = 7};
}

// ---- quantization traits (src/quant/mark_quantizable.cc and the exporters read them) ----

struct QuantTraits {
  enum class Role : uint8_t {
    kUndeclared = 0,    // the op file says nothing: an error (tests/unit/op_registry_test.cc)
    kNone,              // no quantization role: the op runs in float
    kSharesInputScale,  // its output may share its input's (scale, zero point), see below
    kWeighted,          // quantized: int8 activation x int8 constant weight (+ int32 bias)
    kQuantized,         // already quantized: a weighted op computing on int8/uint8 operands
                        // (QLinearConv, ConvInteger, ...); a model whose weighted ops are all
                        // of these is already quantized, and `dopt -m 0` says so
  };
  static constexpr int kAllInputs = -1;

  Role role = Role::kUndeclared;

  // kSharesInputScale: the op only selects, moves or takes the max of elements of input
  // `scale_input` (kAllInputs: of every input, which must then all have one common scale), and
  // dequantization is increasing, so running it on the int8 values gives exactly the int8
  // values of its float result: output and input may use the same quantization parameters.
  int scale_input = 0;
  // Optional: the node-dependent condition (Pad: a non-zero constant fill value is not on the
  // input's grid; Resize: only nearest sampling selects). nullptr: always.
  bool (*shares_scale_if)(const Graph& g, const Node& n) = nullptr;

  // kWeighted: input indices of the activation, the weight and the bias (-1: none).
  int activation_input = -1;
  int weight_input = -1;
  // True when either of those two inputs may be the constant one (MatMul: x * W or W * x);
  // the other is then the activation.
  bool operands_commute = false;
  // With operands_commute: when neither operand is a constant (attention's Q x K^T and
  // scores x V), both may be quantized as activations, per tensor, the output staying float.
  bool activation_pair = false;
  // A second constant weight quantized like the first, per channel along the same kind of axis
  // (LSTM/GRU/RNN: W is `weight_input`, R this one); -1: none. The op's other constant inputs
  // (a recurrent op's B) stay float.
  int second_weight_input = -1;
  int weight_min_rank = 1;
  int weight_max_rank = -1;  // -1: no limit
  // The weight's output-channel axis, along which it is quantized per channel, for weight input
  // `weight_input` of rank `rank` (within [weight_min_rank, weight_max_rank]); -1: per tensor only.
  StatusOr<int> (*weight_axis)(const Node& n, int weight_input, int rank) = nullptr;
  int bias_input = -1;
  // True: a bias that is not a model constant keeps the whole op in float (its int32 form could
  // not be computed); false: such a bias just stays float.
  bool bias_must_be_constant = false;
  // Whether a constant float 1-D bias of shape `bias` can be int32 with scale = activation scale
  // x weight scale (zero point 0): it must be added unscaled, once per output channel.
  // nullptr: never.
  StatusOr<bool> (*bias_int32)(const Node& n, const Shape& weight, int weight_axis, const Shape& bias) = nullptr;

  bool weighted() const { return role == Role::kWeighted; }
};

// The traits of ops with no quantization role.
constexpr QuantTraits NoQuantRole() { return {.role = QuantTraits::Role::kNone}; }
// The traits of ops that already compute on quantized integer operands (runs as they are).
constexpr QuantTraits AlreadyQuantized() { return {.role = QuantTraits::Role::kQuantized}; }
// The traits of ops whose output may share input `input`'s scale (when `only_if` holds).
constexpr QuantTraits SharesInputScale(int input = 0, bool (*only_if)(const Graph&, const Node&) = nullptr) {
  return {.role = QuantTraits::Role::kSharesInputScale, .scale_input = input, .shares_scale_if = only_if};
}

// ---- the op ----

// A node considered as one step of an element-wise epilogue fused into the Conv (or the MatMul
// with a constant B) before it (passes/fuse_conv_epilogue.h). Input `chain` holds the chain's
// current value, input `root` (-1: none) an earlier value of the chain (the anchor's result or
// a step's), kept by a kSave step; the node's output is float, of rank `rank`, with `channels`
// channels on axis `channel_axis` (1 after a Conv, the last after a MatMul).
struct EpilogueQuery {
  const Graph& graph;
  const Node& node;
  int chain;
  int root;
  int64_t channels;
  int rank;
  int channel_axis = 1;
};

// How a node runs when the executor keeps 4-D activations channels-last ([N, H, W, C] instead
// of [N, C, H, W]; passes/channels_last.h): which inputs are then fed channels-last, and the
// edits after which the node computes on them what it computed before, channels-last. Every
// output of such a node is 4-D and channels-last.
struct ChannelsLastPlan {
  uint64_t inputs = 0;  // bit i: input i is a 4-D activation, fed channels-last
  // Worth switching layouts for (the convolutions); other nodes run channels-last only where
  // their inputs already are.
  bool anchor = false;
  std::vector<std::pair<std::string, Attribute>> set_attrs;  // e.g. dopt.channels_last = 1, an axis
  std::vector<std::pair<int, Tensor>> constants;             // input index -> its permuted constant
};

struct OpDef {
  const char* name;  // the ONNX op type
  int min_inputs;
  int max_inputs;
  int min_outputs;
  int max_outputs;
  Status (*infer)(InferContext&);  // shape/dtype rule
  Status (*run)(KernelContext&);   // reference kernel
  // False for ops whose outputs must not be folded into constants at load time.
  bool foldable = true;
  // Optional: computes constant outputs from static information alone (e.g. Shape from a
  // known input shape) when the inputs are not constants. Fills `outputs` (one per output)
  // or leaves it empty when it cannot.
  Status (*fold_from_info)(InferContext&, std::vector<Tensor>* outputs) = nullptr;
  // Optional: the node as an epilogue step computing, per element, exactly what `run` does;
  // false when this node cannot be one (e.g. a constant that varies along more than the
  // channel axis). Helpers: UnaryEpilogue, BinaryEpilogue (op_util.h).
  bool (*epilogue)(const EpilogueQuery&, kernels::EpilogueStep*) = nullptr;
  // Optional: the node as the anchor of such an epilogue (its `run` applies the steps it is
  // given in dopt.epilogue_* attributes): the axis of its output that the steps' per-channel
  // constants run along, or -1 when this node cannot take one (passes/fuse_conv_epilogue.h).
  int (*epilogue_anchor)(const Graph&, const Node&) = nullptr;
  // Optional: whether this node can run channels-last and how (fills the plan); false leaves
  // it channels-first. Helpers: ElementwiseChannelsLast, KernelChannelsLast, Input0ChannelsLast
  // (op_util.h).
  bool (*channels_last)(const Graph&, const Node&, ChannelsLastPlan*) = nullptr;
  // Required, and without defaults: GCC's -Wmissing-field-initializers (an error with
  // DOPT_WERROR) rejects an op file that leaves one out, and tests/unit/op_registry_test.cc
  // rejects one left empty ({}).
  OpsetUpgrade upgrade;
  QuantTraits quant;
};

// Looks an op up by ONNX-style type name ("Conv"); nullptr when dopt has no such op.
const OpDef* FindOpDef(const std::string& domain, const std::string& op_type);
// Every op in the list, in list order.
const std::vector<const OpDef*>& AllOpDefs();

// The op of a node: node.op once resolved, else looked up by type; nullptr when unknown.
const OpDef* OpDefOf(const Node& node);

// Resolves node.op of every node from the op list; reports every unknown op by node name and
// type.
Status ResolveOps(Graph& graph);
// Checks each node against its resolved op: input/output counts within the op's limits and
// required inputs present.
Status VerifyOps(const Graph& graph);

}  // namespace dopt
