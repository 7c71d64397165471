"""Small ONNX models and data files that the e2e tests build on the fly (onnx.helper)."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

X_SHAPE = [1, 1, 8, 8]


def _model(nodes, inputs, outputs, initializers=(), opset=13, ir_version=8, name="g") -> onnx.ModelProto:
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    m = helper.make_model(graph, producer_name="dopt-tests", opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = ir_version
    return m


def add_relu(dtype=TensorProto.FLOAT, out_name="output", opset=13, ir_version=8) -> onnx.ModelProto:
    """input [1,1,8,8] -> Relu -> Add(bias) -> out_name. Only ops that dopt has today."""
    np_dtype = helper.tensor_dtype_to_np_dtype(dtype)
    bias = (np.arange(64, dtype=np.float32).reshape(X_SHAPE) / 64 - 0.5).astype(np_dtype)
    return _model(
        [helper.make_node("Relu", ["input"], ["r"], name="relu"),
         helper.make_node("Add", ["r", "bias"], [out_name], name="add")],
        [helper.make_tensor_value_info("input", dtype, X_SHAPE)],
        [helper.make_tensor_value_info(out_name, dtype, X_SHAPE)],
        [numpy_helper.from_array(bias, "bias")], opset=opset, ir_version=ir_version)


def cast_to_float(dtype=TensorProto.INT32) -> onnx.ModelProto:
    """input [1,1,8,8] of `dtype` -> Cast to float32 -> output."""
    return _model(
        [helper.make_node("Cast", ["input"], ["output"], name="cast", to=TensorProto.FLOAT)],
        [helper.make_tensor_value_info("input", dtype, X_SHAPE)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, X_SHAPE)])


def add_relu_reference(x: np.ndarray) -> np.ndarray:
    bias = np.arange(64, dtype=np.float32).reshape(X_SHAPE) / 64 - 0.5
    return np.maximum(x.astype(np.float32), 0) + bias


def unknown_op() -> onnx.ModelProto:
    return _model([helper.make_node("FrobnicateTensor", ["input"], ["output"], name="frob", domain="")],
                  [helper.make_tensor_value_info("input", TensorProto.FLOAT, X_SHAPE)],
                  [helper.make_tensor_value_info("output", TensorProto.FLOAT, X_SHAPE)])


def control_flow_sequence() -> onnx.ModelProto:
    """An If whose branches return sequences (SequenceConstruct): dopt has tensors only."""
    def seq(name, elem, shape):
        return helper.make_value_info(name, helper.make_sequence_type_proto(helper.make_tensor_type_proto(elem, shape)))
    def branch(name, op):
        return helper.make_graph([helper.make_node(op, ["input"], [f"{name}_t"]),
                                  helper.make_node("SequenceConstruct", [f"{name}_t"], [f"{name}_out"])], name, [],
                                 [seq(f"{name}_out", TensorProto.FLOAT, X_SHAPE)])
    return _model([helper.make_node("If", ["cond"], ["output"], name="choose",
                                    then_branch=branch("then", "Relu"), else_branch=branch("else", "Identity"))],
                  [helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
                   helper.make_tensor_value_info("input", TensorProto.FLOAT, X_SHAPE)],
                  [seq("output", TensorProto.FLOAT, X_SHAPE)])


def conv_int64() -> onnx.ModelProto:
    w = numpy_helper.from_array(np.ones((1, 1, 3, 3), dtype=np.int64), "w")
    return _model([helper.make_node("Conv", ["input", "w"], ["output"], name="conv", kernel_shape=[3, 3])],
                  [helper.make_tensor_value_info("input", TensorProto.INT64, X_SHAPE)],
                  [helper.make_tensor_value_info("output", TensorProto.INT64, None)], [w])


def conv_four_inputs() -> onnx.ModelProto:
    """A Conv with a fourth input (X, W, B and one more): ONNX's Conv takes 2 or 3."""
    w = numpy_helper.from_array(np.ones((1, 1, 3, 3), dtype=np.float32), "w")
    b = numpy_helper.from_array(np.zeros((1,), dtype=np.float32), "b")
    return _model([helper.make_node("Conv", ["input", "w", "b", "input"], ["output"], name="conv", kernel_shape=[3, 3],
                                    pads=[1, 1, 1, 1])],
                  [helper.make_tensor_value_info("input", TensorProto.FLOAT, X_SHAPE)],
                  [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)], [w, b])


def string_input() -> onnx.ModelProto:
    return _model([helper.make_node("Identity", ["input"], ["output"], name="id")],
                  [helper.make_tensor_value_info("input", TensorProto.STRING, [1])],
                  [helper.make_tensor_value_info("output", TensorProto.STRING, [1])])


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


def bin_bytes(x: np.ndarray, magic: int = 610) -> bytes:
    """The original tool's .bin: int32 magic, then (610) rank + dims or (510) N,C,H,W, then float32."""
    x = np.ascontiguousarray(x, dtype="<f4")
    if magic == 610:
        header = struct.pack(f"<ii{x.ndim}i", 610, x.ndim, *x.shape)
    elif magic == 510:
        assert x.ndim == 4
        header = struct.pack("<5i", 510, *x.shape)
    else:
        header = struct.pack(f"<ii{x.ndim}i", magic, x.ndim, *x.shape)
    return header + x.tobytes()
