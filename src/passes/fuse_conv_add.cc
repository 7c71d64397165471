#include "passes/fuse_conv_add.h"

#include <vector>

#include "ir/graph_edit.h"

namespace dopt {

StatusOr<int> FuseConvAddPass::Run(Graph& g) {
  const auto consumers = g.Consumers();
  std::vector<bool> is_output(g.values.size(), false);
  for (int o : g.outputs) is_output[(size_t)o] = true;
  std::vector<bool> removed(g.nodes.size(), false);
  std::vector<int> dead;
  int changes = 0;
  for (int ai = 0; ai < (int)g.nodes.size(); ++ai) {
    const Node& add = g.nodes[(size_t)ai];
    if (removed[(size_t)ai] || add.op_type != "Add" || !add.domain.empty() || add.inputs.size() != 2 ||
        add.outputs.size() != 1 || add.outputs[0] < 0) {
      continue;
    }
    const int out = add.outputs[0];
    const Value& yv = g.value(out);
    if (yv.dtype != DType::kFloat32 || !yv.rank_known) continue;
    for (int k = 0; k < 2; ++k) {
      const int x = add.inputs[(size_t)k], r = add.inputs[(size_t)(1 - k)];
      if (x < 0 || r < 0 || x == r || is_output[(size_t)x] || consumers[(size_t)x].size() != 1) continue;
      const int ci = g.value(x).producer;
      if (ci < 0 || removed[(size_t)ci]) continue;
      Node& conv = g.nodes[(size_t)ci];
      if (conv.op_type != "Conv" || !conv.domain.empty() || conv.outputs.size() != 1 || conv.outputs[0] != x ||
          conv.inputs.size() > 3) {  // more than X, W, B: already fused
        continue;
      }
      // Exactly the Add's shape on both sides (no broadcast), float.
      const Value &xv = g.value(x), &rv = g.value(r);
      if (xv.dtype != DType::kFloat32 || rv.dtype != DType::kFloat32 || !xv.rank_known || !rv.rank_known ||
          xv.shape != yv.shape || rv.shape != yv.shape || xv.shape.size() < 3) {
        continue;
      }
      bool known = true;
      for (int64_t d : yv.shape) known &= d > 0;
      if (!known) continue;
      conv.inputs.resize(3, -1);
      conv.inputs.push_back(r);
      conv.attributes.push_back({"dopt.fused_add", IntAttr(1)});
      int result = out;
      dead.push_back(ai);
      removed[(size_t)ai] = true;
      // A Relu that alone reads the sum.
      if (!is_output[(size_t)out] && consumers[(size_t)out].size() == 1) {
        const int ri = consumers[(size_t)out][0];
        const Node& relu = g.nodes[(size_t)ri];
        if (!removed[(size_t)ri] && relu.op_type == "Relu" && relu.domain.empty() && relu.inputs.size() == 1 &&
            relu.outputs.size() == 1 && relu.outputs[0] >= 0 && g.value(relu.outputs[0]).dtype == DType::kFloat32) {
          conv.attributes.push_back({"dopt.fused_post_activation", StringAttr("Relu")});
          result = relu.outputs[0];
          dead.push_back(ri);
          removed[(size_t)ri] = true;
        }
      }
      conv.outputs[0] = result;
      g.value(result).producer = ci;
      ++changes;
      break;
    }
  }
  RemoveNodes(g, dead);
  return changes;
}

}  // namespace dopt
