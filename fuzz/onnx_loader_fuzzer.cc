// The ONNX loader through graph building, op resolution, sorting and shape inference
// (LoadOnnxModelFromBytes with prepare = true). External data resolves against a folder that
// does not exist, so no file outside the input is read.
#include <string>

#include "frontends/onnx/onnx_frontend.h"
#include "fuzz_target.h"

DOPT_FUZZ_TARGET(onnx_loader) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  dopt::OnnxLoadOptions options;
  options.prepare = true;
  auto g = dopt::LoadOnnxModelFromBytes(bytes, "fuzz.onnx", "/nonexistent-dopt-fuzz", options);
  if (g.ok()) (void)dopt::SerializeOnnxModel(*g);
  return 0;
}
