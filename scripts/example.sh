#!/usr/bin/env bash
# The main job: install dopt with pip and run it on the bundled example model.
#   bash scripts/example.sh
# Installs the build dependencies, runs `pip install .` (scikit-build-core builds the C++
# project with CMake and puts the `dopt` executable on PATH), then quantizes the bundled model
# with the original tool's flags:
#   dopt -m 0 --framework 5 --model examples/tiny_cnn.onnx --cal_conf examples/config.prototxt
#        --output out/tiny_cnn_int8.onnx --input_format NCHW --input_shape "input: 1,1,8,8"
#        --out_nodes "probs" --compress_conf out/tiny_cnn_param
# (calibration data: examples/calib.bin, 32 samples), prints dopt's summary and the
# compress_conf, and runs the float and the int8 model on examples/input.npy side by side.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
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
echo "example: using $DOPT ($("$DOPT" --version))" >&2

if [[ ! -f examples/tiny_cnn.onnx || ! -f examples/input.npy ]]; then
  "$PYTHON" examples/make_tiny_cnn.py
fi
if [[ ! -f examples/calib.bin || ! -f examples/config.prototxt ]]; then
  "$PYTHON" examples/make_calibration.py
fi

rm -rf out
mkdir -p out
set -x
"$DOPT" -m 0 --framework 5 --model examples/tiny_cnn.onnx --cal_conf examples/config.prototxt \
  --output out/tiny_cnn_int8.onnx --input_format NCHW --input_shape "input: 1,1,8,8" \
  --out_nodes "probs" --compress_conf out/tiny_cnn_param
"$DOPT" inspect out/tiny_cnn_param
"$DOPT" run --model examples/tiny_cnn.onnx --input input=examples/input.npy --output_dir out/float
"$DOPT" run --model out/tiny_cnn_int8.onnx --input input=examples/input.npy --output_dir out/int8
{ set +x; } 2>/dev/null

"$PYTHON" - <<'PY'
import numpy as np
np.set_printoptions(precision=5, suppress=True, linewidth=100)
f, q = np.load("out/float/probs.npy"), np.load("out/int8/probs.npy")
print(f"float probs: {f}\nint8  probs: {q}")
print(f"max |float - int8| = {float(np.abs(f - q).max()):.5f}")
PY
