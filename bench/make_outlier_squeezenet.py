#!/usr/bin/env python3
"""Writes the "outlier" SqueezeNet of issue 15: a float-equivalent rewrite of the shared
SqueezeNet 1.0 (../shared/testdata/models/onnx/squeezenet1.0_fp16.onnx: float16 weights,
opset 7) in which one channel of one activation has a range 100x the others, as channels of
real models sometimes do.

Output channel k of fire3/squeeze1x1's Conv (weights and bias) is multiplied by --factor
(default 100) and input channel k of the two Convs reading its (ReLU'd) output,
fire3/expand1x1 and fire3/expand3x3, by 1 / factor. ReLU is positively homogeneous, so the
float model computes the same function (up to float16 rounding of the rewritten weights); a
per-tensor int8 activation range of fire3/squeeze1x1_2, however, is now 100x wider. The nodes
have no names in this file: they are found by their weight initializers.

Never commit the model; write it somewhere temporary:
  python3 bench/make_outlier_squeezenet.py /tmp/squeezenet_outlier.onnx
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "testdata", "models", "onnx",
                                      "squeezenet1.0_fp16.onnx"))
SQUEEZE_W, SQUEEZE_B = "fire3/squeeze1x1_w_0", "fire3/squeeze1x1_b_0"
CONSUMERS = ["fire3/expand1x1_w_0", "fire3/expand3x3_w_0"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", help="where to write the model (.onnx)")
    ap.add_argument("--model", default=MODEL, help="the SqueezeNet 1.0 ONNX file")
    ap.add_argument("--channel", type=int, default=0, help="the channel k of fire3/squeeze1x1 (default 0)")
    ap.add_argument("--factor", type=float, default=100.0)
    a = ap.parse_args()
    import onnx
    from onnx import numpy_helper
    m = onnx.load(a.model)
    inits = {t.name: i for i, t in enumerate(m.graph.initializer)}
    for name in [SQUEEZE_W, SQUEEZE_B] + CONSUMERS:
        if name not in inits:
            sys.exit(f"{a.model}: no initializer {name}")
    # The squeeze output must feed exactly the two expand Convs (through its Relu).
    readers = [n for n in m.graph.node if any(i == "fire3/squeeze1x1_2" for i in n.input)]
    assert sorted(n.input[1] for n in readers) == sorted(CONSUMERS), [n.input for n in readers]

    def update(name, fn):
        t = m.graph.initializer[inits[name]]
        arr = numpy_helper.to_array(t)
        new = fn(arr.astype(np.float64)).astype(arr.dtype)
        m.graph.initializer[inits[name]].CopyFrom(numpy_helper.from_array(new, name))

    k, f = a.channel, a.factor

    def scale_out(w):
        w[k] *= f
        return w

    def scale_in(w):
        w[:, k] /= f
        return w
    update(SQUEEZE_W, scale_out)
    update(SQUEEZE_B, scale_out)
    for c in CONSUMERS:
        update(c, scale_in)
    onnx.save(m, a.output)
    print(f"wrote {a.output}: fire3/squeeze1x1 output channel {k} x{f:g}, fire3/expand1x1 and "
          f"fire3/expand3x3 input channel {k} x1/{f:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
