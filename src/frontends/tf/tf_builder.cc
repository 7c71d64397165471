#include "frontends/tf/tf_builder.h"

#include <cstring>

#include "ir/graph_edit.h"
#include "ops/shape_inference.h"
#include "ops/op.h"

namespace dopt {

namespace {
// "N" / "N:0" -> "N"; "N:k" stays; "^N" (control) is not a data input.
std::string Normalize(const std::string& in) {
  if (in.size() > 2 && in.compare(in.size() - 2, 2, ":0") == 0) return in.substr(0, in.size() - 2);
  return in;
}
}  // namespace

int TfBuilder::NumDataInputs(const dopt_tf::NodeDef& n) const {
  int c = 0;
  for (const std::string& s : n.input())
    if (!s.empty() && s[0] != '^') ++c;
  return c;
}

StatusOr<TfTensor> TfBuilder::Input(const dopt_tf::NodeDef& n, int i) const {
  int c = 0;
  for (const std::string& s : n.input()) {
    if (s.empty() || s[0] == '^') continue;
    if (c++ != i) continue;
    auto it = tensors_.find(Normalize(s));
    if (it == tensors_.end()) return NotFound(DescribeTfNode(n) + ": input '" + s + "' is not a tensor of the graph");
    return it->second;
  }
  return InvalidArgument(DescribeTfNode(n) + ": has " + std::to_string(c) + " inputs, needs at least " +
                         std::to_string(i + 1));
}

StatusOr<int> TfBuilder::Nchw(const std::string& name) {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) return Internal("tensor '" + name + "' not converted");
  if (it->second.nchw >= 0) return it->second.nchw;
  int src = it->second.tf;
  if (Rank(src) != 4) {
    return InvalidArgument("tensor '" + name + "' must have rank 4 (NHWC), has " +
                           (Rank(src) < 0 ? std::string("an unknown rank") : std::to_string(Rank(src))));
  }
  int id = Add1(name + "/dopt_nchw", "Transpose", {src}, name + "/dopt_nchw", {{"perm", AttrInts({0, 3, 1, 2})}});
  DOPT_RETURN_IF_ERROR(InferNew());
  tensors_[name].nchw = id;
  return id;
}

Status TfBuilder::SetNchwResult(const std::string& node, int k, int vid) {
  std::string name = TensorName(node, k);
  std::string tname = node + "/dopt_nhwc" + (k ? "_" + std::to_string(k) : "");
  int tf = Add1(tname, "Transpose", {vid}, name, {{"perm", AttrInts({0, 2, 3, 1})}});
  tensors_[name] = TfTensor{tf, vid};
  return InferNew();
}

std::vector<int> TfBuilder::AddNode(const std::string& name, const std::string& op_type, std::vector<int> inputs,
                                    std::vector<std::string> outputs,
                                    std::vector<std::pair<std::string, Attribute>> attrs) {
  Node n;
  n.name = name;
  n.op_type = op_type;
  n.opset_version = 18;
  n.inputs = std::move(inputs);
  n.attributes = std::move(attrs);
  n.op = FindOpDef("", op_type);
  std::vector<int> outs;
  for (const std::string& o : outputs) {
    Value v;
    v.name = o;
    outs.push_back(g_->AddValue(std::move(v)));
  }
  n.outputs = outs;
  g_->AddNode(std::move(n));
  return outs;
}

int TfBuilder::Const(const std::string& name, Tensor t) {
  int id = g_->FindValue(name);
  if (id >= 0 && g_->value(id).initializer) return id;
  return AddInitializer(*g_, name, std::move(t));
}

Status TfBuilder::InferNew() {
  ShapeInferenceOptions o;
  o.first_node = inferred_;
  o.fold_limit = int64_t(1) << 24;  // constant sub-graphs feeding weights (Reshape of a kernel) fold too
  inferred_ = g_->nodes.size();
  for (size_t i = o.first_node; i < g_->nodes.size(); ++i)
    if (!g_->nodes[i].op) return Internal("no IR op " + g_->nodes[i].op_type + " for " + g_->nodes[i].Describe());
  return InferShapes(*g_, o);
}

std::pair<int64_t, int64_t> TfSamePads(int64_t in, int64_t k, int64_t stride, int64_t dilation) {
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + (k - 1) * dilation + 1 - in, 0);
  return {total / 2, total - total / 2};
}

Tensor TransposeTensor(const Tensor& t, const std::vector<int>& perm) {
  const int r = t.rank();
  Shape os(r);
  for (int i = 0; i < r; ++i) os[i] = t.dim(perm[i]);
  Tensor o(t.dtype(), os);
  std::vector<int64_t> istride(r, 1);
  for (int i = r - 2; i >= 0; --i) istride[i] = istride[i + 1] * t.dim(i + 1);
  const size_t es = DTypeSize(t.dtype());
  const char* src = static_cast<const char*>(t.raw());
  char* dst = static_cast<char*>(o.raw());
  std::vector<int64_t> idx(r, 0);
  for (int64_t n = 0; n < o.numel(); ++n) {
    int64_t off = 0;
    for (int i = 0; i < r; ++i) off += idx[i] * istride[perm[i]];
    std::memcpy(dst + n * es, src + off * es, es);
    for (int i = r - 1; i >= 0; --i) {
      if (++idx[i] < os[i]) break;
      idx[i] = 0;
    }
  }
  return o;
}

}  // namespace dopt
