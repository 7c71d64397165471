// The TF op table: one entry per TensorFlow op, each a small function (tf_ops_*.cc) that adds
// the IR nodes implementing it, following the layout and naming contract of tf_frontend.h.
#include <algorithm>

#include "frontends/tf/tf_op_util.h"

namespace dopt {

namespace {

const std::map<std::string, TfOpFn>& Table() {
  static const std::map<std::string, TfOpFn> t = [] {
    std::map<std::string, TfOpFn> m;
    RegisterTfElementwiseOps(&m);
    RegisterTfNnOps(&m);
    RegisterTfShapeOps(&m);
    return m;
  }();
  return t;
}

}  // namespace

TfOpFn FindTfOp(const std::string& op) {
  auto it = Table().find(op);
  return it == Table().end() ? nullptr : it->second;
}

std::vector<std::string> SupportedTfOps() {
  std::vector<std::string> v;
  for (const auto& kv : Table()) v.push_back(kv.first);
  v.push_back("Placeholder");
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace dopt
