#include "frontends/tf/tf_graphdef.h"

#include <cstring>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace dopt {

StatusOr<dopt_tf::GraphDef> ParseGraphDef(const std::string& bytes, const std::string& name) {
  dopt_tf::GraphDef gd;
  if (!gd.ParseFromString(bytes)) return InvalidArgument(name + ": not a TensorFlow GraphDef (protobuf parse failed)");
  return gd;
}

StatusOr<DType> FromTfType(int t) {
  if (t > 100) t -= 100;
  switch (t) {
    case dopt_tf::DT_FLOAT: return DType::kFloat32;
    case dopt_tf::DT_DOUBLE: return DType::kFloat32;
    case dopt_tf::DT_HALF: return DType::kFloat16;
    case dopt_tf::DT_BFLOAT16: return DType::kBFloat16;
    case dopt_tf::DT_INT8: return DType::kInt8;
    case dopt_tf::DT_UINT8: return DType::kUInt8;
    case dopt_tf::DT_INT16: return DType::kInt16;
    case dopt_tf::DT_INT32: return DType::kInt32;
    case dopt_tf::DT_INT64: return DType::kInt64;
    case dopt_tf::DT_BOOL: return DType::kBool;
    case dopt_tf::DT_STRING: return DType::kString;
    default: {
      const std::string& n = dopt_tf::DataType_Name((dopt_tf::DataType)t);
      return Unimplemented("TensorFlow data type " + (n.empty() ? std::to_string(t) : n) + " is not supported");
    }
  }
}

int ToTfType(DType t) {
  switch (t) {
    case DType::kFloat32: return dopt_tf::DT_FLOAT;
    case DType::kFloat16: return dopt_tf::DT_HALF;
    case DType::kBFloat16: return dopt_tf::DT_BFLOAT16;
    case DType::kInt8: return dopt_tf::DT_INT8;
    case DType::kUInt8: return dopt_tf::DT_UINT8;
    case DType::kInt16: return dopt_tf::DT_INT16;
    case DType::kInt32: return dopt_tf::DT_INT32;
    case DType::kInt64: return dopt_tf::DT_INT64;
    case DType::kBool: return dopt_tf::DT_BOOL;
    default: return dopt_tf::DT_INVALID;
  }
}

namespace {

// Fills n elements of `dst` (type T) from a repeated field: TF repeats the last value when the
// list is shorter than the tensor.
template <typename T, typename Field>
Status FillFrom(const Field& f, T* dst, int64_t n, const char* field) {
  if ((int64_t)f.size() > n) {
    return InvalidArgument(std::string("tensor has ") + std::to_string(f.size()) + " " + field +
                           " values for " + std::to_string(n) + " elements");
  }
  if (f.size() == 0) return Status::Ok();  // zeros
  for (int64_t i = 0; i < n; ++i) dst[i] = (T)f.Get(i < f.size() ? (int)i : f.size() - 1);
  return Status::Ok();
}

}  // namespace

StatusOr<Tensor> TensorFromProto(const dopt_tf::TensorProto& tp, int64_t max_elements) {
  const bool is_double = tp.dtype() == dopt_tf::DT_DOUBLE;
  DOPT_ASSIGN_OR_RETURN(DType dt, FromTfType(tp.dtype()));
  if (dt == DType::kString) return Unimplemented("string tensors are not supported");
  if (tp.tensor_shape().unknown_rank()) return InvalidArgument("tensor has an unknown rank");
  Shape shape;
  int64_t n = 1;
  for (const auto& d : tp.tensor_shape().dim()) {
    if (d.size() < 0) return InvalidArgument("tensor has a negative dim " + std::to_string(d.size()));
    if (d.size() > 0 && n > max_elements / d.size()) {
      return InvalidArgument("tensor is too large (over " + std::to_string(max_elements) + " elements)");
    }
    n *= d.size();
    shape.push_back(d.size());
  }
  if (shape.size() > 16) return InvalidArgument("tensor has rank " + std::to_string(shape.size()) + " (at most 16)");
  const size_t esz = is_double ? 8 : DTypeSize(dt);
  if (!tp.tensor_content().empty()) {
    if (tp.tensor_content().size() != (size_t)n * esz) {
      return InvalidArgument("tensor_content holds " + std::to_string(tp.tensor_content().size()) + " bytes, shape " +
                             ShapeToString(shape) + " of " + DTypeName(dt) + " needs " + std::to_string((size_t)n * esz));
    }
    Tensor t = Tensor::Uninitialized(dt, shape);
    if (is_double) {
      const char* src = tp.tensor_content().data();
      float* dst = t.data<float>();
      for (int64_t i = 0; i < n; ++i) {
        double v;
        std::memcpy(&v, src + i * 8, 8);
        dst[i] = (float)v;
      }
    } else if (n > 0) {
      std::memcpy(t.raw(), tp.tensor_content().data(), (size_t)n * esz);
    }
    return t;
  }
  // A short *_val list is broadcast: bound what a few bytes of input can make us allocate.
  if (n > (int64_t(1) << 26)) {
    return InvalidArgument("tensor of shape " + ShapeToString(shape) + " given by " +
                           "a short value list is too large (over 2^26 elements)");
  }
  Tensor t(dt, shape);
  Status st;
  switch (tp.dtype() > 100 ? tp.dtype() - 100 : tp.dtype()) {
    case dopt_tf::DT_FLOAT: st = FillFrom(tp.float_val(), t.data<float>(), n, "float_val"); break;
    case dopt_tf::DT_DOUBLE: st = FillFrom(tp.double_val(), t.data<float>(), n, "double_val"); break;
    case dopt_tf::DT_INT32: st = FillFrom(tp.int_val(), t.data<int32_t>(), n, "int_val"); break;
    case dopt_tf::DT_INT16: st = FillFrom(tp.int_val(), t.data<int16_t>(), n, "int_val"); break;
    case dopt_tf::DT_INT8: st = FillFrom(tp.int_val(), t.data<int8_t>(), n, "int_val"); break;
    case dopt_tf::DT_UINT8: st = FillFrom(tp.int_val(), t.data<uint8_t>(), n, "int_val"); break;
    case dopt_tf::DT_INT64: st = FillFrom(tp.int64_val(), t.data<int64_t>(), n, "int64_val"); break;
    case dopt_tf::DT_BOOL: st = FillFrom(tp.bool_val(), t.data<bool>(), n, "bool_val"); break;
    case dopt_tf::DT_HALF:
    case dopt_tf::DT_BFLOAT16: st = FillFrom(tp.half_val(), t.data<uint16_t>(), n, "half_val"); break;
    default: return Unimplemented(std::string("tensors of ") + DTypeName(dt) + " are not supported");
  }
  DOPT_RETURN_IF_ERROR(st);
  return t;
}

StatusOr<dopt_tf::TensorProto> TensorToProto(const Tensor& t) {
  int tt = ToTfType(t.dtype());
  if (tt == dopt_tf::DT_INVALID) return InvalidArgument(std::string("cannot write a ") + DTypeName(t.dtype()) + " tensor");
  dopt_tf::TensorProto tp;
  tp.set_dtype((dopt_tf::DataType)tt);
  for (int64_t d : t.shape()) tp.mutable_tensor_shape()->add_dim()->set_size(d);
  tp.set_tensor_content(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
  return tp;
}

StatusOr<std::string> SerializeGraphDef(const dopt_tf::GraphDef& gd) {
  std::string out;
  bool ok;
  {
    google::protobuf::io::StringOutputStream sos(&out);
    google::protobuf::io::CodedOutputStream cos(&sos);
    cos.SetSerializationDeterministic(true);
    ok = gd.SerializeToCodedStream(&cos);
  }
  if (!ok) return Internal("cannot serialize the GraphDef");
  return out;
}

std::string DescribeTfNode(const dopt_tf::NodeDef& n) { return "node '" + n.name() + "' (" + n.op() + ")"; }

}  // namespace dopt
