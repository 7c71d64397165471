#include "frontends/tf/tf_functions.h"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "frontends/tf/tf_graphdef.h"

namespace dopt {

namespace {

constexpr int kMaxCallDepth = 64;
constexpr size_t kMaxInlinedNodes = size_t(1) << 20;
// Bodies copied, in serialized bytes: 4x the library, at least 256 MiB (nested calls can
// multiply a small file's bodies; a real graph calls most functions once).
constexpr size_t kMinInlinedBytesLimit = size_t(256) << 20;

bool IsCallOp(const std::string& op) { return op == "PartitionedCall" || op == "StatefulPartitionedCall"; }

// The function a call node names: attr `f` of (Stateful)PartitionedCall, or the op itself.
std::string CalledFunction(const dopt_tf::NodeDef& n) {
  if (IsCallOp(n.op())) {
    auto it = n.attr().find("f");
    return it == n.attr().end() ? std::string() : it->second.func().name();
  }
  return n.op();
}

// Output offsets of ops with several output args ("N:arg:i" -> "N:offset(arg)+i").
const std::map<std::string, std::vector<std::string>>& MultiArgOps() {
  static const std::map<std::string, std::vector<std::string>> m = {
      {"FusedBatchNorm", {"y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"}},
      {"FusedBatchNormV2", {"y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"}},
      {"FusedBatchNormV3",
       {"y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2", "reserve_space_3"}},
      {"TopKV2", {"values", "indices"}},
      {"Unique", {"y", "idx"}},
      {"Switch", {"output_false", "output_true"}},
      {"QuantizeV2", {"output", "output_min", "output_max"}},
      {"NonMaxSuppressionV4", {"selected_indices", "valid_outputs"}},
      {"NonMaxSuppressionV5", {"selected_indices", "selected_scores", "valid_outputs"}},
  };
  return m;
}

class Inliner {
 public:
  explicit Inliner(dopt_tf::GraphDef* gd) : gd_(gd) {
    for (const auto& f : gd->library().function()) lib_.emplace(f.signature().name(), &f);
    max_bytes_ = std::max(kMinInlinedBytesLimit, 4 * gd->library().ByteSizeLong());
  }

  bool IsCall(const dopt_tf::NodeDef& n) const {
    if (IsCallOp(n.op())) return true;
    return lib_.count(n.op()) > 0;
  }

  StatusOr<TfInlineResult> Run() {
    TfInlineResult res;
    if (std::none_of(gd_->node().begin(), gd_->node().end(), [&](const dopt_tf::NodeDef& n) { return IsCall(n); }))
      return res;
    for (const auto& n : gd_->node()) names_.insert(n.name());
    std::vector<dopt_tf::NodeDef> out;
    out.reserve(gd_->node_size());
    for (auto& n : *gd_->mutable_node()) {
      if (!IsCall(n)) {
        out.push_back(std::move(n));
        continue;
      }
      // What the call will copy, counted before copying anything (memoized per function, so a
      // chain of functions each calling the next twice costs linear time to refuse).
      std::set<std::string> visiting;
      const Cost c = CostOf(CalledFunction(n), &visiting);
      planned_nodes_ = std::min(kSaturate, planned_nodes_ + c.nodes);
      planned_bytes_ = std::min(kSaturate, planned_bytes_ + c.bytes);
      if (planned_nodes_ > kMaxInlinedNodes || planned_bytes_ > max_bytes_) {
        return InvalidArgument(DescribeTfNode(n) + ": the graph has over " + std::to_string(kMaxInlinedNodes) +
                               " nodes or " + std::to_string(max_bytes_ >> 20) +
                               " MiB of function bodies once its calls are inlined");
      }
      std::vector<dopt_tf::NodeDef> body;
      std::map<std::string, std::string> origin;
      Status st = Expand(n, {}, &body, &origin);
      if (!st.ok()) {
        if (too_big_) return st;
        res.failed[n.name()] = st.message();
        out.push_back(std::move(n));
        continue;
      }
      ++res.calls_inlined;
      for (auto& b : body) out.push_back(std::move(b));
      res.origin.insert(origin.begin(), origin.end());
    }
    gd_->clear_node();  // the nodes were moved out: put them back, calls inlined
    for (auto& n : out) *gd_->add_node() = std::move(n);
    return res;
  }

 private:
  std::string Unique(const std::string& base) {
    std::string s = base;
    for (int i = 1; names_.count(s); ++i) s = base + "_" + std::to_string(i);
    names_.insert(s);
    return s;
  }

  struct Cost {
    size_t nodes = 0, bytes = 0;
  };
  static constexpr size_t kSaturate = size_t(1) << 62;
  // Nodes and serialized body bytes one call of `fname` copies, nested calls included (a
  // missing function or a recursive edge counts 0: Expand reports those).
  Cost CostOf(const std::string& fname, std::set<std::string>* visiting) {
    auto m = costs_.find(fname);
    if (m != costs_.end()) return m->second;
    auto f = lib_.find(fname);
    if (f == lib_.end() || visiting->count(fname)) return {};
    visiting->insert(fname);
    Cost c{(size_t)f->second->node_def_size() + (size_t)f->second->signature().input_arg_size() + 1,
           f->second->ByteSizeLong()};
    for (const auto& n : f->second->node_def()) {
      if (!IsCall(n)) continue;
      const Cost sub = CostOf(CalledFunction(n), visiting);
      c.nodes = std::min(kSaturate, c.nodes + sub.nodes);
      c.bytes = std::min(kSaturate, c.bytes + sub.bytes);
    }
    visiting->erase(fname);
    costs_[fname] = c;
    return c;
  }

  // Number of output tensors of output arg `a` of a function signature (single tensors only).
  static Status CheckPlainArgs(const dopt_tf::FunctionDef& f, const std::string& what) {
    for (const auto* args : {&f.signature().input_arg(), &f.signature().output_arg()})
      for (const auto& a : *args)
        if (!a.number_attr().empty() || !a.type_list_attr().empty())
          return Unimplemented(what + ": argument '" + a.name() + "' is a list; list arguments are not supported");
    return Status::Ok();
  }

  // Offset of output arg `arg` of body node `n` (its own function signature for a direct call).
  StatusOr<int> ArgOffset(const dopt_tf::NodeDef& n, const std::string& arg) const {
    auto m = MultiArgOps().find(n.op());
    if (m != MultiArgOps().end()) {
      auto it = std::find(m->second.begin(), m->second.end(), arg);
      if (it == m->second.end()) return InvalidArgument("op " + n.op() + " has no output '" + arg + "'");
      return (int)(it - m->second.begin());
    }
    auto f = lib_.find(n.op());
    if (f != lib_.end()) {
      const auto& outs = f->second->signature().output_arg();
      for (int i = 0; i < outs.size(); ++i)
        if (outs[i].name() == arg) return i;
      return InvalidArgument("function '" + n.op() + "' has no output '" + arg + "'");
    }
    return 0;  // one output arg (a single tensor or a list)
  }

  // Body tensor reference -> GraphDef tensor name. `args`: arg name -> node; `names`: body
  // node -> new name; `body`: body node by name.
  StatusOr<std::string> Translate(const std::string& ref, const std::map<std::string, std::string>& args,
                                  const std::map<std::string, std::string>& names,
                                  const std::map<std::string, const dopt_tf::NodeDef*>& body) const {
    const size_t c1 = ref.find(':');
    if (c1 == std::string::npos) {
      auto a = args.find(ref);
      if (a != args.end()) return a->second;
      auto nn = names.find(ref);  // a body node by plain name: its output 0
      if (nn != names.end()) return nn->second;
      return NotFound("input '" + ref + "' is neither an argument nor a node of the function");
    }
    const std::string node = ref.substr(0, c1), rest = ref.substr(c1 + 1);
    const size_t c2 = rest.find(':');
    auto digits = [](const std::string& s) {
      return !s.empty() && s.size() < 9 && std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    };
    if (c2 == std::string::npos) {  // "arg:0" / "node:k"
      if (!digits(rest)) return InvalidArgument("input '" + ref + "' is not a tensor reference");
      const int k = std::stoi(rest);
      auto a = args.find(node);
      if (a != args.end()) {
        if (k != 0) return InvalidArgument("input '" + ref + "': argument '" + node + "' is a single tensor");
        return a->second;
      }
      auto nn = names.find(node);
      if (nn == names.end()) return NotFound("input '" + ref + "' names no node of the function");
      return k == 0 ? nn->second : nn->second + ":" + rest;
    }
    const std::string arg = rest.substr(0, c2), idx = rest.substr(c2 + 1);
    if (!digits(idx)) return InvalidArgument("input '" + ref + "' is not a tensor reference");
    auto nn = names.find(node);
    if (nn == names.end()) return NotFound("input '" + ref + "' names no node of the function");
    DOPT_ASSIGN_OR_RETURN(int off, ArgOffset(*body.at(node), arg));
    const int k = off + std::stoi(idx);
    return k == 0 ? nn->second : nn->second + ":" + std::to_string(k);
  }

  // Inlines call `c` (name and inputs already in GraphDef form) into `out`.
  Status Expand(const dopt_tf::NodeDef& c, std::vector<std::string> stack, std::vector<dopt_tf::NodeDef>* out,
                std::map<std::string, std::string>* origin) {
    const std::string what = DescribeTfNode(c);
    const std::string fname = CalledFunction(c);
    if (fname.empty()) return InvalidArgument(what + ": has no function attribute 'f'");
    auto fit = lib_.find(fname);
    if (fit == lib_.end()) {
      return NotFound(what + ": calls function '" + fname + "', which is not in the graph's function library");
    }
    if (std::find(stack.begin(), stack.end(), fname) != stack.end()) {
      std::string chain;
      for (const auto& s : stack) chain += "'" + s + "' -> ";
      return InvalidArgument(what + ": function '" + fname + "' calls itself (" + chain + "'" + fname +
                             "'); recursive functions cannot be inlined");
    }
    if ((int)stack.size() >= kMaxCallDepth) {
      return InvalidArgument(what + ": function calls nest deeper than " + std::to_string(kMaxCallDepth));
    }
    stack.push_back(fname);
    const dopt_tf::FunctionDef& f = *fit->second;
    const std::string fwhat = what + ": function '" + fname + "'";
    DOPT_RETURN_IF_ERROR(CheckPlainArgs(f, fwhat));
    std::vector<std::string> data;
    for (const auto& in : c.input())
      if (in.empty() || in[0] != '^') data.push_back(in);
    const auto& in_args = f.signature().input_arg();
    if ((int)data.size() != in_args.size()) {
      return InvalidArgument(fwhat + " takes " + std::to_string(in_args.size()) + " inputs, the call gives " +
                             std::to_string(data.size()));
    }
    total_ += f.node_def_size() + in_args.size() + 1;
    auto sz = sizes_.find(fname);
    if (sz == sizes_.end()) sz = sizes_.emplace(fname, f.ByteSizeLong()).first;
    bytes_ += sz->second;
    if (total_ > kMaxInlinedNodes || bytes_ > max_bytes_) {
      too_big_ = true;
      return InvalidArgument(what + ": the graph has over " + std::to_string(kMaxInlinedNodes) + " nodes or " +
                             std::to_string(max_bytes_ >> 20) + " MiB of function bodies once its calls are inlined");
    }
    const std::string prefix = c.name() + "/";
    const std::string from = "function '" + fname + "' called by node '" + c.name() + "'";
    auto tin = c.attr().find("Tin");
    std::map<std::string, std::string> args;
    for (int i = 0; i < in_args.size(); ++i) {
      const auto& a = in_args[i];
      dopt_tf::NodeDef id;
      id.set_name(Unique(prefix + a.name()));
      id.set_op("Identity");
      id.add_input(data[i]);
      int type = a.type();
      if (tin != c.attr().end() && i < tin->second.list().type_size()) type = tin->second.list().type(i);
      if (!a.type_attr().empty()) {
        auto ta = c.attr().find(a.type_attr());
        if (ta != c.attr().end()) type = ta->second.type();
      }
      (*id.mutable_attr())["T"].set_type((dopt_tf::DataType)type);
      args[a.name()] = id.name();
      (*origin)[id.name()] = from;
      out->push_back(std::move(id));
    }
    std::map<std::string, std::string> names;
    std::map<std::string, const dopt_tf::NodeDef*> body;
    for (const auto& n : f.node_def()) {
      if (n.name().empty() || !body.emplace(n.name(), &n).second) {
        return InvalidArgument(fwhat + ": two nodes are named '" + n.name() + "'");
      }
      names[n.name()] = Unique(prefix + n.name());
    }
    for (const auto& n : f.node_def()) {
      dopt_tf::NodeDef m = n;
      m.set_name(names[n.name()]);
      m.clear_input();
      for (const auto& in : n.input()) {
        if (!in.empty() && in[0] == '^') continue;  // control edges: a frozen graph needs none
        auto t = Translate(in, args, names, body);
        if (!t.ok()) return t.status().WithContext(fwhat + ": " + DescribeTfNode(n));
        m.add_input(*t);
      }
      // Attribute placeholders refer to the function's instantiation attrs (the call's).
      for (auto& [k, v] : *m.mutable_attr()) {
        if (v.value_case() != dopt_tf::AttrValue::kPlaceholder) continue;
        auto ca = c.attr().find(v.placeholder());
        if (ca != c.attr().end()) v = ca->second;
      }
      if (IsCall(m)) {
        DOPT_RETURN_IF_ERROR(Expand(m, stack, out, origin));
        continue;
      }
      (*origin)[m.name()] = from;
      out->push_back(std::move(m));
    }
    // The call's outputs: Identity / IdentityN named like the call.
    const auto& outs = f.signature().output_arg();
    dopt_tf::NodeDef r;
    r.set_name(c.name());
    r.set_op(outs.size() == 1 ? "Identity" : "IdentityN");
    r.set_device(c.device());
    auto tout = c.attr().find("Tout");
    dopt_tf::AttrValue types;
    for (int i = 0; i < outs.size(); ++i) {
      auto ret = f.ret().find(outs[i].name());
      if (ret == f.ret().end()) return InvalidArgument(fwhat + ": output '" + outs[i].name() + "' has no ret value");
      auto t = Translate(ret->second, args, names, body);
      if (!t.ok()) return t.status().WithContext(fwhat + ": output '" + outs[i].name() + "'");
      r.add_input(*t);
      int type = outs[i].type();
      if (tout != c.attr().end() && i < tout->second.list().type_size()) type = tout->second.list().type(i);
      if (!outs[i].type_attr().empty()) {
        auto ta = c.attr().find(outs[i].type_attr());
        if (ta != c.attr().end()) type = ta->second.type();
      }
      types.mutable_list()->add_type((dopt_tf::DataType)type);
    }
    if (outs.size() == 1) {
      (*r.mutable_attr())["T"].set_type(types.list().type(0));
    } else {
      (*r.mutable_attr())["T"] = types;
    }
    out->push_back(std::move(r));
    return Status::Ok();
  }

  dopt_tf::GraphDef* gd_;
  std::unordered_map<std::string, const dopt_tf::FunctionDef*> lib_;
  std::unordered_set<std::string> names_;
  std::unordered_map<std::string, size_t> sizes_;
  std::unordered_map<std::string, Cost> costs_;
  size_t total_ = 0, bytes_ = 0, max_bytes_ = 0, planned_nodes_ = 0, planned_bytes_ = 0;
  bool too_big_ = false;
};

}  // namespace

StatusOr<TfInlineResult> InlineTfFunctionCalls(dopt_tf::GraphDef* gd) { return Inliner(gd).Run(); }

}  // namespace dopt
