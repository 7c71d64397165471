// Helpers the TF op mappings (tf_ops_*.cc) share: attribute access, input lookup, naming
// per the contract of tf_frontend.h. Internal to src/frontends/tf/.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "frontends/tf/tf_builder.h"

namespace dopt {
namespace tfop {

using NodeDef = dopt_tf::NodeDef;

inline const dopt_tf::AttrValue* A(const NodeDef& n, const char* k) {
  auto it = n.attr().find(k);
  return it == n.attr().end() ? nullptr : &it->second;
}
inline int64_t AttrI(const NodeDef& n, const char* k, int64_t def) { auto* a = A(n, k); return a ? a->i() : def; }
inline float AttrF(const NodeDef& n, const char* k, float def) { auto* a = A(n, k); return a ? a->f() : def; }
inline bool AttrB(const NodeDef& n, const char* k, bool def) { auto* a = A(n, k); return a ? a->b() : def; }
inline std::string AttrS(const NodeDef& n, const char* k, const std::string& def) { auto* a = A(n, k); return a ? a->s() : def; }
inline std::vector<int64_t> AttrList(const NodeDef& n, const char* k) {
  auto* a = A(n, k);
  if (!a) return {};
  return std::vector<int64_t>(a->list().i().begin(), a->list().i().end());
}
inline bool Nhwc(const NodeDef& n) { return AttrS(n, "data_format", "NHWC") == "NHWC"; }

inline std::string Norm(const std::string& in) {
  if (in.size() > 2 && in.compare(in.size() - 2, 2, ":0") == 0) return in.substr(0, in.size() - 2);
  return in;
}
// The normalised tensor name of data input i.
inline std::string InName(const NodeDef& n, int i) {
  int c = 0;
  for (const std::string& s : n.input()) {
    if (s.empty() || s[0] == '^') continue;
    if (c++ == i) return Norm(s);
  }
  return "";
}
inline std::string Sub(const NodeDef& n, const std::string& suffix) { return n.name() + "/dopt_" + suffix; }

inline StatusOr<int> In(TfBuilder& b, const NodeDef& n, int i) {
  DOPT_ASSIGN_OR_RETURN(TfTensor t, b.Input(n, i));
  return t.tf;
}
inline StatusOr<const Tensor*> ConstIn(TfBuilder& b, const NodeDef& n, int i, const char* what) {
  DOPT_ASSIGN_OR_RETURN(int id, In(b, n, i));
  const Tensor* t = b.ConstOf(id);
  if (!t) return Unimplemented(DescribeTfNode(n) + ": " + what + " (input " + std::to_string(i) + ") must be a constant");
  return t;
}
inline StatusOr<std::vector<int64_t>> ConstInts(TfBuilder& b, const NodeDef& n, int i, const char* what) {
  DOPT_ASSIGN_OR_RETURN(const Tensor* t, ConstIn(b, n, i, what));
  if (!IsInteger(t->dtype())) return InvalidArgument(DescribeTfNode(n) + ": " + what + " must be integers");
  return t->ToInt64Vector();
}
// An int64 version of value `id` (a Cast node when it is another integer type).
inline int ToI64(TfBuilder& b, const NodeDef& n, int id, const std::string& suffix) {
  if (b.V(id).dtype == DType::kInt64) return id;
  return b.Add1(Sub(n, suffix), "Cast", {id}, Sub(n, suffix), {{"to", AttrInt(7)}});
}
inline int64_t OnnxType(DType t) {
  switch (t) {
    case DType::kFloat32: return 1;
    case DType::kUInt8: return 2;
    case DType::kInt8: return 3;
    case DType::kInt16: return 5;
    case DType::kInt32: return 6;
    case DType::kInt64: return 7;
    case DType::kBool: return 9;
    case DType::kFloat16: return 10;
    case DType::kBFloat16: return 16;
    default: return 0;
  }
}
inline Status Result(TfBuilder& b, const NodeDef& n, int vid, bool nchw) {
  if (nchw) return b.SetNchwResult(n.name(), 0, vid);
  b.SetResult(n.name(), 0, vid);
  return Status::Ok();
}
inline std::string OutName(const NodeDef& n, bool nchw) { return nchw ? n.name() + "/dopt_nchw" : n.name(); }

}  // namespace tfop

// Each tf_ops_*.cc adds its ops to the table (tf_ops.cc).
void RegisterTfElementwiseOps(std::map<std::string, TfOpFn>* table);
void RegisterTfNnOps(std::map<std::string, TfOpFn>* table);
void RegisterTfShapeOps(std::map<std::string, TfOpFn>* table);

}  // namespace dopt
