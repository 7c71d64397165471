#include "quant/saturation.h"

#include <algorithm>
#include <cstdlib>

#include "quant/quant_params.h"

namespace dopt {

int64_t MaxPairSum(const Graph& g, const QuantizedOp& op) {
  if (op.weight_is_activation || op.input.bits != 8 || op.weight.scales.empty()) return 0;
  const int id = g.FindValue(op.weight.tensor);
  if (id < 0 || !g.value(id).initializer) return 0;
  const Tensor w = g.value(id).initializer->CastTo(DType::kFloat32);
  if (w.numel() == 0) return 0;
  const float* p = w.data<float>();
  const int64_t a_max = op.input.symmetric ? 128 : 255;
  // The axis q's scales run along, and the axis that names output channels for the bound.
  const int qaxis = op.weight.scales.size() > 1 ? op.weight.axis : -1;
  if (qaxis >= w.rank()) return 0;
  const int caxis = qaxis;  // per tensor (-1): the whole tensor is one channel
  int64_t channels = 1, inner = w.numel();
  if (caxis >= 0) {
    channels = w.dim(caxis);
    inner = 1;
    for (int d = caxis + 1; d < w.rank(); ++d) inner *= w.dim(d);
  }
  std::vector<int64_t> top1(channels, 0), top2(channels, 0);
  for (int64_t i = 0; i < w.numel(); ++i) {
    const int64_t c = caxis >= 0 ? (i / inner) % channels : 0;
    const int qc = qaxis >= 0 ? (int)c : 0;
    const int64_t q = std::llabs((long long)QuantizeValue(p[i], op.weight, qc));
    if (q > top1[c]) {
      top2[c] = top1[c];
      top1[c] = q;
    } else if (q > top2[c]) {
      top2[c] = q;
    }
  }
  int64_t best = 0;
  for (int64_t c = 0; c < channels; ++c) best = std::max(best, top1[c] + top2[c]);
  return a_max * best;
}

}  // namespace dopt
