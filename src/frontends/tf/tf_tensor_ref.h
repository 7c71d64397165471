// TensorFlow tensor references as NodeDef inputs write them: "N" (output 0 of node N), "N:k",
// "^N" (a control edge). Plain strings: no protobuf types here.
#pragma once

#include <string>

namespace dopt {

struct TfTensorRef {
  std::string node;
  int index = 0;
  bool control = false;  // "^node"
};

// Parses a NodeDef input string ("N", "N:k", "^N"). Never throws: an index past INT_MAX
// saturates at INT_MAX.
TfTensorRef ParseTfInput(const std::string& s);
// The canonical name of output `index` of `node`: "N" for 0, "N:k" otherwise (dopt's IR names).
std::string TfTensorName(const std::string& node, int index);

}  // namespace dopt
