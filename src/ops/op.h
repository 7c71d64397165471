// What one op file provides: attribute checks, a shape/type rule and a reference kernel.
// The op list is ops.inc; each entry NAME has a file defining `const OpDef& OpDef_NAME()`.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "dopt/status.h"
#include "ir/graph.h"

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

 private:
  const Node& node_;
  std::vector<const Tensor*> inputs_;
  std::vector<Tensor> outputs_;
  ThreadPool* pool_;
};

struct OpDef {
  const char* name;
  int min_inputs;
  int max_inputs;
  int min_outputs;
  int max_outputs;
  Status (*infer)(InferContext&);
  Status (*run)(KernelContext&);
  // False for ops whose outputs must not be folded into constants at load time.
  bool foldable = true;
  // Optional: computes constant outputs from static information alone (e.g. Shape from a
  // known input shape) when the inputs are not constants. Fills `outputs` (one per output)
  // or leaves it empty when it cannot.
  Status (*fold_from_info)(InferContext&, std::vector<Tensor>* outputs) = nullptr;
};

// Looks an op up by ONNX-style type name ("Conv"); nullptr when dopt has no such op.
const OpDef* FindOpDef(const std::string& domain, const std::string& op_type);
// Every op in the list, in list order.
const std::vector<const OpDef*>& AllOpDefs();

// Resolves node.op of every node from the op list; reports every unknown op by node name and
// type.
Status ResolveOps(Graph& graph);
// Checks each node against its resolved op: input/output counts within the op's limits and
// required inputs present.
Status VerifyOps(const Graph& graph);

}  // namespace dopt
