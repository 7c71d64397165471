"""Generates the toy model examples/tiny_cnn.onnx (random weights) and its input examples/input.npy.

Not the README's example (that is mnist_cnn.onnx, train_mnist.py): these files are kept for the
e2e tests (test_vs_onnxruntime, test_run_cut, test_errors, test_roundtrip) and fuzz/make_corpus.sh.

    python3 examples/make_tiny_cnn.py [OUT_DIR]

The network is a tiny image classifier: Conv(1->4, 3x3, pad 1) -> Relu -> MaxPool(2x2)
-> Flatten -> Gemm(64->10) -> Softmax, on a [1, 1, 8, 8] float32 input. Weights come from a
fixed seed, so running this again gives byte-identical files. IR version 8, opset 13.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(seed: int = 0):
    rng = np.random.default_rng(seed)
    w_conv = (rng.standard_normal((4, 1, 3, 3)) * 0.5).astype(np.float32)
    b_conv = (rng.standard_normal(4) * 0.1).astype(np.float32)
    w_fc = (rng.standard_normal((10, 64)) * 0.2).astype(np.float32)  # Gemm with transB=1
    b_fc = (rng.standard_normal(10) * 0.1).astype(np.float32)

    nodes = [
        helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["conv_out"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["conv_out"], ["relu_out"], name="relu"),
        helper.make_node("MaxPool", ["relu_out"], ["pool_out"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool_out"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=-1),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        inputs=[helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
        outputs=[helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 10])],
        initializer=[
            numpy_helper.from_array(w_conv, "conv.weight"),
            numpy_helper.from_array(b_conv, "conv.bias"),
            numpy_helper.from_array(w_fc, "fc.weight"),
            numpy_helper.from_array(b_fc, "fc.bias"),
        ],
    )
    model = helper.make_model(graph, producer_name="dopt-examples", producer_version="0.1.0",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)

    x = np.random.default_rng(seed + 1).random((1, 1, 8, 8), dtype=np.float32)
    return model, x


def main() -> int:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    model, x = build()
    onnx.save(model, os.path.join(out_dir, "tiny_cnn.onnx"))
    np.save(os.path.join(out_dir, "input.npy"), x)
    print(f"wrote {out_dir}/tiny_cnn.onnx ({model.ByteSize()} bytes) and {out_dir}/input.npy {list(x.shape)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
