// The state of one GraphDef -> IR conversion: which IR value holds each TF tensor (in TF's
// layout, and in NCHW where a channels-first form exists), and helpers the op mappings
// (tf_ops.cc) use to add IR nodes and constants following the naming contract of
// tf_frontend.h. Internal to src/frontends/tf/.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dopt/status.h"
#include "frontends/tf/tf_graphdef.h"
#include "ir/graph.h"

namespace dopt {

// One TF tensor as seen by the IR.
struct TfTensor {
  int tf = -1;    // IR value in TF's layout, named like the tensor ("N" or "N:k")
  int nchw = -1;  // IR value holding the NHWC tensor in NCHW ("<tensor>/dopt_nchw"), -1 if none
};

class TfBuilder {
 public:
  explicit TfBuilder(Graph* g) : g_(g) {}
  Graph& graph() { return *g_; }

  // The tensor a node input string names ("N", "N:k"); NotFound when not converted yet.
  StatusOr<TfTensor> Input(const dopt_tf::NodeDef& n, int i) const;
  int NumDataInputs(const dopt_tf::NodeDef& n) const;
  // Registers TF tensor `name` (already normalised: "N" or "N:k").
  void SetTensor(const std::string& name, TfTensor t) { tensors_[name] = t; }
  bool Has(const std::string& name) const { return tensors_.count(name) > 0; }
  static std::string TensorName(const std::string& node, int k) { return k == 0 ? node : node + ":" + std::to_string(k); }

  // The NCHW form of a rank-4 TF tensor (created once, shared): Transpose [0,3,1,2].
  StatusOr<int> Nchw(const std::string& tensor_name);
  // IR value `vid` is the NCHW result for TF tensor `name`: records it and adds the TF-layout
  // value `name` = Transpose [0,2,3,1] (node "<node>/dopt_nhwc[_k]").
  Status SetNchwResult(const std::string& node, int k, int vid);
  // Registers a TF-layout result value.
  void SetResult(const std::string& node, int k, int vid) { tensors_[TensorName(node, k)] = TfTensor{vid, -1}; }

  // Adds an IR node; outputs are new values with the given names. Returns the output ids.
  std::vector<int> AddNode(const std::string& name, const std::string& op_type, std::vector<int> inputs,
                           std::vector<std::string> outputs,
                           std::vector<std::pair<std::string, Attribute>> attrs = {});
  int Add1(const std::string& name, const std::string& op_type, std::vector<int> inputs, const std::string& out,
           std::vector<std::pair<std::string, Attribute>> attrs = {}) {
    return AddNode(name, op_type, std::move(inputs), {out}, std::move(attrs))[0];
  }
  // An initializer (name made unique if taken); cached by name: the same name returns the same id.
  int Const(const std::string& name, Tensor t);
  int ConstI64(const std::string& name, const std::vector<int64_t>& v) {
    return Const(name, Tensor::FromInt64s({(int64_t)v.size()}, v));
  }

  const Value& V(int id) const { return g_->value(id); }
  const Tensor* ConstOf(int id) const { return g_->value(id).ConstantValue(); }
  int Rank(int id) const { return g_->value(id).rank_known ? (int)g_->value(id).shape.size() : -1; }

  // Runs shape inference (and constant folding) over nodes added since the last call.
  Status InferNew();

 private:
  Graph* g_;
  std::map<std::string, TfTensor> tensors_;
  size_t inferred_ = 0;
};

static inline Attribute AttrInt(int64_t v) { Attribute a; a.kind = Attribute::Kind::kInt; a.i = v; return a; }
static inline Attribute AttrFloat(float v) { Attribute a; a.kind = Attribute::Kind::kFloat; a.f = v; return a; }
static inline Attribute AttrStr(std::string v) { Attribute a; a.kind = Attribute::Kind::kString; a.s = std::move(v); return a; }
static inline Attribute AttrInts(std::vector<int64_t> v) { Attribute a; a.kind = Attribute::Kind::kInts; a.ints = std::move(v); return a; }
static inline Attribute AttrTensor(Tensor t) { Attribute a; a.kind = Attribute::Kind::kTensor; a.t = std::move(t); return a; }

// TF's SAME padding for one spatial dim: {before, after}, the extra one after.
std::pair<int64_t, int64_t> TfSamePads(int64_t in, int64_t k, int64_t stride, int64_t dilation);

// Permutes a tensor (any dtype) by `perm`.
Tensor TransposeTensor(const Tensor& t, const std::vector<int>& perm);

// One op mapping: converts TF node `n` with the builder.
using TfOpFn = Status (*)(TfBuilder&, const dopt_tf::NodeDef&);
// The op table (tf_ops.cc): nullptr when the op is not supported.
TfOpFn FindTfOp(const std::string& op);
std::vector<std::string> SupportedTfOps();

}  // namespace dopt
