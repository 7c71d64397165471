"""Generates the calibration set of the toy model tiny_cnn.onnx (make_tiny_cnn.py; used by
tests and fuzz/make_corpus.sh, not by the README's example): examples/calib.bin (the original
tool's 610 format: int32 610, int32 rank, rank x int32 dims, float32 data) holding 32 samples of
[1, 8, 8] drawn like examples/input.npy (uniform 0..1, fixed seed), and the config that points
at it, examples/config.prototxt.

    python3 examples/make_calibration.py [OUT_DIR]

`dopt make-bin --npy A.npy -o calib.bin` writes the same format from .npy arrays.
"""
import os
import struct
import sys

import numpy as np

CONFIG = """\
// Calibration config of the toy model tiny_cnn.onnx (the original tool's config.prototxt format).
strategy: "Quant_INT8-8"
device: USE_CPU
preprocess_parameter: {
  input_type: BINARY
  input_file_path: "calib.bin"   // relative to this file's folder
}
// dopt's own fields (all optional):
// calibration_method: "mse"   // minmax | kl | percentile | mse (default mse)
// percentile: 99.99
// per_channel: true
// symmetric_activations: false
"""


def main() -> int:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    x = np.random.default_rng(2).random((32, 1, 8, 8), dtype=np.float32)
    with open(os.path.join(out_dir, "calib.bin"), "wb") as f:
        f.write(struct.pack("<ii", 610, x.ndim) + struct.pack(f"<{x.ndim}i", *x.shape))
        f.write(x.astype("<f4").tobytes())
    with open(os.path.join(out_dir, "config.prototxt"), "w") as f:
        f.write(CONFIG)
    print(f"wrote {out_dir}/calib.bin {list(x.shape)} and {out_dir}/config.prototxt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
