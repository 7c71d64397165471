#!/usr/bin/env bash
# Installs what dopt's build and tests need on Debian 12 (run as root, or with sudo present).
# Idempotent and non-interactive: when every Debian package is already installed, apt is not
# touched at all, and pip only checks what is there.
set -euo pipefail

APT_PACKAGES=(
  protobuf-compiler libprotobuf-dev
  libopencv-dev libjpeg-dev libpng-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libonnx-testdata
  libdnnl-dev libopenblas-dev libeigen3-dev
  ccache ninja-build cmake g++ pkg-config
  clang-14 libclang-rt-14-dev libomp-14-dev  # libFuzzer + sanitizer runtimes (fuzz/, docs/reliability.md)
  chromium  # headless: tests/e2e/test_report_browser.py loads the HTML report (DOPT_REQUIRE_BROWSER=1)
  espeak-ng sox fonts-dejavu-core fonts-dejavu-extra fonts-wqy-microhei  # speech, Latin and Chinese text lines for tests/e2e/test_sequence_task_metrics.py
)
# numpy/onnx/onnxruntime/pytest run the end-to-end tests (in the test process only; dopt itself
# never imports Python). scikit-build-core builds the wheel for `pip install .`.
# tensorflow-cpu proves the TensorFlow path's outputs in TF; torch (pinned: the CPU build, a
# bare `torch` pulls a multi-GB CUDA build) runs the PyTorch path's helper and proves its .pt.
# An entry is "pip spec" or "pip spec@import name" when the two differ.
# pillow renders the text lines of tests/e2e/test_sequence_task_metrics.py.
PIP_PACKAGES=(numpy onnx onnxruntime pytest scikit-build-core "pillow@PIL"
  "tensorflow-cpu==2.21.0@tensorflow" "torch==2.13.0@torch" "transformers==5.25.0@transformers")
# Installed with --no-deps: tf_keras (Keras 2 for the TF tests' frozen Keras-2 models) requires
# the `tensorflow` distribution, which would pull a second TensorFlow beside tensorflow-cpu.
PIP_NODEPS_PACKAGES=("tf_keras==2.21.0@tf_keras")

log() { echo "install_deps: $*" >&2; }

# One dpkg query for all packages; a package is present when its status is "install ok installed".
missing=()
declare -A installed=()
while read -r name status; do
  [[ $status == "install ok installed" ]] && installed[${name%%:*}]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null || true)
for p in "${APT_PACKAGES[@]}"; do
  [[ -n ${installed[$p]:-} ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null; then SUDO=(sudo); else log "need root to install: ${missing[*]}"; exit 1; fi
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "Debian packages: all ${#APT_PACKAGES[@]} present"
fi

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
  log "no pip for $PYTHON; installing python3-pip"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q --no-install-recommends python3-pip python3-venv
fi

# Only call pip install when something is missing (pip's own "already satisfied" check is
# slow-ish and chatty).
# Prints the specs of the entries whose import name is missing.
missing_specs() {
  "$PYTHON" - "$@" <<'PY'
import importlib.util, sys
def module(entry):
    spec, _, mod = entry.partition("@")
    return mod or spec.split("=")[0].replace("-", "_")
print(" ".join(e.split("@")[0] for e in sys.argv[1:] if importlib.util.find_spec(module(e)) is None))
PY
}
need_pip=()
read -r -a need_pip < <(missing_specs "${PIP_PACKAGES[@]}")
need_nodeps=()
read -r -a need_nodeps < <(missing_specs "${PIP_NODEPS_PACKAGES[@]}")
if ((${#need_pip[@]})); then
  log "installing Python packages: ${need_pip[*]}"
  pip_flags=(--quiet --disable-pip-version-check --root-user-action=ignore)
  # Debian's own Python refuses system-wide pip installs (PEP 668) unless told otherwise.
  if "$PYTHON" -c 'import sys,sysconfig,os; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"),"EXTERNALLY-MANAGED")) else 1)'; then
    pip_flags+=(--break-system-packages)
  fi
  "$PYTHON" -m pip install "${pip_flags[@]}" "${need_pip[@]}"
else
  log "Python packages: all ${#PIP_PACKAGES[@]} present"
fi
if ((${#need_nodeps[@]})); then
  log "installing Python packages without dependencies: ${need_nodeps[*]}"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
    $("$PYTHON" -c 'import sys,sysconfig,os; print("--break-system-packages" if os.path.exists(os.path.join(sysconfig.get_path("stdlib"),"EXTERNALLY-MANAGED")) else "")') \
    "${need_nodeps[@]}"
fi
