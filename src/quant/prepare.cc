#include "quant/prepare.h"

#include <memory>

#include "passes/fold_affine.h"
#include "passes/fold_batchnorm.h"

namespace dopt {

Status PrepareForQuantization(Graph& graph, std::vector<PassReport>* reports) {
  PassManager pm;
  pm.Add(std::make_unique<FoldBatchNormPass>());
  pm.Add(std::make_unique<FoldAffinePass>());
  return pm.Run(graph, reports);
}

}  // namespace dopt
