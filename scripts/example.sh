#!/usr/bin/env bash
# The main job: install dopt with pip and quantize the bundled example, a small trained MNIST CNN.
#   bash scripts/example.sh
# Installs the build dependencies, runs `pip install .` (scikit-build-core builds the C++
# project with CMake and puts the `dopt` executable on PATH), then quantizes the bundled model
# with the original tool's flags:
#   dopt -m 0 --framework 5 --model examples/mnist_cnn.onnx --cal_conf examples/mnist_config.prototxt
#        --output out/mnist_cnn_int8.onnx --input_format NCHW --input_shape "input: 1,1,28,28"
#        --out_nodes "logits" --compress_conf out/mnist_cnn_param
# (calibration data: examples/mnist_calib.bin, 200 MNIST digits), prints dopt's summary and the
# compress_conf, runs the float and the int8 model with `dopt run` on the 800 held-out digits
# of examples/mnist_holdout.npz (one batch) and prints their top-1 accuracies and agreement.
# The batch in --input_shape is the calibration batch; the int8 model keeps the float model's
# dynamic batch, so both run the 800 digits at once. The model and data are committed;
# examples/train_mnist.py made them
# (examples/LICENSE-data.md). Needs numpy only, besides dopt.
#
#   DOPT_BIN=/path/to/dopt bash scripts/example.sh
# uses that dopt executable instead: skips install_deps.sh and `pip install .`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
if [[ -n ${DOPT_BIN:-} ]]; then
  DOPT=$DOPT_BIN
  if [[ ! -x $DOPT ]]; then echo "example: DOPT_BIN=$DOPT is not an executable" >&2; exit 1; fi
else
  bash scripts/install_deps.sh

  # ccache keys on relative paths, so builds from other checkouts are reused.
  export CCACHE_BASEDIR=$PWD
  pip_flags=(--quiet --disable-pip-version-check --root-user-action=ignore)
  if "$PYTHON" -c 'import sys,sysconfig,os; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"),"EXTERNALLY-MANAGED")) else 1)'; then
    pip_flags+=(--break-system-packages)
  fi
  echo "example: pip install . (builds dopt with CMake; the first build takes a few minutes)" >&2
  "$PYTHON" -m pip install "${pip_flags[@]}" .

  # pip puts dopt in the environment's scripts folder; find it even when that is not on PATH.
  DOPT=$("$PYTHON" -c 'import sysconfig, os; p = os.path.join(sysconfig.get_path("scripts"), "dopt"); print(p if os.access(p, os.X_OK) else "")')
  if [[ -z $DOPT ]]; then DOPT=$(command -v dopt || true); fi
  if [[ -z $DOPT ]]; then echo "example: pip install . did not install a dopt executable" >&2; exit 1; fi
fi
echo "example: using $DOPT ($("$DOPT" --version))" >&2

rm -rf out
mkdir -p out
# The held-out digits as one float32 batch [800,1,28,28], pixel / 255 (the model's input).
"$PYTHON" -c '
import numpy as np
x = np.load("examples/mnist_holdout.npz")["x"]
np.save("out/mnist_holdout.npy", (x.astype(np.float32) / 255)[:, None])'
set -x
"$DOPT" -m 0 --framework 5 --model examples/mnist_cnn.onnx --cal_conf examples/mnist_config.prototxt \
  --output out/mnist_cnn_int8.onnx --input_format NCHW --input_shape "input: 1,1,28,28" \
  --out_nodes "logits" --compress_conf out/mnist_cnn_param
"$DOPT" inspect out/mnist_cnn_param
"$DOPT" run --model examples/mnist_cnn.onnx --input input=out/mnist_holdout.npy --output_dir out/float
"$DOPT" run --model out/mnist_cnn_int8.onnx --input input=out/mnist_holdout.npy --output_dir out/int8
{ set +x; } 2>/dev/null

"$PYTHON" - <<'PY'
import numpy as np
y = np.load("examples/mnist_holdout.npz")["y"]
f = np.load("out/float/logits.npy").argmax(axis=1)
q = np.load("out/int8/logits.npy").argmax(axis=1)
pct = lambda a: f"{100 * float(np.mean(a)):.1f} %"
print(f"held-out digits: {len(y)}  float top-1 {pct(f == y)}  int8 top-1 {pct(q == y)}  agreement {pct(f == q)}")
print(f"  (correct: float {int((f == y).sum())}, int8 {int((q == y).sum())}; "
      f"{int((f != q).sum())} digit(s) classified differently)")
PY
