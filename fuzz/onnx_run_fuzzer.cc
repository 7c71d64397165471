// The executor and every kernel, on what the ONNX loader accepts: a model that loads and whose
// inferred shapes are all known and small is run once on one thread, with inputs holding a
// fixed pattern of small integers (valid and invalid indices, zeros, negatives). A kernel must
// return an error or a result, never read or write out of bounds. (Output shapes are not
// compared with the model's: with pattern data instead of real data, an `axes` or `shape` input
// legitimately gives another shape than the model declares.)
#include <map>
#include <string>
#include <vector>

#include "common/run_limits.h"
#include "executor/executor.h"
#include "frontends/onnx/onnx_frontend.h"
#include "fuzz_target.h"

DOPT_FUZZ_TARGET(onnx_run) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  dopt::OnnxLoadOptions options;
  options.prepare = true;
  auto g = dopt::LoadOnnxModelFromBytes(bytes, "fuzz.onnx", "/nonexistent-dopt-fuzz", options);
  if (!g.ok() || g->nodes.size() > 64) return 0;
  // Bound the work: every value known, 2^16 elements in all (a Conv or MatMul over them stays
  // well inside libFuzzer's timeout).
  int64_t total = 0;
  for (const dopt::Value& v : g->values) {
    if (!v.rank_known || v.dtype == dopt::DType::kString || v.dtype == dopt::DType::kUndefined) return 0;
    for (int64_t d : v.shape)
      if (d < 0) return 0;
    const int64_t n = dopt::NumElements(v.shape);  // saturates at INT64_MAX for huge shapes
    if (n > (int64_t{1} << 16) - total) return 0;
    total += n;
  }
  std::map<std::string, dopt::Tensor> feeds, outputs;
  for (int id : g->inputs) {
    const dopt::Value& v = g->value(id);
    if (v.IsConstant()) continue;
    int64_t n = dopt::NumElements(v.shape);
    std::vector<float> pattern(n);
    for (int64_t i = 0; i < n; ++i) pattern[i] = (float)((i * 7) % 11 - 4);
    feeds[v.name] = dopt::Tensor::FromFloats(v.shape, pattern).CastTo(v.dtype);
  }
  dopt::ExecutorOptions eo;
  eo.num_threads = 1;
  // A Loop's body runs once per iteration: 256 of them keep a hostile trip count inside the
  // timeout (the default limit, 2^24, is for real models).
  dopt::SetLoopIterationLimit(256);
  auto ex = dopt::Executor::Create(*g, eo);
  if (!ex.ok()) return 0;
  (void)(*ex)->Run(feeds, &outputs);
  return 0;
}
