#include "quant/prepare.h"

#include <map>
#include <memory>

#include "passes/equalize.h"
#include "passes/fold_affine.h"
#include "passes/fold_batchnorm.h"
#include "passes/fold_constants.h"

namespace dopt {

namespace {

// Enough for any chain a real model has (Conv -> Add -> BatchNormalization -> Mul ...): each
// round folds at least one node, and a chain of k foldable nodes needs at most k rounds.
constexpr int kMaxRounds = 16;

}  // namespace

Status PrepareForQuantization(Graph& graph, std::vector<PassReport>* reports, const PrepareOptions& options,
                              std::map<std::string, ChannelRescale>* rescaled) {
  if (rescaled) rescaled->clear();
  // Repeated until nothing changes: TensorFlow graphs give Conv -> Add(bias) ->
  // BatchNormalization, where the BatchNormalization only becomes foldable once fold_affine has
  // moved the Add into the Conv. Reports sum each pass's changes over the rounds.
  std::map<std::string, int> total;
  std::vector<std::string> order;
  // First every value computable from constants alone becomes an initializer (Constant nodes,
  // Identity-shared weights, Cast of float16 weights, DequantizeLinear of int8 ones ...), so the
  // passes below and the choice of quantized ops find weights, biases and BatchNormalization
  // parameters whatever produced them.
  {
    PassManager pm;
    pm.Add(std::make_unique<FoldConstantsPass>());
    std::vector<PassReport> r;
    DOPT_RETURN_IF_ERROR(pm.Run(graph, &r));
    for (const PassReport& p : r) {
      order.push_back(p.pass);
      total[p.pass] += p.changes;
    }
  }
  for (int round = 0; round < kMaxRounds; ++round) {
    PassManager pm;
    pm.Add(std::make_unique<FoldBatchNormPass>());
    pm.Add(std::make_unique<FoldAffinePass>());
    std::vector<PassReport> r;
    DOPT_RETURN_IF_ERROR(pm.Run(graph, &r));
    int changes = 0;
    for (const PassReport& p : r) {
      if (!total.count(p.pass)) order.push_back(p.pass);
      total[p.pass] += p.changes;
      changes += p.changes;
    }
    if (changes == 0) break;
  }
  if (options.equalization) {
    // After the folds, so BatchNormalization and per-channel Mul/Add are already in the weights.
    PassManager pm;
    auto pass = std::make_unique<EqualizePass>();
    EqualizePass* eq = pass.get();
    pm.Add(std::move(pass));
    std::vector<PassReport> r;
    DOPT_RETURN_IF_ERROR(pm.Run(graph, &r));
    order.push_back("equalize");
    total["equalize"] = r.empty() ? 0 : r[0].changes;
    order.push_back("equalize_channels");
    total["equalize_channels"] = eq->channels();
    if (rescaled) *rescaled = eq->rescaled();
  }
  if (reports)
    for (const std::string& p : order) reports->push_back({p, total[p]});
  return Status::Ok();
}

}  // namespace dopt
