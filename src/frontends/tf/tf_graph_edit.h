// Small GraphDef editing helpers for the TF exporter: consumers, Identity look-through, attribute setters, and pruning of what edits left unused.
// Includes the generated protobuf header: only files in src/frontends/tf/ may include this one.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dopt/status.h"
#include "frontends/tf/tf_tensor_ref.h"
#include "ir/tensor.h"
#include "tf_graph.pb.h"

namespace dopt {

void SetTypeAttr(dopt_tf::NodeDef* n, const std::string& key, int tf_type);
void SetFloatAttr(dopt_tf::NodeDef* n, const std::string& key, float v);
void SetIntAttr(dopt_tf::NodeDef* n, const std::string& key, int64_t v);
void SetBoolAttr(dopt_tf::NodeDef* n, const std::string& key, bool v);
void SetStringAttr(dopt_tf::NodeDef* n, const std::string& key, const std::string& v);

class TfGraphEditor {
 public:
  explicit TfGraphEditor(dopt_tf::GraphDef* gd) : gd_(gd) {}

  dopt_tf::NodeDef* Find(const std::string& name);
  // A node name not used yet, built from `base`.
  std::string UniqueName(const std::string& base);
  // Appends a node named `name` (must be unique) of type `op`.
  dopt_tf::NodeDef* AddNode(const std::string& name, const std::string& op);
  // A Const node holding `t`, named uniquely after `base`; returns its name.
  StatusOr<std::string> AddConst(const std::string& base, const Tensor& t);
  // (node, input index) of every data input reading tensor (node, index); control inputs excluded.
  std::vector<std::pair<dopt_tf::NodeDef*, int>> Consumers(const std::string& node, int index);
  // Every data input that reads any output of `node` other than output 0, as "consumer (input)".
  std::vector<std::string> ReadersOfOtherOutputs(const std::string& node);
  // Whether `input` reads tensor `tensor` (canonical name, see TfTensorName), directly or
  // through a chain of Identity nodes.
  bool ReadsTensor(const std::string& input, const std::string& tensor);
  // Removes, transitively, side-effect-free nodes (Const, Identity, and the elementwise
  // arithmetic of decomposed BatchNorms) among `candidates` that no data input reads any more;
  // control inputs naming them are dropped with them. Returns how many were removed.
  int PruneUnused(const std::vector<std::string>& candidates);

 private:
  dopt_tf::GraphDef* gd_;
};

}  // namespace dopt
