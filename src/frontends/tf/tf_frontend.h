// TensorFlow frozen GraphDef (.pb) in and out, natively (no TensorFlow in the binary). The
// protobuf types stay inside src/frontends/tf/.
//
// The layout and naming contract (the TF exporter relies on it):
//  (a) Every IR value named exactly like a TF tensor ("N" for N:0, "N:k" for k > 0) holds
//      that tensor in TF's own layout, so --input_shape, --out_nodes, cut points and the
//      outputs of `dopt run` use TF names and TF layouts. Graph inputs are Placeholders (or
//      cut points), graph outputs are TF-layout values.
//  (b) Nodes and values the frontend adds are named "<TF node name>/dopt_<suffix>". The
//      NCHW form of an NHWC tensor X is the value "X/dopt_nchw", made once by a Transpose
//      [0,3,1,2] node of the same name. NHWC Conv2D / DepthwiseConv2dNative /
//      Conv2DBackpropInput / MaxPool / AvgPool / FusedBatchNorm / Resize* run in NCHW: their
//      IR node reads "X/dopt_nchw" and writes "Y/dopt_nchw" (Y = the TF output), and the TF
//      value Y = Transpose [0,2,3,1] of it (node "<node>/dopt_nhwc"). Layout-agnostic
//      consumers of a tensor that has an NCHW form stay in NCHW (unary elementwise ops,
//      BiasAdd, FusedBatchNorm, binary ops on two NCHW tensors or on an NCHW tensor and a
//      constant, ConcatV2 on the channel axis, Pad, Mean/Sum/Max with keep_dims), so that
//      Conv2D -> BiasAdd -> FusedBatchNorm -> Relu becomes Conv -> Add -> BatchNormalization
//      -> Relu on NCHW values. Transposes nothing needs are removed after conversion.
//  (c) The IR node implementing TF node N is named N: Conv2D -> Conv, DepthwiseConv2dNative
//      -> Conv with group = C, Conv2DBackpropInput -> ConvTranspose, MatMul /
//      BatchMatMulV2 -> MatMul, BiasAdd -> Add(x, bias) (bias as an initializer
//      "<bias>/dopt_c11" of shape [C,1,1] in NCHW, the bias itself otherwise),
//      FusedBatchNorm* -> BatchNormalization (scale, offset, mean, variance inputs as given).
//      Weights are initializers converted from the filter constant F: Conv2D HWIO -> OIHW,
//      DepthwiseConv2dNative HWCM -> [C*M,1,H,W], Conv2DBackpropInput HWOI -> IOHW, each
//      named "F/dopt_oihw"; MatMul transpose_b=true pre-transposes the constant B into "B/dopt_t".
//      Constant operands of NCHW binary ops are initializers "<const>/dopt_nchw".
// For exporters in this folder: tf_graphdef.h parses source_bytes again (ParseGraphDef) and
// converts tensors (TensorFromProto / TensorToProto); tf_graph_writer.h builds GraphDefs from
// plain C++ node specs.
// Function calls (PartitionedCall / StatefulPartitionedCall of GraphDef.library, nested) are
// inlined before conversion (tf_functions.h): body nodes are "<call>/<node>", the call an
// Identity / IdentityN named like it; the flat GraphDef becomes graph.info.source_bytes.
// TF Const nodes become initializers named like the node. Ops that only feed what a cut
// point replaces are never converted (DecodeWav / AudioSpectrogram / Mfcc in front of a
// cut at "Mfcc"); an unsupported op the chosen outputs need is an error naming node and op.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dopt/status.h"
#include "ir/graph.h"

namespace dopt {

struct TfLoadOptions {
  bool prepare = true;  // resolve ops, sort, verify and infer shapes
  // Graph inputs: Placeholder names or inner tensors ("Mfcc", "x:0", "N:1") with their shapes
  // (an empty shape keeps a Placeholder's own). An inner tensor becomes a graph input and
  // what only feeds it is dropped.
  std::vector<std::pair<std::string, Shape>> inputs;
  // Graph outputs (TF tensor names); empty: every tensor no node consumes (Const, NoOp and
  // Placeholder nodes excepted).
  std::vector<std::string> outputs;
};

StatusOr<Graph> LoadTfModel(const std::string& path, const TfLoadOptions& options = {});
// Safe on arbitrary bytes: malformed graphs are errors, never crashes.
StatusOr<Graph> LoadTfModelFromBytes(const std::string& bytes, const std::string& name,
                                     const TfLoadOptions& options = {});

// The source GraphDef (graph.info.source_bytes) parsed and serialized again: the same
// message, unknown fields included. For `dopt resave` on a .pb.
StatusOr<std::string> SerializeTfGraphDef(const Graph& graph);
// Parses GraphDef bytes and serializes them again (what `dopt resave` does for a .pb: no
// conversion, so graphs that need a cut to convert can be resaved too).
StatusOr<std::string> ReserializeTfGraphDef(const std::string& bytes, const std::string& name);
// SerializeTfGraphDef + atomic write; refuses to overwrite the graph's own source file.
Status SaveTfGraphDef(const Graph& graph, const std::string& path);

// TF's SAME padding for one spatial dim: {before, after} (total = max((ceil(in/stride)-1)*
// stride + (k-1)*dilation + 1 - in, 0), before = total/2, the extra one after).
std::pair<int64_t, int64_t> TfSamePadding(int64_t in, int64_t k, int64_t stride, int64_t dilation);

// The TF op types the frontend converts, sorted.
std::vector<std::string> SupportedTfOps();

}  // namespace dopt
