#!/usr/bin/env bash
# The sanitizer jobs of the test suite (run by scripts/test.sh; docs/reliability.md):
#   1. build-asan: clang-14, ASan + UBSan (-fno-sanitize-recover=all), the whole C++ suite
#      (dopt_tests via ctest, and the dopt binary), plus the libFuzzer targets of fuzz/, each run
#      for FUZZ_SECONDS (default 60) by fuzz/run_all.sh on the same build.
#   2. build-tsan: gcc, ThreadSanitizer, the whole dopt_tests (thread pool, executor, kernel
#      thread-count independence; suppressions for third-party code in tests/sanitizers/).
# Any sanitizer report fails the job. Usage: bash scripts/sanitize.sh [asan|tsan|all]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
WHAT=${1:-all}
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
ASAN_BUILD=${ASAN_BUILD:-build-asan}  # build folders (a local build-fuzz can serve as the ASan one)
TSAN_BUILD=${TSAN_BUILD:-build-tsan}
export CCACHE_BASEDIR=$PWD
# -g objects would otherwise be cached per build folder (build-asan, build-fuzz, build-tsan).
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
status=0
failed=()  # the stages that failed, repeated at the end (CI shows only the tail of the log)
t0=$SECONDS

if [[ $WHAT == all || $WHAT == asan ]]; then
  echo "== ASan + UBSan build (build-asan, clang-14) ==" >&2
  cmake -S . -B "$ASAN_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    -DDOPT_FUZZ=ON -DDOPT_SANITIZE=address,undefined -DDOPT_BUILD_TESTS=ON >/dev/null
  cmake --build "$ASAN_BUILD" -j "$JOBS" --target dopt dopt_tests fuzzers
  echo "== ctest under ASan + UBSan ($((SECONDS - t0)) s so far) ==" >&2
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd "$ASAN_BUILD" && ctest --output-on-failure --timeout 1800 -j "$JOBS") 2>&1 | tee "$ASAN_BUILD/ctest.log" ||
    { status=1; failed+=("ctest under ASan+UBSan: $(grep -E '^[[:space:]]*[0-9]+ - ' "$ASAN_BUILD/ctest.log" | tr -s ' ' | head -5 | tr '\n' ';' || true)"); }
  echo "== fuzz targets, ${FUZZ_SECONDS} s each ($((SECONDS - t0)) s so far) ==" >&2
  DOPT_FUZZ_BUILD=$ASAN_BUILD DOPT_BIN=${DOPT_BIN:-build/dopt} JOBS=$JOBS bash fuzz/run_all.sh "$FUZZ_SECONDS" 2>&1 |
    tee "$ASAN_BUILD/fuzz.log" >&2 ||
    { status=1; failed+=("fuzzing: $(grep -E 'run_all.sh: .* failed|SUMMARY|ERROR' "$ASAN_BUILD/fuzz.log" | head -6 | tr '\n' ';' || true)"); }
fi

if [[ $WHAT == all || $WHAT == tsan ]]; then
  echo "== TSan build (build-tsan, gcc) ($((SECONDS - t0)) s so far) ==" >&2
  cmake -S . -B "$TSAN_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDOPT_SANITIZE=thread -DDOPT_BUILD_TESTS=ON >/dev/null
  cmake --build "$TSAN_BUILD" -j "$JOBS" --target dopt_tests
  # The whole suite (about 6 s under TSan): the thread pool, the executor and every kernel's
  # thread-count independence test are in it. Suppressions: third-party code only.
  echo "== dopt_tests under TSan ==" >&2
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizers/tsan.supp \
    "$TSAN_BUILD"/dopt_tests || { status=1; failed+=("dopt_tests under TSan"); }
fi
for f in "${failed[@]}"; do echo "sanitize.sh: FAILED: $f" >&2; done
echo "sanitize.sh: $WHAT done in $((SECONDS - t0)) s, $([[ $status == 0 ]] && echo passed || echo FAILED)" >&2
exit $status
