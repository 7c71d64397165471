#include "frontends/tf/tf_frontend.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "common/file_util.h"
#include "frontends/tf/tf_builder.h"
#include "frontends/tf/tf_functions.h"
#include "ops/shape_inference.h"
#include "passes/cut_graph.h"

namespace dopt {

namespace {

std::string Normalize(const std::string& in) {
  if (in.size() > 2 && in.compare(in.size() - 2, 2, ":0") == 0) return in.substr(0, in.size() - 2);
  return in;
}
// "N:k" -> "N" (the producing node), "^N" -> "N".
std::string NodeOf(const std::string& in) {
  std::string s = in.empty() || in[0] != '^' ? in : in.substr(1);
  size_t c = s.rfind(':');
  if (c != std::string::npos && c + 1 < s.size() &&
      std::all_of(s.begin() + c + 1, s.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return s.substr(0, c);
  }
  return s;
}
bool IsControl(const std::string& in) { return !in.empty() && in[0] == '^'; }

const std::set<std::string>& NotOutputs() {
  static const std::set<std::string> s = {"NoOp", "Const", "Placeholder", "PlaceholderWithDefault", "Assert",
                                          "SaveV2", "RestoreV2", "VarHandleOp", "VariableV2"};
  return s;
}

StatusOr<DType> AttrDType(const dopt_tf::NodeDef& n, const char* key, DType def) {
  auto it = n.attr().find(key);
  if (it == n.attr().end()) return def;
  return FromTfType(it->second.type());
}

Status Build(const dopt_tf::GraphDef& gd, const std::string& name, const TfLoadOptions& opt, const TfInlineResult& inl,
             Graph* g) {
  std::unordered_map<std::string, int> index;
  for (int i = 0; i < gd.node_size(); ++i) {
    const auto& n = gd.node(i);
    if (n.name().empty()) return InvalidArgument("node " + std::to_string(i) + " has no name");
    // A name must read back as itself when used as an input ("x:1" would be output 1 of x).
    if (NodeOf(n.name()) != n.name() || IsControl(n.name())) {
      return InvalidArgument("node " + std::to_string(i) + " has the name '" + n.name() +
                             "', which is not a valid TensorFlow node name (':<digits>' suffix or leading '^')");
    }
    if (!index.emplace(n.name(), i).second) return InvalidArgument("two nodes are named '" + n.name() + "'");
  }
  // Cut points.
  std::map<std::string, Shape> cut;
  for (const auto& [t, shape] : opt.inputs) {
    std::string tn = Normalize(t);
    if (!index.count(NodeOf(tn))) return NotFound("--input_shape names '" + t + "', which is not a tensor of the model");
    cut[tn] = shape;
  }
  // Outputs.
  std::vector<std::string> outputs;
  if (!opt.outputs.empty()) {
    for (const std::string& o : opt.outputs) {
      if (!index.count(NodeOf(o))) return NotFound("--out_nodes names '" + o + "', which is not a tensor of the model");
      outputs.push_back(Normalize(o));
    }
  } else {
    // Nodes only control edges use (asserts, savers) are not outputs either.
    std::vector<bool> consumed(gd.node_size(), false);
    for (const auto& n : gd.node())
      for (const std::string& in : n.input()) {
        auto it = index.find(NodeOf(in));
        if (it != index.end()) consumed[it->second] = true;
      }
    for (int i = 0; i < gd.node_size(); ++i)
      if (!consumed[i] && !NotOutputs().count(gd.node(i).op())) outputs.push_back(gd.node(i).name());
    if (outputs.empty()) return InvalidArgument("the graph has no outputs (every tensor is consumed)");
  }
  // Nodes the outputs need, in dependency order (iterative DFS; a cycle is an error).
  std::vector<int> state(gd.node_size(), 0), order;
  std::vector<std::pair<int, int>> stack;
  for (const std::string& o : outputs) {
    int root = index.at(NodeOf(o));
    if (cut.count(o) && gd.node(root).op() != "Placeholder") continue;
    if (state[root]) continue;
    stack.push_back({root, 0});
    state[root] = 1;
    while (!stack.empty()) {
      auto& [ni, next] = stack.back();
      const auto& n = gd.node(ni);
      bool pushed = false;
      while (next < n.input_size()) {
        const std::string& in = n.input(next++);
        if (IsControl(in)) continue;
        auto it = index.find(NodeOf(in));
        if (it == index.end()) return NotFound(DescribeTfNode(n) + ": input '" + in + "' is not a node of the graph");
        if (cut.count(Normalize(in)) && gd.node(it->second).op() != "Placeholder") continue;
        if (state[it->second] == 1) return InvalidArgument(DescribeTfNode(n) + ": the graph has a cycle through it");
        if (state[it->second] == 0) {
          state[it->second] = 1;
          stack.push_back({it->second, 0});
          pushed = true;
          break;
        }
      }
      if (pushed) continue;
      state[ni] = 2;
      order.push_back(ni);
      stack.pop_back();
    }
  }
  // Unsupported ops among them: all reported at once.
  // A function call the outputs need that could not be inlined: its own error.
  for (int ni : order) {
    auto f = inl.failed.find(gd.node(ni).name());
    if (f != inl.failed.end()) return InvalidArgument(f->second);
  }
  std::vector<std::string> bad;
  for (int ni : order) {
    const auto& n = gd.node(ni);
    if (n.op() == "Placeholder" || FindTfOp(n.op())) continue;
    auto o = inl.origin.find(n.name());
    bad.push_back(DescribeTfNode(n) + (o == inl.origin.end() ? "" : " (in " + o->second + ")"));
  }
  if (!bad.empty()) {
    std::string m;
    for (size_t i = 0; i < bad.size() && i < 10; ++i) m += (i ? ", " : "") + bad[i];
    return Unimplemented("unsupported TensorFlow op" + std::string(bad.size() > 1 ? "s" : "") + " in " + m +
                         (bad.size() > 10 ? ", ..." : "") +
                         " (cut the graph after them with --input_shape, or see docs/architecture.md for the supported ops)");
  }
  TfBuilder b(g);
  for (const auto& [t, shape] : cut) {  // inner tensors as graph inputs
    const auto& n = gd.node(index.at(NodeOf(t)));
    if (n.op() == "Placeholder") continue;
    Value v;
    v.name = t;
    DOPT_ASSIGN_OR_RETURN(v.dtype, AttrDType(n, "T", DType::kFloat32));
    v.rank_known = !shape.empty();
    v.shape = shape;
    int id = g->AddValue(std::move(v));
    g->inputs.push_back(id);
    b.SetTensor(t, TfTensor{id, -1});
  }
  for (int ni : order) {
    const auto& n = gd.node(ni);
    if (n.op() == "Placeholder") {
      Value v;
      v.name = n.name();
      DOPT_ASSIGN_OR_RETURN(v.dtype, AttrDType(n, "dtype", DType::kFloat32));
      if (v.dtype == DType::kString) return Unimplemented(DescribeTfNode(n) + ": string inputs are not supported (cut the graph after it with --input_shape)");
      if (auto it = n.attr().find("shape"); it != n.attr().end() && !it->second.shape().unknown_rank()) {
        v.rank_known = true;
        for (const auto& d : it->second.shape().dim()) v.shape.push_back(d.size() < 0 ? -1 : d.size());
        if (v.shape.size() > 16) return InvalidArgument(DescribeTfNode(n) + ": rank over 16");
      }
      auto c = cut.find(n.name());
      if (c != cut.end() && !c->second.empty()) {
        bool ok = !v.rank_known || v.shape.size() == c->second.size();
        for (size_t d = 0; ok && v.rank_known && d < v.shape.size(); ++d) ok = v.shape[d] < 0 || v.shape[d] == c->second[d];
        if (!ok) {
          return InvalidArgument("input '" + n.name() + "' is given the shape " + ShapeToString(c->second) +
                                 ", the model's is " + ShapeToString(v.shape));
        }
        v.rank_known = true;
        v.shape = c->second;
      }
      if (v.rank_known) {
        Shape known;
        for (int64_t d : v.shape) known.push_back(d < 0 ? 1 : d);
        auto ne = CheckedNumElements(known, int64_t(1) << 40);
        if (!ne.ok()) return ne.status().WithContext(DescribeTfNode(n));
      }
      int id = g->AddValue(std::move(v));
      g->inputs.push_back(id);
      b.SetTensor(n.name(), TfTensor{id, -1});
      continue;
    }
    Status st = FindTfOp(n.op())(b, n);
    if (st.ok()) st = b.InferNew();
    if (!st.ok()) {
      const std::string d = DescribeTfNode(n);
      return st.message().rfind(d, 0) == 0 ? st : st.WithContext(d);
    }
  }
  for (const std::string& o : outputs) {
    int id = g->FindValue(o);
    if (id < 0) return NotFound("output '" + o + "' is not a tensor the converted graph has");
    if (std::find(g->outputs.begin(), g->outputs.end(), id) == g->outputs.end()) g->outputs.push_back(id);
  }
  return Status::Ok();
}

// A copy of `g` without the values nothing uses any more (the TF-layout twins of NCHW
// results that nothing reads, the TF-layout weights behind converted ones).
Graph Compact(Graph& g) {
  std::vector<bool> used(g.values.size(), false);
  for (int id : g.inputs) used[id] = true;
  for (int id : g.outputs) used[id] = true;
  for (const Node& n : g.nodes) {
    for (int id : n.inputs) if (id >= 0) used[id] = true;
    for (int id : n.outputs) if (id >= 0) used[id] = true;
  }
  Graph out;
  out.name = g.name;
  out.info = g.info;
  std::vector<int> map(g.values.size(), -1);
  for (size_t i = 0; i < g.values.size(); ++i) {
    if (!used[i]) continue;
    Value v = std::move(g.values[i]);
    v.producer = -1;
    map[i] = out.AddValue(std::move(v));
  }
  auto remap = [&](std::vector<int>& ids) {
    for (int& id : ids) id = id >= 0 ? map[id] : -1;
  };
  for (Node& n : g.nodes) {
    remap(n.inputs);
    remap(n.outputs);
    out.AddNode(std::move(n));
  }
  out.inputs = g.inputs;
  out.outputs = g.outputs;
  remap(out.inputs);
  remap(out.outputs);
  return out;
}

}  // namespace

std::pair<int64_t, int64_t> TfSamePadding(int64_t in, int64_t k, int64_t stride, int64_t dilation) {
  return TfSamePads(in, k, stride, dilation);
}

StatusOr<Graph> LoadTfModelFromBytes(const std::string& bytes, const std::string& name, const TfLoadOptions& options) {
  DOPT_ASSIGN_OR_RETURN(dopt_tf::GraphDef gd, ParseGraphDef(bytes, name));
  // Function calls become plain nodes; the flat GraphDef is then the source the writer edits.
  auto inl = InlineTfFunctionCalls(&gd);
  if (!inl.ok()) return inl.status().WithContext(name);
  Graph g;
  g.name = name;
  g.info.format = "tf";
  g.info.path = name;
  g.info.producer_name = "tensorflow";
  g.info.producer_version = std::to_string(gd.versions().producer());
  if (inl->calls_inlined > 0) {
    auto flat = SerializeGraphDef(gd);
    if (!flat.ok()) return flat.status().WithContext(name);
    g.info.source_bytes = std::make_shared<const std::string>(std::move(*flat));
  } else {
    g.info.source_bytes = std::make_shared<const std::string>(bytes);
  }
  DOPT_RETURN_IF_ERROR(Build(gd, name, options, *inl, &g).WithContext(name));
  // Drop what no output needs (unused layout transposes, converted weights' sources).
  CutGraphPass dce({}, {});
  auto changed = dce.Run(g);
  if (!changed.ok()) return changed.status().WithContext(name);
  g = Compact(g);
  if (options.prepare) {
    for (Value& v : g.values) v.folded.reset();
    DOPT_RETURN_IF_ERROR(PrepareGraph(g).WithContext(name));
  }
  return g;
}

StatusOr<Graph> LoadTfModel(const std::string& path, const TfLoadOptions& options) {
  DOPT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  return LoadTfModelFromBytes(bytes, path, options);
}

StatusOr<std::string> SerializeTfGraphDef(const Graph& graph) {
  if (graph.info.format != "tf" || !graph.info.source_bytes) {
    return InvalidArgument("the graph was not loaded from a TensorFlow GraphDef");
  }
  return ReserializeTfGraphDef(*graph.info.source_bytes, graph.info.path);
}

StatusOr<std::string> ReserializeTfGraphDef(const std::string& bytes, const std::string& name) {
  DOPT_ASSIGN_OR_RETURN(dopt_tf::GraphDef gd, ParseGraphDef(bytes, name));
  auto out = SerializeGraphDef(gd);
  if (!out.ok()) return out.status().WithContext(name);
  return out;
}

Status SaveTfGraphDef(const Graph& graph, const std::string& path) {
  if (SameFile(graph.info.path, path)) return InvalidArgument(path + ": refusing to overwrite the input model");
  DOPT_ASSIGN_OR_RETURN(std::string bytes, SerializeTfGraphDef(graph));
  return WriteFileAtomic(path, bytes);
}

}  // namespace dopt
