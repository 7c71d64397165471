// GraphDef parsing and TensorProto <-> Tensor conversion, for the TF frontend and the TF
// exporter. Includes the generated protobuf header: only files in src/frontends/tf/ may
// include this one.
#pragma once

#include <string>

#include "dopt/status.h"
#include "ir/tensor.h"
#include "tf_graph.pb.h"

namespace dopt {

// Parses serialized GraphDef bytes; `name` (the file) prefixes errors. Unknown fields are kept.
StatusOr<dopt_tf::GraphDef> ParseGraphDef(const std::string& bytes, const std::string& name);

// TF DataType <-> IR dtype (DT_DOUBLE reads as float32; *_REF types as their base type).
StatusOr<DType> FromTfType(int t);
int ToTfType(DType t);  // DT_INVALID when TF has no such type

// Reads a TensorProto (tensor_content or the typed *_val fields, a short *_val list repeated
// or its last value broadcast as TF does). Errors on bad shapes, size mismatches, unsupported
// dtypes and tensors over `max_elements`.
StatusOr<Tensor> TensorFromProto(const dopt_tf::TensorProto& tp, int64_t max_elements = int64_t(1) << 28);
// Writes a tensor as a TensorProto with tensor_content (float32/int types).
StatusOr<dopt_tf::TensorProto> TensorToProto(const Tensor& t);

// Serializes deterministically (map entries sorted by key, as TensorFlow writes them), so that
// an unchanged GraphDef is written back byte for byte.
StatusOr<std::string> SerializeGraphDef(const dopt_tf::GraphDef& gd);

// "node 'name' (Op)".
std::string DescribeTfNode(const dopt_tf::NodeDef& n);

}  // namespace dopt
