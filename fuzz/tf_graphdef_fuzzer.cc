// The TensorFlow GraphDef loader through the TF frontend (op mapping, NCHW layout rewrite,
// constant folding, shape inference), twice: with the graph's own Placeholders and outputs,
// and cut at an inner tensor named "Mfcc" as the KWS graphs are quantized. A graph that loads
// must serialize back.
#include <string>

#include "frontends/tf/tf_frontend.h"
#include "fuzz_target.h"

DOPT_FUZZ_TARGET(tf_graphdef) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto g = dopt::LoadTfModelFromBytes(bytes, "fuzz.pb");
  if (g.ok()) DOPT_FUZZ_CHECK(dopt::SerializeTfGraphDef(*g).ok());
  dopt::TfLoadOptions cut;
  cut.inputs.push_back({"Mfcc", dopt::Shape{1, 49, 10}});
  (void)dopt::LoadTfModelFromBytes(bytes, "fuzz.pb", cut);
  return 0;
}
