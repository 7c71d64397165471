#include "frontends/onnx/onnx_frontend.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/file_util.h"
#include "common/limits.h"
#include "frontends/load_model.h"
#include "ops/op.h"
#include "ops/shape_inference.h"
#include "onnx.pb.h"

namespace dopt {

namespace {

constexpr int64_t kMinIrVersion = 3;
constexpr int64_t kMinOpset = 7;

StatusOr<DType> FromOnnxType(int32_t t) {
  switch (t) {
    case dopt_onnx::TensorProto::FLOAT: return DType::kFloat32;
    case dopt_onnx::TensorProto::FLOAT16: return DType::kFloat16;
    case dopt_onnx::TensorProto::BFLOAT16: return DType::kBFloat16;
    case dopt_onnx::TensorProto::INT8: return DType::kInt8;
    case dopt_onnx::TensorProto::UINT8: return DType::kUInt8;
    case dopt_onnx::TensorProto::INT16: return DType::kInt16;
    case dopt_onnx::TensorProto::INT32: return DType::kInt32;
    case dopt_onnx::TensorProto::INT64: return DType::kInt64;
    case dopt_onnx::TensorProto::BOOL: return DType::kBool;
    default: {
      const std::string& n = dopt_onnx::TensorProto::DataType_Name((dopt_onnx::TensorProto::DataType)t);
      return Unimplemented("data type " + (n.empty() ? std::to_string(t) : n) + " is not supported");
    }
  }
}

int32_t ToOnnxType(DType t) {
  switch (t) {
    case DType::kFloat32: return dopt_onnx::TensorProto::FLOAT;
    case DType::kFloat16: return dopt_onnx::TensorProto::FLOAT16;
    case DType::kBFloat16: return dopt_onnx::TensorProto::BFLOAT16;
    case DType::kInt8: return dopt_onnx::TensorProto::INT8;
    case DType::kUInt8: return dopt_onnx::TensorProto::UINT8;
    case DType::kInt16: return dopt_onnx::TensorProto::INT16;
    case DType::kInt32: return dopt_onnx::TensorProto::INT32;
    case DType::kInt64: return dopt_onnx::TensorProto::INT64;
    case DType::kBool: return dopt_onnx::TensorProto::BOOL;
    default: return dopt_onnx::TensorProto::UNDEFINED;
  }
}

StatusOr<std::string> ReadExternalData(const dopt_onnx::TensorProto& tp, const std::string& base_dir,
                                       size_t expected) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : tp.external_data()) {
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") offset = std::atoll(kv.value().c_str());
    else if (kv.key() == "length") length = std::atoll(kv.value().c_str());
  }
  if (location.empty()) return InvalidArgument("external data has no 'location'");
  if (location[0] == '/' || location.find("..") != std::string::npos)
    return InvalidArgument("external data location '" + location + "' must be a relative path inside the model's folder");
  std::string path = JoinPath(base_dir, location);
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("external data file '" + path + "' cannot be opened");
  in.seekg(0, std::ios::end);
  int64_t size = (int64_t)in.tellg();
  if (length < 0) length = (int64_t)expected;
  // No offset + length: both come from the file and may be anything.
  if (offset < 0 || size < 0 || offset > size || length > size - offset) {
    return InvalidArgument("external data file '" + path + "' has " + std::to_string(size) + " bytes, need " +
                           std::to_string(offset) + " + " + std::to_string(length));
  }
  if ((size_t)length != expected) {
    return InvalidArgument("external data length " + std::to_string(length) + " does not match the tensor's " +
                           std::to_string(expected) + " bytes");
  }
  std::string data((size_t)length, '\0');
  in.seekg(offset);
  if (length > 0 && !in.read(&data[0], length)) return IoError("reading external data file '" + path + "' failed");
  return data;
}

template <typename Src, typename Dst>
void CopyConvert(const Src& src, Dst* dst) {
  for (int i = 0; i < src.size(); ++i) dst[i] = (Dst)src.Get(i);
}

StatusOr<Tensor> TensorFromProto(const dopt_onnx::TensorProto& tp, const std::string& base_dir);

// The tensor's packed bytes (raw_data, or its external data file read into *external), checked
// against `bytes` (the shape's size in `type_name` elements) before anything of the declared
// size is allocated: a header may claim billions of elements that the file does not hold.
// nullptr when the values are in the typed repeated fields.
StatusOr<const std::string*> PackedBytes(const dopt_onnx::TensorProto& tp, const std::string& base_dir,
                                         const Shape& shape, size_t bytes, const std::string& type_name,
                                         std::string* external) {
  const std::string* raw = nullptr;
  if (tp.data_location() == dopt_onnx::TensorProto::EXTERNAL) {
    DOPT_ASSIGN_OR_RETURN(*external, ReadExternalData(tp, base_dir, bytes));
    raw = external;
  } else if (tp.has_raw_data()) {
    raw = &tp.raw_data();
  }
  if (raw && raw->size() != bytes) {
    return InvalidArgument("raw data has " + std::to_string(raw->size()) + " bytes, shape " + ShapeToString(shape) +
                           " of " + type_name + " needs " + std::to_string(bytes));
  }
  return raw;
}

// A DOUBLE tensor inside the model, read as float32 (docs/architecture.md: float64 inside a
// model runs as float32; the value is marked stored_float64 and written back as float64).
StatusOr<Tensor> DoubleTensorAsFloat(const dopt_onnx::TensorProto& tp, const std::string& base_dir) {
  auto where = [&](const Status& s) { return s.WithContext("tensor '" + tp.name() + "'"); };
  Shape shape(tp.dims().begin(), tp.dims().end());
  auto n = CheckedNumElements(shape, kMaxTensorElements);
  if (!n.ok()) return where(n.status());
  std::string external;
  auto raw_or = PackedBytes(tp, base_dir, shape, (size_t)*n * sizeof(double), "float64", &external);
  if (!raw_or.ok()) return where(raw_or.status());
  const std::string* raw = *raw_or;
  if (!raw && tp.double_data_size() != *n) {
    return where(InvalidArgument("has " + std::to_string(tp.double_data_size()) + " values, shape " +
                                 ShapeToString(shape) + " needs " + std::to_string(*n)));
  }
  Tensor t = Tensor::Uninitialized(DType::kFloat32, shape);
  float* dst = t.data<float>();
  for (int64_t i = 0; i < *n; ++i) {
    double d;
    if (raw) std::memcpy(&d, raw->data() + (size_t)i * sizeof d, sizeof d);
    else d = tp.double_data((int)i);
    dst[i] = (float)d;
  }
  return t;
}

StatusOr<Tensor> TensorFromProto(const dopt_onnx::TensorProto& tp, const std::string& base_dir) {
  auto where = [&](const Status& s) { return s.WithContext("tensor '" + tp.name() + "'"); };
  if (tp.segment().begin() != 0 || tp.segment().end() != 0 || tp.has_segment())
    return where(Unimplemented("segmented tensors are not supported"));
  if (tp.data_type() == dopt_onnx::TensorProto::DOUBLE) return DoubleTensorAsFloat(tp, base_dir);
  auto dt = FromOnnxType(tp.data_type());
  if (!dt.ok()) return where(dt.status());
  Shape shape(tp.dims().begin(), tp.dims().end());
  auto n = CheckedNumElements(shape, kMaxTensorElements);
  if (!n.ok()) return where(n.status());
  DType dtype = *dt;
  size_t bytes = (size_t)*n * DTypeSize(dtype);
  std::string external;
  auto raw_or = PackedBytes(tp, base_dir, shape, bytes, DTypeName(dtype), &external);
  if (!raw_or.ok()) return where(raw_or.status());
  if (const std::string* raw = *raw_or) {
    Tensor t = Tensor::Uninitialized(dtype, shape);
    if (bytes) std::memcpy(t.raw(), raw->data(), bytes);
    return t;
  }
  auto count_error = [&](int have) {
    return where(InvalidArgument("has " + std::to_string(have) + " values, shape " + ShapeToString(shape) +
                                 " needs " + std::to_string(*n)));
  };
  int have = 0;
  switch (dtype) {
    case DType::kFloat32: have = tp.float_data_size(); break;
    case DType::kInt64: have = tp.int64_data_size(); break;
    default: have = tp.int32_data_size(); break;
  }
  if (have != *n) return count_error(have);
  Tensor t(dtype, shape);
  switch (dtype) {
    case DType::kFloat32:
      if (tp.float_data_size() != *n) return count_error(tp.float_data_size());
      CopyConvert(tp.float_data(), t.data<float>());
      break;
    case DType::kInt64:
      if (tp.int64_data_size() != *n) return count_error(tp.int64_data_size());
      CopyConvert(tp.int64_data(), t.data<int64_t>());
      break;
    case DType::kInt32:
      if (tp.int32_data_size() != *n) return count_error(tp.int32_data_size());
      CopyConvert(tp.int32_data(), t.data<int32_t>());
      break;
    case DType::kInt8:
      if (tp.int32_data_size() != *n) return count_error(tp.int32_data_size());
      CopyConvert(tp.int32_data(), t.data<int8_t>());
      break;
    case DType::kUInt8:
    case DType::kBool:
      if (tp.int32_data_size() != *n) return count_error(tp.int32_data_size());
      CopyConvert(tp.int32_data(), t.data<uint8_t>());
      break;
    case DType::kInt16:
      if (tp.int32_data_size() != *n) return count_error(tp.int32_data_size());
      CopyConvert(tp.int32_data(), t.data<int16_t>());
      break;
    case DType::kFloat16:
    case DType::kBFloat16:
      if (tp.int32_data_size() != *n) return count_error(tp.int32_data_size());
      CopyConvert(tp.int32_data(), t.data<uint16_t>());
      break;
    default:
      return where(Unimplemented("unsupported data type"));
  }
  return t;
}

void TensorToProto(const Tensor& t, const std::string& name, dopt_onnx::TensorProto* tp) {
  tp->Clear();
  tp->set_name(name);
  tp->set_data_type(ToOnnxType(t.dtype()));
  for (int64_t d : t.shape()) tp->add_dims(d);
  tp->set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
}

// A float32 tensor written as DOUBLE (a source DOUBLE tensor that dopt read as float32).
void DoubleTensorToProto(const Tensor& t, const std::string& name, dopt_onnx::TensorProto* tp) {
  tp->Clear();
  tp->set_name(name);
  tp->set_data_type(dopt_onnx::TensorProto::DOUBLE);
  for (int64_t d : t.shape()) tp->add_dims(d);
  std::string raw((size_t)t.numel() * sizeof(double), '\0');
  const float* src = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) {
    double d = src[i];
    std::memcpy(&raw[(size_t)i * sizeof d], &d, sizeof d);
  }
  tp->set_raw_data(std::move(raw));
}

Status ReadValueType(const dopt_onnx::ValueInfoProto& vi, Value* v) {
  // No type, or an empty TypeProto (exporters write `type {}` for some sub-graph outputs):
  // unknown, inferred later.
  if (!vi.has_type() || vi.type().value_case() == dopt_onnx::TypeProto::VALUE_NOT_SET) return Status::Ok();
  if (!vi.type().has_tensor_type()) {
    return Unimplemented("value '" + vi.name() + "' is not a tensor (sequences, maps and optionals are not supported)");
  }
  const auto& tt = vi.type().tensor_type();
  if (tt.elem_type() == dopt_onnx::TensorProto::DOUBLE) {
    v->dtype = DType::kFloat32;  // float64 inside a model runs as float32 (DoubleTensorAsFloat)
    v->stored_float64 = true;
  } else if (tt.has_elem_type() && tt.elem_type() != 0) {
    auto dt = FromOnnxType(tt.elem_type());
    if (!dt.ok()) return dt.status().WithContext("value '" + vi.name() + "'");
    v->dtype = *dt;
  }
  if (tt.has_shape()) {
    v->rank_known = true;
    v->shape.clear();
    v->dim_params.clear();
    for (const auto& d : tt.shape().dim()) {
      v->shape.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value() : -1);
      v->dim_params.push_back(d.has_dim_param() ? d.dim_param() : "");
    }
  }
  return Status::Ok();
}

// float64 runs as float32 inside a model, but a model's own inputs and outputs keep their types:
// a caller feeds and reads what the model declares.
Status CheckNotDoubleInterface(const dopt_onnx::ValueInfoProto& vi, const char* what) {
  if (!vi.type().has_tensor_type() || vi.type().tensor_type().elem_type() != dopt_onnx::TensorProto::DOUBLE)
    return Status::Ok();
  return Unimplemented(std::string(what) + " '" + vi.name() +
                       "' is float64 (DOUBLE): dopt computes float64 inside a model as float32 but does not change "
                       "the types of a model's inputs and outputs; export it with float32 " + what + "s");
}

// Data-type codes in attributes (Cast's `to`, EyeLike's and the random ops' `dtype`) that name
// DOUBLE read as FLOAT, like the tensors (DoubleTensorAsFloat); true when it rewrote one (the
// node's output is then stored as float64). The IR node is not marked changed, so the written
// model keeps the source's node; one written anew gets DOUBLE back (WriteNode).
bool IsTypeCodeAttribute(const std::string& domain, const std::string& name) {
  return domain.empty() && (name == "to" || name == "dtype");
}
bool DoubleCodeAsFloat(const std::string& domain, const std::string& name, Attribute* a) {
  if (!IsTypeCodeAttribute(domain, name) || a->kind != Attribute::Kind::kInt || a->i != dopt_onnx::TensorProto::DOUBLE)
    return false;
  a->i = dopt_onnx::TensorProto::FLOAT;
  return true;
}

using OpsetMap = std::unordered_map<std::string, int64_t>;
Status BuildGraphBody(const dopt_onnx::GraphProto& gp, const OpsetMap& opset, const std::string& base_dir, Graph* g);

StatusOr<Attribute> ConvertAttribute(const dopt_onnx::AttributeProto& a, const std::string& base_dir,
                                     const OpsetMap& opset) {
  Attribute out;
  using A = dopt_onnx::AttributeProto;
  A::AttributeType type = a.type();
  if (type == A::UNDEFINED) {  // very old exporters leave the type out
    if (a.has_f()) type = A::FLOAT;
    else if (a.has_i()) type = A::INT;
    else if (a.has_s()) type = A::STRING;
    else if (a.has_t()) type = A::TENSOR;
    else if (a.floats_size()) type = A::FLOATS;
    else if (a.ints_size()) type = A::INTS;
    else if (a.strings_size()) type = A::STRINGS;
    else if (a.has_g()) type = A::GRAPH;
  }
  switch (type) {
    case A::FLOAT: out.kind = Attribute::Kind::kFloat; out.f = a.f(); break;
    case A::INT: out.kind = Attribute::Kind::kInt; out.i = a.i(); break;
    case A::STRING: out.kind = Attribute::Kind::kString; out.s = a.s(); break;
    case A::TENSOR: {
      out.kind = Attribute::Kind::kTensor;
      auto t = TensorFromProto(a.t(), base_dir);
      if (!t.ok()) return t.status();
      out.t = std::move(t).value();
      break;
    }
    case A::FLOATS: out.kind = Attribute::Kind::kFloats; out.floats.assign(a.floats().begin(), a.floats().end()); break;
    case A::INTS: out.kind = Attribute::Kind::kInts; out.ints.assign(a.ints().begin(), a.ints().end()); break;
    case A::STRINGS: out.kind = Attribute::Kind::kStrings; out.strings.assign(a.strings().begin(), a.strings().end()); break;
    case A::GRAPH: {  // If's branches, Loop's and Scan's body
      out.kind = Attribute::Kind::kGraph;
      out.g = std::make_shared<Graph>();
      out.g->is_subgraph = true;
      DOPT_RETURN_IF_ERROR(BuildGraphBody(a.g(), opset, base_dir, out.g.get()));
      break;
    }
    default: out.kind = Attribute::Kind::kUnsupported; break;  // lists of graphs, sparse tensors, type protos
  }
  return out;
}

Status BuildGraph(const dopt_onnx::ModelProto& model, const std::string& base_dir, Graph* g) {
  OpsetMap opset;
  for (const auto& o : model.opset_import()) opset[o.domain() == "ai.onnx" ? "" : o.domain()] = o.version();
  if (model.opset_import_size() == 0) opset[""] = 1;  // IR 3 requires opset_import; be explicit
  int64_t default_opset = opset.count("") ? opset[""] : 0;
  if (default_opset >= kMinOpset) return BuildGraphBody(model.graph(), opset, base_dir, g);
  // An older model reads as opset 7 when each of its ops computes at its opset what it does at
  // 7 (OpsetUpgrade::oldest: ReduceLogSum-1, Elu-6, ...); an op that changed at 7 (Add's
  // broadcast attribute, BatchNormalization's spatial) keeps it out.
  OpsetMap as7 = opset;
  as7[""] = kMinOpset;
  DOPT_RETURN_IF_ERROR(BuildGraphBody(model.graph(), as7, base_dir, g));
  std::set<std::string> changed;
  std::function<void(const Graph&)> check = [&](const Graph& sub) {
    for (const Node& n : sub.nodes) {
      for (const auto& kv : n.attributes)
        if (kv.second.kind == Attribute::Kind::kGraph && kv.second.g) check(*kv.second.g);
      if (!n.domain.empty() && n.domain != "ai.onnx") continue;
      const OpDef* d = FindOpDef(n.domain, n.op_type);
      if (d && d->upgrade.oldest > default_opset) changed.insert(n.op_type);
    }
  };
  check(*g);
  if (!changed.empty()) {
    std::string names;
    for (const std::string& c : changed) names += (names.empty() ? "" : ", ") + c;
    return Unimplemented("default-domain opset " + std::to_string(default_opset) + " is too old: dopt reads " +
                         std::to_string(kMinOpset) + " and newer, and older models whose ops are unchanged up to " +
                         std::to_string(kMinOpset) + "; " + names + (changed.size() == 1 ? " has" : " have") +
                         " a different definition at opset " + std::to_string(default_opset));
  }
  for (auto& o : g->info.opsets)
    if (o.first.empty() || o.first == "ai.onnx") o.second = kMinOpset;
  if (!opset.count("") || model.opset_import_size() == 0) g->info.opsets.emplace_back("", kMinOpset);
  return Status::Ok();
}

// The graph of a model or a sub-graph (g->is_subgraph: inputs may come without types, and
// names it does not define are outer-scope references, resolved by Graph::ResolveOuterScope).
Status BuildGraphBody(const dopt_onnx::GraphProto& gp, const OpsetMap& opset, const std::string& base_dir, Graph* g) {
  g->name = gp.name();
  for (int i = 0; i < gp.initializer_size(); ++i) {
    const auto& tp = gp.initializer(i);
    if (tp.name().empty()) return InvalidArgument("initializer " + std::to_string(i) + " has no name");
    if (g->FindValue(tp.name()) >= 0) return InvalidArgument("initializer '" + tp.name() + "' is defined twice");
    auto t = TensorFromProto(tp, base_dir);
    if (!t.ok()) return t.status();
    Value v;
    v.name = tp.name();
    v.dtype = t->dtype();
    v.stored_float64 = tp.data_type() == dopt_onnx::TensorProto::DOUBLE;
    v.rank_known = true;
    v.shape = t->shape();
    v.initializer = std::move(t).value();
    v.source_index = i;
    g->AddValue(std::move(v));
  }
  if (gp.sparse_initializer_size() > 0) return Unimplemented("sparse initializers are not supported");

  for (int i = 0; i < gp.input_size(); ++i) {
    const auto& vi = gp.input(i);
    int id = g->FindValue(vi.name());
    if (id >= 0) continue;  // an initializer listed as input (IR < 4 style): a constant
    if (!g->is_subgraph) DOPT_RETURN_IF_ERROR(CheckNotDoubleInterface(vi, "graph input"));
    Value v;
    v.name = vi.name();
    v.source_index = i;
    DOPT_RETURN_IF_ERROR(ReadValueType(vi, &v));
    if (v.dtype == DType::kUndefined && !g->is_subgraph)
      return InvalidArgument("graph input '" + vi.name() + "' has no element type");
    g->inputs.push_back(g->AddValue(std::move(v)));
  }
  for (const auto& vi : gp.value_info()) {
    if (g->FindValue(vi.name()) >= 0) continue;
    Value v;
    v.name = vi.name();
    Status st = ReadValueType(vi, &v);
    if (!st.ok()) continue;  // value_info is only a hint
    g->AddValue(std::move(v));
  }

  auto value_id = [&](const std::string& name) {
    int id = g->FindValue(name);
    if (id >= 0) return id;
    Value v;
    v.name = name;
    return g->AddValue(std::move(v));
  };
  std::unordered_set<std::string> used_names;
  for (int i = 0; i < gp.node_size(); ++i) {
    const auto& np = gp.node(i);
    Node n;
    n.op_type = np.op_type();
    n.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    n.opset_version = opset.count(n.domain) ? (int)opset.at(n.domain) : 0;
    n.name = np.name().empty() ? np.op_type() + "_" + std::to_string(i) : np.name();
    n.source_index = i;
    for (const auto& in : np.input()) n.inputs.push_back(in.empty() ? -1 : value_id(in));
    for (const auto& out : np.output()) n.outputs.push_back(out.empty() ? -1 : value_id(out));
    bool float64_out = false;  // a type code or a Constant / ConstantOfShape value in float64
    for (const auto& ap : np.attribute()) {
      auto a = ConvertAttribute(ap, base_dir, opset);
      if (!a.ok()) return a.status().WithContext(n.Describe() + ": attribute '" + ap.name() + "'");
      float64_out |= DoubleCodeAsFloat(n.domain, ap.name(), &a.value());
      float64_out |= n.domain.empty() && ap.name() == "value" && ap.has_t() && ap.t().data_type() == dopt_onnx::TensorProto::DOUBLE;
      n.attributes.emplace_back(ap.name(), std::move(a).value());
    }
    if (float64_out && !n.outputs.empty() && n.outputs[0] >= 0) g->value(n.outputs[0]).stored_float64 = true;
    g->AddNode(std::move(n));
  }
  for (int i = 0; i < gp.output_size(); ++i) {
    const auto& vi = gp.output(i);
    if (!g->is_subgraph) DOPT_RETURN_IF_ERROR(CheckNotDoubleInterface(vi, "graph output"));
    int id = g->FindValue(vi.name());
    if (id < 0 && g->is_subgraph) id = value_id(vi.name());  // an outer-scope value passed through
    if (id < 0) return InvalidArgument("graph output '" + vi.name() + "' is never produced");
    Value& v = g->value(id);
    if (v.producer >= 0 || !v.initializer) {
      Value declared;
      DOPT_RETURN_IF_ERROR(ReadValueType(vi, &declared));
      if (declared.dtype != DType::kUndefined) v.dtype = declared.dtype;
      v.stored_float64 |= declared.stored_float64;
      if (declared.rank_known) {
        v.rank_known = true;
        v.shape = declared.shape;
        v.dim_params = declared.dim_params;
      }
    }
    g->outputs.push_back(id);
  }
  return Status::Ok();
}

// How deep subgraphs nest in serialized ModelProto bytes, read with protobuf's wire reader and
// an explicit stack (no recursion, so any depth is safe): ModelProto.graph (7) > GraphProto.node
// (1) > NodeProto.attribute (5) > AttributeProto.g (6) / graphs (11) > GraphProto > ... Used only
// to explain a parse that failed; bytes that are not a model give some small number.
int SubgraphDepth(const std::string& bytes) {
  using google::protobuf::internal::WireFormatLite;
  enum Kind { kModel, kGraph, kNode, kAttribute };
  struct Frame {
    Kind kind;
    google::protobuf::io::CodedInputStream::Limit limit;
    int depth;
  };
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            (int)std::min(bytes.size(), (size_t)INT_MAX));
  std::vector<Frame> stack = {{kModel, -1, 0}};
  int deepest = 0;
  while (!stack.empty()) {
    Frame f = stack.back();
    uint32_t tag = in.ReadTag();
    if (tag == 0) {  // the end of this message, or bad bytes
      if (f.limit < 0 || in.BytesUntilLimit() != 0) break;
      in.PopLimit(f.limit);
      stack.pop_back();
      continue;
    }
    uint32_t field = WireFormatLite::GetTagFieldNumber(tag);
    bool delimited = WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    Kind child = kModel;
    if (delimited) {
      if (f.kind == kModel && field == 7) child = kGraph;
      else if (f.kind == kGraph && field == 1) child = kNode;
      else if (f.kind == kNode && field == 5) child = kAttribute;
      else if (f.kind == kAttribute && (field == 6 || field == 11)) child = kGraph;
    }
    if (child == kModel) {
      if (!WireFormatLite::SkipField(&in, tag)) break;
      continue;
    }
    uint32_t length = 0;
    if (!in.ReadVarint32(&length) || length > (uint32_t)INT_MAX) break;
    int depth = f.depth + (f.kind == kAttribute ? 1 : 0);
    deepest = std::max(deepest, depth);
    stack.push_back({child, in.PushLimit((int)length), depth});
  }
  return deepest;
}

// Values computed from float64 values are float64 in the source too. ONNX's ops take their
// output's float type from input 0 (a type constraint T shared with the others): marked input 0,
// marked outputs; where input 0 is no float (Where's condition, OneHot's indices), from any
// marked input; CastLike's from input 1. Not: an output a type code sets (Cast, EyeLike, ...:
// marked when read), outputs of other types (Shape's int64, a comparison's bool), an input of
// a separate float type (Pow's exponent, GridSample's grid, Resize's roi). If / Loop / Scan
// outputs follow their bodies' declared outputs. Runs on the prepared graph (nodes in order,
// dtypes inferred).
void PropagateStoredFloat64(Graph& g) {
  auto marked = [&](int id) { return id >= 0 && g.value(id).stored_float64; };
  for (const Node& n : g.nodes) {
    bool typed = false;
    for (const auto& kv : n.attributes) typed |= IsTypeCodeAttribute(n.domain, kv.first);
    if (typed) continue;
    bool from64 = false;
    if (n.domain.empty() && n.op_type == "CastLike") {
      from64 = n.inputs.size() > 1 && marked(n.inputs[1]);
    } else if (!n.inputs.empty() && n.inputs[0] >= 0 && g.value(n.inputs[0]).dtype == DType::kFloat32) {
      from64 = marked(n.inputs[0]);
    } else {
      for (int id : n.inputs) from64 |= marked(id);
    }
    for (size_t o = 0; o < n.outputs.size(); ++o) {
      bool out64 = from64;
      for (const auto& kv : n.attributes) {  // a body's output o (Loop's bodies: after the condition)
        if (kv.second.kind != Attribute::Kind::kGraph || !kv.second.g) continue;
        const Graph& b = *kv.second.g;
        const size_t bo = n.op_type == "Loop" ? o + 1 : o;
        out64 |= bo < b.outputs.size() && b.values[b.outputs[bo]].stored_float64;
      }
      if (out64 && n.outputs[o] >= 0 && g.value(n.outputs[o]).dtype == DType::kFloat32) g.value(n.outputs[o]).stored_float64 = true;
    }
  }
  for (Value& v : g.values)
    if (v.dtype != DType::kFloat32) v.stored_float64 = false;
}

// The loader proper. `source` becomes graph.info.source_bytes as is: the file's bytes are held
// once, not copied (the writer parses them again for every field dopt does not rebuild).
StatusOr<Graph> LoadOnnxModelFromSource(std::shared_ptr<const std::string> source, const std::string& name,
                                        const std::string& base_dir, const OnnxLoadOptions& options) {
  auto fail = [&](const Status& s) { return s.WithContext(name); };
  const std::string& bytes = *source;
  auto model = std::make_unique<dopt_onnx::ModelProto>();
  if (bytes.empty()) return fail(InvalidArgument("file is empty, not an ONNX model"));
  if (bytes.size() > (size_t)INT_MAX) {
    return fail(InvalidArgument("file has " + std::to_string(bytes.size()) +
                                " bytes; an ONNX protobuf is at most 2 GiB (larger weights go in external data files)"));
  }
  // An explicit nesting limit: subgraphs (If/Loop/Scan) nest messages three deep per level.
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), (int)bytes.size());
  in.SetRecursionLimit(kMaxProtoRecursion);
  if (!model->ParseFromCodedStream(&in) || !in.ConsumedEntireMessage()) {
    int depth = SubgraphDepth(bytes);
    if (depth > kMaxGraphNesting) {
      return fail(InvalidArgument("subgraphs (If/Loop/Scan bodies) are nested " + std::to_string(depth) +
                                  " deep; dopt reads at most " + std::to_string(kMaxGraphNesting) + " levels"));
    }
    return fail(InvalidArgument("not an ONNX model: the file does not parse as an ONNX ModelProto (truncated or another format)"));
  }
  if (!model->has_graph()) return fail(InvalidArgument("not an ONNX model: it has no graph"));
  if (model->ir_version() < kMinIrVersion) {
    return fail(Unimplemented("ONNX IR version " + std::to_string(model->ir_version()) + " is not supported (dopt reads " +
                              std::to_string(kMinIrVersion) + " and newer)"));
  }
  Graph g;
  g.info.format = "onnx";
  g.info.path = name;
  g.info.ir_version = model->ir_version();
  g.info.producer_name = model->producer_name();
  g.info.producer_version = model->producer_version();
  for (const auto& o : model->opset_import()) g.info.opsets.emplace_back(o.domain(), o.version());
  for (const auto& m : model->metadata_props()) g.info.metadata.emplace_back(m.key(), m.value());
  g.info.source_bytes = std::move(source);
  Status st = BuildGraph(*model, base_dir, &g);
  if (!st.ok()) return fail(st);
  model.reset();
  if (options.prepare) {
    st = PrepareGraph(g);
    if (!st.ok()) return fail(st);
    PropagateStoredFloat64(g);
  }
  return g;
}

}  // namespace

StatusOr<Graph> LoadOnnxModelFromBytes(const std::string& bytes, const std::string& name, const std::string& base_dir,
                                       const OnnxLoadOptions& options) {
  return LoadOnnxModelFromSource(std::make_shared<const std::string>(bytes), name, base_dir, options);
}

StatusOr<Graph> LoadOnnxModel(const std::string& path, const OnnxLoadOptions& options) {
  // Taken before and after the read: a file that changed meanwhile, or changes later (found by
  // ModelSourceBytes when the writer reads it again), never mixes into a model.
  std::optional<ModelInfo::SourceFile> file = StatSourceFile(path);
  auto bytes = ReadFileToString(path);
  if (!bytes.ok()) return bytes.status();
  if (file && (StatSourceFile(path) != file || (int64_t)bytes->size() != file->size)) {
    return InvalidArgument(path + ": the model file changed while dopt read it; run dopt again");
  }
  DOPT_ASSIGN_OR_RETURN(Graph g, LoadOnnxModelFromSource(std::make_shared<const std::string>(std::move(*bytes)), path,
                                                         DirName(path), options));
  if (file) {
    g.info.source_bytes.reset();
    g.info.source_file = std::move(file);
  }
  return g;
}

namespace {

void WriteValueInfo(const Value& v, dopt_onnx::ValueInfoProto* vi) {
  vi->set_name(v.name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(v.stored_float64 && v.dtype == DType::kFloat32 ? (int32_t)dopt_onnx::TensorProto::DOUBLE
                                                                   : ToOnnxType(v.dtype));
  if (v.rank_known) {
    auto* shape = tt->mutable_shape();
    for (size_t d = 0; d < v.shape.size(); ++d) {
      auto* dim = shape->add_dim();
      if (v.shape[d] >= 0) dim->set_dim_value(v.shape[d]);
      else if (d < v.dim_params.size() && !v.dim_params[d].empty()) dim->set_dim_param(v.dim_params[d]);
    }
  }
}

void WriteSubgraph(const Graph& g, dopt_onnx::GraphProto* gp);

void WriteAttribute(const std::string& name, const Attribute& a, dopt_onnx::AttributeProto* ap) {
  using A = dopt_onnx::AttributeProto;
  ap->set_name(name);
  switch (a.kind) {
    case Attribute::Kind::kFloat: ap->set_type(A::FLOAT); ap->set_f(a.f); break;
    case Attribute::Kind::kInt: ap->set_type(A::INT); ap->set_i(a.i); break;
    case Attribute::Kind::kString: ap->set_type(A::STRING); ap->set_s(a.s); break;
    case Attribute::Kind::kTensor: ap->set_type(A::TENSOR); TensorToProto(a.t, "", ap->mutable_t()); break;
    case Attribute::Kind::kFloats: ap->set_type(A::FLOATS); for (float f : a.floats) ap->add_floats(f); break;
    case Attribute::Kind::kInts: ap->set_type(A::INTS); for (int64_t i : a.ints) ap->add_ints(i); break;
    case Attribute::Kind::kStrings: ap->set_type(A::STRINGS); for (const auto& s : a.strings) ap->add_strings(s); break;
    case Attribute::Kind::kGraph:
      ap->set_type(A::GRAPH);
      if (a.g) WriteSubgraph(*a.g, ap->mutable_g());
      break;
    default: break;
  }
}

// A node regenerated from the IR (new or changed by a pass).
void WriteNode(const Graph& g, const Node& n, dopt_onnx::NodeProto* np) {
  np->set_name(n.name);
  np->set_op_type(n.op_type);
  if (!n.domain.empty()) np->set_domain(n.domain);
  for (int v : n.inputs) np->add_input(v >= 0 ? g.values[v].name : "");
  for (int v : n.outputs) np->add_output(v >= 0 ? g.values[v].name : "");
  const bool out64 = !n.outputs.empty() && n.outputs[0] >= 0 && g.values[n.outputs[0]].stored_float64;
  for (const auto& kv : n.attributes) {
    auto* ap = np->add_attribute();
    WriteAttribute(kv.first, kv.second, ap);
    if (out64 && IsTypeCodeAttribute(n.domain, kv.first) && ap->i() == dopt_onnx::TensorProto::FLOAT)
      ap->set_i(dopt_onnx::TensorProto::DOUBLE);  // read as FLOAT (DoubleCodeAsFloat)
    if (out64 && n.domain.empty() && kv.first == "value" && kv.second.kind == Attribute::Kind::kTensor)
      DoubleTensorToProto(kv.second.t, "", ap->mutable_t());
  }
}

// A sub-graph written from the IR (its node was changed, or its own nodes were, e.g. by an
// opset upgrade): initializers, inputs, outputs and nodes; outer-scope values are left to the
// enclosing graphs, which define them.
void WriteSubgraph(const Graph& g, dopt_onnx::GraphProto* gp) {
  gp->set_name(g.name);
  auto info = [](const Value& v, dopt_onnx::ValueInfoProto* vi) {
    if (v.dtype == DType::kUndefined) vi->set_name(v.name);  // no type known: the name only
    else WriteValueInfo(v, vi);
  };
  for (const Value& v : g.values) {
    if (!v.initializer) continue;
    if (v.stored_float64 && v.initializer->dtype() == DType::kFloat32) DoubleTensorToProto(*v.initializer, v.name, gp->add_initializer());
    else TensorToProto(*v.initializer, v.name, gp->add_initializer());
  }
  for (int id : g.inputs) info(g.values[id], gp->add_input());
  for (int id : g.outputs) info(g.values[id], gp->add_output());
  for (const Node& n : g.nodes) WriteNode(g, n, gp->add_node());
}

bool IsExternal(const dopt_onnx::TensorProto& tp) {
  return tp.data_location() == dopt_onnx::TensorProto::EXTERNAL;
}

// True when graph input `v` is declared by `vi` with the same element type and rank, every dim
// vi fixes equal, and at least one dim vi leaves open that the IR fixed.
bool OpenedByInputShape(const Value& v, const dopt_onnx::ValueInfoProto& vi) {
  if (!vi.type().has_tensor_type() || !vi.type().tensor_type().has_shape() || !v.rank_known) return false;
  const auto& tt = vi.type().tensor_type();
  if (tt.elem_type() != ToOnnxType(v.dtype) || tt.shape().dim_size() != (int)v.shape.size()) return false;
  bool opened = false;
  for (int d = 0; d < tt.shape().dim_size(); ++d) {
    const auto& dim = tt.shape().dim(d);
    if (dim.has_dim_value()) {
      if (dim.dim_value() != v.shape[d]) return false;
    } else {
      opened |= v.shape[d] >= 0;
    }
  }
  return opened;
}

// The graph with the open dims of `inputs` (value id -> source declaration) changed (n -> n + 1)
// and every shape re-inferred; nullopt when that fails (a shape was baked in) or the graph has
// sub-graphs (which a copy would share).
std::optional<Graph> ProbeOpenDims(const Graph& g, const std::map<int, const dopt_onnx::ValueInfoProto*>& inputs) {
  for (const Node& n : g.nodes)
    for (const auto& kv : n.attributes)
      if (kv.second.kind == Attribute::Kind::kGraph) return std::nullopt;
  Graph probe = g;
  for (Value& v : probe.values) {
    if (v.producer < 0) continue;
    v.rank_known = false;
    v.shape.clear();
    v.dim_params.clear();
    v.folded.reset();
  }
  for (const auto& [id, vi] : inputs) {
    Value& v = probe.value(id);
    const auto& shape = vi->type().tensor_type().shape();
    for (int d = 0; d < shape.dim_size(); ++d)
      if (!shape.dim(d).has_dim_value()) v.shape[d] += 1;
  }
  if (!InferShapes(probe).ok()) return std::nullopt;
  return probe;
}

}  // namespace

StatusOr<std::string> SerializeOnnxModel(const Graph& g, const SerializeOptions& options) {
  dopt_onnx::ModelProto model;
  dopt_onnx::GraphProto original;
  std::shared_ptr<const std::string> source;
  if (g.info.format == "onnx") {
    DOPT_ASSIGN_OR_RETURN(source, ModelSourceBytes(g.info));
  }
  bool have_source = source != nullptr;
  if (have_source) {
    if (!model.ParseFromString(*source)) return Internal("source model no longer parses");
    // Passes may raise the IR version or op set versions (e.g. the opset upgrade); entries
    // that did not change are left exactly as read.
    if (g.info.ir_version && g.info.ir_version != model.ir_version()) model.set_ir_version(g.info.ir_version);
    for (const auto& o : g.info.opsets) {
      dopt_onnx::OperatorSetIdProto* found = nullptr;
      for (auto& op : *model.mutable_opset_import())
        if (op.domain() == o.first) found = &op;
      if (!found) {
        found = model.add_opset_import();
        found->set_domain(o.first);
      }
      if (found->version() != o.second) found->set_version(o.second);
    }
  } else {
    model.set_ir_version(g.info.ir_version ? g.info.ir_version : 8);
    model.set_producer_name("dopt");
    for (const auto& o : g.info.opsets) {
      auto* op = model.add_opset_import();
      op->set_domain(o.first);
      op->set_version(o.second);
    }
    if (g.info.opsets.empty()) {
      auto* op = model.add_opset_import();
      op->set_version(13);
    }
  }
  dopt_onnx::GraphProto* gp = model.mutable_graph();
  if (have_source) {
    // Every graph field not rebuilt below (name, doc, metadata, unknown fields) stays as read;
    // the rebuilt ones move to `original` (swapped, not copied: the initializers are the weights).
    original.mutable_node()->Swap(gp->mutable_node());
    original.mutable_initializer()->Swap(gp->mutable_initializer());
    original.mutable_input()->Swap(gp->mutable_input());
    original.mutable_output()->Swap(gp->mutable_output());
    original.mutable_value_info()->Swap(gp->mutable_value_info());
  } else {
    gp->set_name(g.name);
  }
  // Initializers: untouched ones exactly as read (external data is inlined), in model order.
  std::vector<int> inits;
  for (int v = 0; v < (int)g.values.size(); ++v)
    if (g.values[v].initializer) inits.push_back(v);
  std::stable_sort(inits.begin(), inits.end(), [&](int a, int b) {
    int sa = g.values[a].source_index, sb = g.values[b].source_index;
    bool ka = g.values[a].initializer && sa >= 0, kb = g.values[b].initializer && sb >= 0;
    if (ka != kb) return ka;
    return ka ? sa < sb : a < b;
  });
  // The source's DOUBLE tensors by name (initializers, Constant values; not external data), for
  // float64 values written anew (a Constant that became an initializer): their own bytes when
  // dopt's float32 copy is still their rounding, so no float64 value loses digits.
  std::unordered_map<std::string, const dopt_onnx::TensorProto*> source_doubles;
  if (have_source) {
    for (const auto& tp : original.initializer())
      if (tp.data_type() == dopt_onnx::TensorProto::DOUBLE && !IsExternal(tp)) source_doubles[tp.name()] = &tp;
    for (const auto& np : original.node())
      if ((np.domain().empty() || np.domain() == "ai.onnx") && np.output_size() >= 1)
        for (const auto& ap : np.attribute())
          if (ap.name() == "value" && ap.has_t() && ap.t().data_type() == dopt_onnx::TensorProto::DOUBLE && !IsExternal(ap.t()))
            source_doubles[np.output(0)] = &ap.t();
  }
  auto write_double = [&](const Value& val, dopt_onnx::TensorProto* tp) {
    auto it = source_doubles.find(val.name);
    if (it != source_doubles.end() && it->second->data_type() == dopt_onnx::TensorProto::DOUBLE) {
      auto same = DoubleTensorAsFloat(*it->second, "");
      if (same.ok() && same->shape() == val.initializer->shape() &&
          std::memcmp(same->raw(), val.initializer->raw(), val.initializer->nbytes()) == 0) {
        *tp = *it->second;
        tp->set_name(val.name);
        return;
      }
    }
    DoubleTensorToProto(*val.initializer, val.name, tp);
  };
  std::unordered_set<std::string> init_names;
  for (int v : inits) {
    const Value& val = g.values[v];
    init_names.insert(val.name);
    auto* tp = gp->add_initializer();
    bool reuse = have_source && !val.dirty && val.source_index >= 0 && val.source_index < original.initializer_size() &&
                 original.initializer(val.source_index).name() == val.name && !IsExternal(original.initializer(val.source_index));
    // Moved, not copied; a second reader of the same index (none expected) finds no name there
    // and writes from the tensor.
    if (reuse) tp->Swap(original.mutable_initializer(val.source_index));
    else if (val.stored_float64 && val.initializer->dtype() == DType::kFloat32) write_double(val, tp);
    else TensorToProto(*val.initializer, val.name, tp);
  }
  // Inputs: the source's list (IR < 4 models also list initializers), then any new ones.
  std::unordered_set<std::string> written;
  std::map<int, const dopt_onnx::ValueInfoProto*> open_inputs;  // keep_open_input_dims candidates
  std::optional<Graph> probe;  // the graph re-inferred with those dims changed, when it holds
  if (have_source && options.keep_open_input_dims) {
    for (const auto& vi : original.input()) {
      int id = g.FindValue(vi.name());
      if (id >= 0 && g.values[id].dirty && std::find(g.inputs.begin(), g.inputs.end(), id) != g.inputs.end() &&
          OpenedByInputShape(g.values[id], vi))
        open_inputs[id] = &vi;
    }
    if (!open_inputs.empty()) probe = ProbeOpenDims(g, open_inputs);
  }
  if (have_source) {
    for (const auto& vi : original.input()) {
      int id = g.FindValue(vi.name());
      bool is_input = id >= 0 && std::find(g.inputs.begin(), g.inputs.end(), id) != g.inputs.end();
      if (is_input && probe && open_inputs.count(id)) {
        *gp->add_input() = vi;
        written.insert(vi.name());
      } else if (is_input && g.values[id].dirty) {
        WriteValueInfo(g.values[id], gp->add_input());
        written.insert(vi.name());
      } else if (is_input || init_names.count(vi.name())) {
        *gp->add_input() = vi;
        written.insert(vi.name());
      }
    }
  }
  for (int id : g.inputs)
    if (!written.count(g.values[id].name)) WriteValueInfo(g.values[id], gp->add_input());
  // IR < 4 requires initializers to be listed among the graph inputs too: do so for the ones
  // dopt added or changed (the source's own list is kept as it was).
  if (model.ir_version() < 4) {
    for (int v : inits) {
      const Value& val = g.values[v];
      if ((val.source_index < 0 || val.dirty) && !written.count(val.name)) WriteValueInfo(val, gp->add_input());
    }
  }
  // Outputs.
  std::unordered_map<std::string, const dopt_onnx::ValueInfoProto*> orig_out;
  for (const auto& vi : original.output()) orig_out[vi.name()] = &vi;
  for (int id : g.outputs) {
    const Value& v = g.values[id];
    auto it = orig_out.find(v.name);
    if (it != orig_out.end() && !v.dirty) {
      *gp->add_output() = *it->second;
    } else if (probe) {
      // Dims that moved with the open input dims stay open.
      Value open = v;
      const Value& p = probe->value(id);
      for (size_t d = 0; d < open.shape.size(); ++d)
        if (!p.rank_known || d >= p.shape.size() || p.shape[d] != open.shape[d]) open.shape[d] = -1;
      WriteValueInfo(open, gp->add_output());
    } else {
      WriteValueInfo(v, gp->add_output());
    }
  }
  // Value infos: keep the source's entries for values that still exist.
  for (const auto& vi : original.value_info())
    if (g.FindValue(vi.name()) >= 0) *gp->add_value_info() = vi;
  // Nodes.
  for (const Node& n : g.nodes) {
    auto* np = gp->add_node();
    if (have_source && !n.dirty && n.source_index >= 0 && n.source_index < original.node_size()) {
      *np = original.node(n.source_index);
      continue;
    }
    WriteNode(g, n, np);
  }
  std::string out;
  if (model.ByteSizeLong() > (size_t{2} << 30) - 1)
    return Unimplemented("the model is larger than 2 GiB; external-data output is not supported yet");
  if (!model.SerializeToString(&out)) return Internal("serialising the ONNX model failed");
  return out;
}

Status SaveOnnxModel(const Graph& graph, const std::string& path) {
  if (!graph.info.path.empty() && SameFile(graph.info.path, path))
    return InvalidArgument(path + ": refusing to overwrite the input model");
  auto bytes = SerializeOnnxModel(graph);
  if (!bytes.ok()) return bytes.status().WithContext(path);
  return WriteFileAtomic(path, *bytes);
}

}  // namespace dopt

namespace dopt {
StatusOr<Tensor> ReadOnnxTensorFile(const std::string& path) {
  DOPT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  dopt_onnx::TensorProto tp;
  if (!tp.ParseFromString(bytes)) return InvalidArgument(path + ": not a serialized ONNX TensorProto");
  auto t = TensorFromProto(tp, DirName(path));
  if (!t.ok()) return t.status().WithContext(path);
  return t;
}
}  // namespace dopt
