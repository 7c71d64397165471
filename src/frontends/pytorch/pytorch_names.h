// How the PyTorch frontend and exporter talk through Graph.info.metadata, and the mapping of
// ONNX nodes back to the modules of the user's model.
#pragma once

#include <map>
#include <string>

#include "ir/graph.h"

namespace dopt {

// Metadata keys (prefix + name).
inline constexpr const char* kTorchModuleOfNode = "dopt.pytorch.module_of_node:";    // node -> module
// Conv node -> "<BatchNorm module>\t<its node>" when that BatchNorm alone reads the Conv's output.
inline constexpr const char* kTorchBatchNormAfter = "dopt.pytorch.batchnorm_after:";
inline constexpr const char* kTorchModelClass = "dopt.pytorch.model_class";
inline constexpr const char* kTorchInputShape = "dopt.pytorch.input_shape";
inline constexpr const char* kTorchWeight = "dopt.pytorch.weight";

// The module a node of the exported ONNX runs, from its parameter inputs (`<module>.weight`) or,
// for weights the exporter folded (a Linear's transposed weight `onnx::MatMul_12`), from the
// exporter's scope name (`/layer1/layer1.0/fc/MatMul` -> `layer1.0.fc`). "" when none.
std::string ModuleOfNode(const Graph& g, const Node& n, const std::map<std::string, std::string>& modules);

// The module whose forward() an exported node ran, from its scope name
// (`/encoder/self_attn/MatMul_1` -> `encoder.self_attn`, `/MatMul` -> ""; "" too for a name
// that is no scope name).
std::string ScopeModuleOfNode(const std::string& node_name);

// Renames every node that runs a module's weight after that module (a second node of the same
// module gets `<module>#2`) and records node -> module and Conv -> following BatchNorm in
// graph.info.metadata. Returns the number of renamed nodes.
int NameNodesAfterModules(Graph& g, const std::map<std::string, std::string>& modules);

// Metadata lookup; "" when absent.
std::string TorchMetadata(const Graph& g, const std::string& key);

}  // namespace dopt
