#include "passes/cut_graph.h"

#include <algorithm>

namespace dopt {

namespace {

int FindTensor(const Graph& g, const std::string& name) {
  int id = g.FindValue(name);
  if (id < 0 && name.size() > 2 && name.compare(name.size() - 2, 2, ":0") == 0) id = g.FindValue(name.substr(0, name.size() - 2));
  return id;
}

}  // namespace

StatusOr<int> CutGraphPass::Run(Graph& g) {
  int changes = 0;
  std::vector<bool> is_input(g.values.size(), false);
  for (int id : g.inputs) is_input[id] = true;
  std::vector<int> cut_points;
  for (const auto& [name, shape] : inputs_) {
    int id = FindTensor(g, name);
    if (id < 0) return NotFound("--input_shape names '" + name + "', which is not a tensor of the model");
    Value& v = g.value(id);
    if (v.initializer) return InvalidArgument("--input_shape names '" + name + "', which is a model constant");
    if (v.rank_known && v.shape.size() == shape.size()) {
      for (size_t d = 0; d < shape.size(); ++d)
        if (v.shape[d] >= 0 && v.shape[d] != shape[d]) {
          return InvalidArgument("--input_shape gives '" + name + "' the shape " + ShapeToString(shape) +
                                 ", the model's is " + ShapeToString(v.shape));
        }
    } else if (v.rank_known && is_input[id]) {
      return InvalidArgument("--input_shape gives '" + name + "' " + std::to_string(shape.size()) +
                             " dims, the model input has " + std::to_string(v.shape.size()));
    }
    if (!v.rank_known || v.shape != shape) {
      v.rank_known = true;
      v.shape = shape;
      v.dim_params.clear();
      v.dirty = true;
      ++changes;
    }
    if (!is_input[id]) {
      cut_points.push_back(id);
      g.inputs.push_back(id);
      is_input[id] = true;
      ++changes;
    }
  }
  if (!outputs_.empty()) {
    std::vector<int> outs;
    for (const std::string& name : outputs_) {
      int id = FindTensor(g, name);
      if (id < 0) return NotFound("--out_nodes names '" + name + "', which is not a tensor of the model");
      if (std::find(outs.begin(), outs.end(), id) == outs.end()) outs.push_back(id);
    }
    if (outs != g.outputs) {
      g.outputs = outs;
      ++changes;
    }
  }
  // Keep what the outputs need, walking back and stopping at graph inputs.
  std::vector<bool> needed(g.values.size(), false), keep(g.nodes.size(), false);
  std::vector<int> stack(g.outputs.begin(), g.outputs.end());
  for (int id : stack) needed[id] = true;
  while (!stack.empty()) {
    int id = stack.back();
    stack.pop_back();
    const Value& v = g.value(id);
    if (is_input[id] || v.producer < 0 || keep[v.producer]) continue;
    keep[v.producer] = true;
    const Node& p = g.nodes[v.producer];
    for (const std::vector<int>* list : {&p.inputs, &p.implicit_inputs})  // and what its sub-graphs read
      for (int in : *list)
        if (in >= 0 && !needed[in]) {
          needed[in] = true;
          stack.push_back(in);
        }
  }
  for (int id : cut_points) {
    int p = g.value(id).producer;
    if (p >= 0 && keep[p]) {
      return InvalidArgument("cannot cut the graph at '" + g.value(id).name + "': " + g.nodes[p].Describe() +
                             " that produces it is still needed for another of its outputs");
    }
  }
  std::vector<int> dead;
  for (int i = 0; i < (int)g.nodes.size(); ++i)
    if (!keep[i]) dead.push_back(i);
  if (!dead.empty()) {
    RemoveNodes(g, dead);
    changes += (int)dead.size();
  }
  // Graph inputs nothing reads any more (upstream of a cut) go, unless named in --input_shape.
  std::vector<bool> named(g.values.size(), false);
  for (const auto& kv : inputs_) {
    int id = FindTensor(g, kv.first);
    if (id >= 0) named[id] = true;
  }
  std::vector<int> ins;
  for (int id : g.inputs) {
    if (needed[id] || named[id]) {
      ins.push_back(id);
    } else {
      ++changes;
    }
  }
  g.inputs = ins;
  return changes;
}

}  // namespace dopt
