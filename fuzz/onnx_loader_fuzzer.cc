// The ONNX loader through graph building, op resolution, sorting and shape inference
// (LoadOnnxModelFromBytes with prepare = true). External data resolves against a folder that
// does not exist, so no file outside the input is read.
#include <cstddef>
#include <cstdint>
#include <string>

#include "frontends/onnx/onnx_frontend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  dopt::OnnxLoadOptions options;
  options.prepare = true;
  auto g = dopt::LoadOnnxModelFromBytes(bytes, "fuzz.onnx", "/nonexistent-dopt-fuzz", options);
  if (g.ok()) (void)dopt::SerializeOnnxModel(*g);
  return 0;
}
