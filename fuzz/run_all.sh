#!/usr/bin/env bash
# Builds every fuzz target and runs each for SECONDS (libFuzzer -max_total_time), one after
# the other. Crashes, leaks, timeouts and out-of-memory inputs are kept in the findings folder;
# the script exits non-zero when there is any.
#   bash fuzz/run_all.sh SECONDS
# Environment: DOPT_FUZZ_BUILD (build folder, default build-fuzz; configured with clang-14 and
# -DDOPT_FUZZ=ON when missing), DOPT_FUZZ_OUT (corpora + findings, default $DOPT_FUZZ_BUILD/fuzz-out),
# DOPT_BIN (a dopt binary for make_corpus.sh, default build/dopt), JOBS (build jobs, default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECONDS_EACH=${1:?usage: run_all.sh SECONDS}
BUILD=${DOPT_FUZZ_BUILD:-build-fuzz}
OUT=${DOPT_FUZZ_OUT:-$BUILD/fuzz-out}
TARGETS=(bin_file calib_config flag_parsing onnx_loader compress_conf tf_graphdef npy onnx_run image_codec)

export CCACHE_BASEDIR=$PWD
# -g objects would otherwise be cached per build folder (build-asan, build-fuzz, build-tsan).
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
if [[ ! -f $BUILD/build.ninja ]]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
    -DDOPT_FUZZ=ON -DDOPT_BUILD_TESTS=OFF -DDOPT_WERROR=OFF >/dev/null
fi
cmake --build "$BUILD" -j "${JOBS:-2}" --target fuzzers

rm -rf "$OUT/seeds"
bash fuzz/make_corpus.sh "$OUT/seeds" "${DOPT_BIN:-build/dopt}"
rm -rf "$OUT/findings"
mkdir -p "$OUT/findings"
found=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$OUT/corpus/$t"
  log=$OUT/$t.log
  echo "== fuzz $t: ${SECONDS_EACH}s ==" >&2
  set +e
  # ASan's leak checker is on: the parsers must not leak on any input either.
  "$BUILD/fuzz/${t}_fuzzer" "$OUT/corpus/$t" "$OUT/seeds/$t" -max_total_time="$SECONDS_EACH" \
    -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$OUT/findings/$t-" >"$log" 2>&1
  rc=$?
  set -e
  grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs)' "$log" >&2 || true
  if ((rc != 0)); then
    found=1
    echo "run_all.sh: $t failed (exit $rc); the input is in $OUT/findings, the log in $log:" >&2
    grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5 >&2 || true
    # The input itself, when small, so a finding on a CI machine can be reproduced from its log.
    for f in "$OUT/findings/$t-"*; do
      [[ -f $f ]] && (($(stat -c %s "$f") <= 4096)) && echo "run_all.sh: $t input $(basename "$f") base64: $(base64 -w0 "$f")" >&2
    done
  fi
done
if ls "$OUT/findings" | grep -q .; then found=1; fi
((found == 0)) && echo "run_all.sh: no findings" >&2
exit $found
