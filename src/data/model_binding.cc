#include "data/model_binding.h"

#include <sys/stat.h>

#include <map>
#include <set>

namespace dopt {

ModelNames ModelNamesFromGraph(const Graph& g) {
  ModelNames m;
  for (int id : g.inputs) {
    const Value& v = g.value(id);
    m.inputs.push_back({v.name, v.rank_known, v.shape});
  }
  for (const Value& v : g.values) {
    if (v.name.empty()) continue;
    m.value_names.push_back(v.name);
    if (v.initializer) m.excludable.push_back(v.name);
  }
  for (const Node& n : g.nodes) {
    if (!n.name.empty()) m.excludable.push_back(n.name);
  }
  return m;
}

StatusOr<DataLayout> ParseInputFormat(const std::string& s) {
  if (s == "NCHW" || s.empty()) return DataLayout::kNCHW;
  if (s == "NHWC") return DataLayout::kNHWC;
  return InvalidArgument("--input_format '" + s + "' is not NCHW or NHWC");
}

int64_t ChannelsOf(const Shape& shape, DataLayout layout) {
  return layout == DataLayout::kNHWC ? shape[3] : shape[1];
}

namespace {
std::vector<std::string> InputNames(const ModelNames& m) {
  std::vector<std::string> v;
  for (const auto& i : m.inputs) v.push_back(i.name);
  return v;
}
std::string ModelShapeString(const ModelInputInfo& in) {
  return in.rank_known ? ShapeToString(in.shape) : std::string("(unknown rank)");
}
bool Exists(const std::string& p, bool* is_dir) {
  struct stat st;
  if (stat(p.c_str(), &st) != 0) return false;
  *is_dir = S_ISDIR(st.st_mode);
  return true;
}
}  // namespace

StatusOr<std::vector<InputShapeEntry>> MatchInputShapes(const std::vector<InputShapeEntry>& given,
                                                        const ModelNames& model) {
  std::map<std::string, const ModelInputInfo*> by_name;
  for (const auto& in : model.inputs) by_name[in.name] = &in;
  std::set<std::string> values(model.value_names.begin(), model.value_names.end());
  bool any_cut = false;
  for (const auto& e : given) {
    auto it = by_name.find(e.name);
    if (it == by_name.end()) {
      if (values.count(e.name)) {
        any_cut = true;  // an inner tensor: the graph is cut there, its shape is the user's word
        continue;
      }
      return InvalidArgument("--input_shape names '" + e.name + "', which is not an input of the model; its inputs are " +
                             QuotedList(InputNames(model)));
    }
    const ModelInputInfo& in = *it->second;
    if (!in.rank_known) continue;
    if (in.shape.size() != e.dims.size()) {
      return InvalidArgument("--input_shape gives input '" + e.name + "' " + std::to_string(e.dims.size()) +
                             " dims " + ShapeToString(e.dims) + ", the model's input has " +
                             std::to_string(in.shape.size()) + ": " + ModelShapeString(in));
    }
    for (size_t d = 0; d < e.dims.size(); ++d) {
      if (in.shape[d] >= 0 && in.shape[d] != e.dims[d]) {
        return InvalidArgument("--input_shape gives input '" + e.name + "' shape " + ShapeToString(e.dims) +
                               ", but the model fixes dim " + std::to_string(d) + " to " + std::to_string(in.shape[d]) +
                               ": " + ModelShapeString(in));
      }
    }
  }
  if (!any_cut) {
    std::vector<std::string> missing;
    std::set<std::string> named;
    for (const auto& e : given) named.insert(e.name);
    for (const auto& in : model.inputs) if (!named.count(in.name)) missing.push_back(in.name);
    if (!missing.empty()) {
      return InvalidArgument("--input_shape has no entry for model input(s) " + QuotedList(missing) +
                             "; the model's inputs are " + QuotedList(InputNames(model)));
    }
  }
  return given;
}

StatusOr<std::vector<InputShapeEntry>> ShapesFromModel(const ModelNames& model) {
  std::vector<InputShapeEntry> out;
  if (model.inputs.empty()) return InvalidArgument("the model has no inputs to calibrate");
  for (const auto& in : model.inputs) {
    if (!in.rank_known) {
      return InvalidArgument("the shape of model input '" + in.name + "' is unknown; give it with --input_shape");
    }
    InputShapeEntry e{in.name, in.shape};
    for (size_t d = 0; d < e.dims.size(); ++d) {
      if (e.dims[d] < 0) {
        if (d == 0) {
          e.dims[d] = 1;
        } else {
          return InvalidArgument("model input '" + in.name + "' has shape " + ModelShapeString(in) +
                                 " with unknown dim " + std::to_string(d) + "; give it with --input_shape");
        }
      }
    }
    out.push_back(e);
  }
  return out;
}

Status CheckOutNodes(const std::vector<std::string>& nodes, const ModelNames& model) {
  std::set<std::string> values(model.value_names.begin(), model.value_names.end());
  for (const auto& n : nodes) {
    if (values.count(n)) continue;
    if (n.size() > 2 && n.compare(n.size() - 2, 2, ":0") == 0 && values.count(n.substr(0, n.size() - 2))) continue;
    return NotFound("--out_nodes names '" + n + "', which is not in the model; closest: " +
                    QuotedList(ClosestNames(n, model.value_names)));
  }
  return Status::Ok();
}

Status CheckExcludeOps(const std::vector<std::string>& names, const ModelNames& model) {
  std::set<std::string> ok(model.excludable.begin(), model.excludable.end());
  for (const auto& n : names) {
    if (!ok.count(n)) {
      return NotFound("exclude_op '" + n + "' is not a weight or node of the model; closest: " +
                      QuotedList(ClosestNames(n, model.excludable)));
    }
  }
  return Status::Ok();
}

StatusOr<CalibRequest> ResolveCalibRequest(const CalibConfig& config, const CalibFlags& flags,
                                           const ModelNames& model) {
  CalibRequest req;
  req.config = config;
  DOPT_ASSIGN_OR_RETURN(req.layout, ParseInputFormat(flags.input_format));
  std::vector<InputShapeEntry> shapes;
  if (TrimSpaces(flags.input_shape).empty()) {
    DOPT_ASSIGN_OR_RETURN(shapes, ShapesFromModel(model));
  } else {
    DOPT_ASSIGN_OR_RETURN(auto given, ParseInputShape(flags.input_shape));
    DOPT_ASSIGN_OR_RETURN(shapes, MatchInputShapes(given, model));
  }
  if (config.inputs.size() != shapes.size()) {
    return InvalidArgument(config.config_path + " has " + std::to_string(config.inputs.size()) +
                           " preprocess_parameter block(s), but there are " + std::to_string(shapes.size()) +
                           " input(s) to calibrate (" + QuotedList([&] {
                             std::vector<std::string> v;
                             for (auto& s : shapes) v.push_back(s.name);
                             return v;
                           }()) + "); give one block per input, in --input_shape order");
  }
  std::set<std::string> model_inputs;
  for (const auto& in : model.inputs) model_inputs.insert(in.name);
  for (size_t i = 0; i < shapes.size(); ++i) {
    CalibInput ci;
    ci.name = shapes[i].name;
    ci.shape = shapes[i].dims;
    ci.cut_point = !model_inputs.count(ci.name);
    ci.data = config.inputs[i];
    std::string who = "input '" + ci.name + "' (preprocess_parameter #" + std::to_string(i + 1) + ")";
    bool is_dir = false;
    if (!Exists(ci.data.resolved_path, &is_dir)) {
      return NotFound(who + ": input_file_path " + ci.data.resolved_path + " does not exist");
    }
    if (ci.data.input_type == CalibInputType::kImage) {
      if (!is_dir) return InvalidArgument(who + ": IMAGE input_file_path " + ci.data.resolved_path + " is not a folder");
      if (ci.shape.size() != 4) {
        return InvalidArgument(who + ": IMAGE data needs a 4-D input (n,c,h,w or n,h,w,c), the input shape is " +
                               ShapeToString(ci.shape));
      }
      int64_t c = ChannelsOf(ci.shape, req.layout);
      if (c != 1 && c != 3) {
        return InvalidArgument(who + ": IMAGE data needs 1 or 3 channels, the input shape " + ShapeToString(ci.shape) +
                               " in " + (req.layout == DataLayout::kNHWC ? "NHWC" : "NCHW") + " has " + std::to_string(c) +
                               (req.layout == DataLayout::kNCHW && ci.shape[3] == 3   ? " (is the model NHWC? pass --input_format NHWC)"
                                : req.layout == DataLayout::kNHWC && ci.shape[1] == 3 ? " (is the model NCHW? drop --input_format NHWC)"
                                                                                      : ""));
      }
      if (!ci.data.mean_value.empty() && (int64_t)ci.data.mean_value.size() != c) {
        return InvalidArgument(who + ": " + std::to_string(ci.data.mean_value.size()) + " mean_value(s) given, the input has " +
                               std::to_string(c) + " channel(s)");
      }
      size_t ns = ci.data.standard_deviation.size();
      if (ns > 1 && (int64_t)ns != c) {
        return InvalidArgument(who + ": " + std::to_string(ns) + " standard_deviation values given; give one, or one per channel (" +
                               std::to_string(c) + ")");
      }
    }
    req.inputs.push_back(std::move(ci));
  }
  if (!TrimSpaces(flags.out_nodes).empty()) {
    DOPT_ASSIGN_OR_RETURN(req.out_nodes, ParseOutNodes(flags.out_nodes));
    DOPT_RETURN_IF_ERROR(CheckOutNodes(req.out_nodes, model));
  }
  req.exclude_ops = config.exclude_ops;
  DOPT_RETURN_IF_ERROR(CheckExcludeOps(req.exclude_ops, model).WithContext(config.config_path));
  return req;
}

}  // namespace dopt
