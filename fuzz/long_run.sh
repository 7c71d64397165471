#!/usr/bin/env bash
# Long fuzz runs measured in CPU time: every target at once, one `-fork=1` process each (it keeps
# going past findings and keeps their inputs), each stopped once its whole process tree (the
# fork-mode jobs included) has used CPU_MINUTES of CPU. For the "hours run" of docs/reliability.md.
#   bash fuzz/long_run.sh OUT_DIR CPU_MINUTES [TARGET[=MINUTES] ...]
# Default targets: all of fuzz/run_all.sh's. Binaries: $DOPT_FUZZ_BUILD/fuzz (default build-fuzz,
# built as run_all.sh does). OUT_DIR gets bin/ (copies), seeds/, corpus/<t>/ (kept between runs:
# a second run continues), findings/, logs/<t>.log, logs/<t>.time (/usr/bin/time: user, sys,
# wall) and cpu.log (CPU minutes per target, every minute). Runs in the foreground; Ctrl-C stops
# every run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${1:?usage: long_run.sh OUT_DIR CPU_MINUTES [TARGET[=MINUTES] ...]}
DEFAULT_MIN=${2:?usage: long_run.sh OUT_DIR CPU_MINUTES [TARGET[=MINUTES] ...]}
shift 2
BUILD=${DOPT_FUZZ_BUILD:-build-fuzz}
specs=("$@")
if ((${#specs[@]} == 0)); then
  read -r -a specs < <(sed -n 's/^TARGETS=(\(.*\))$/\1/p' fuzz/run_all.sh)
fi
mkdir -p "$OUT"/{bin,corpus,findings,logs}
OUT=$(cd "$OUT" && pwd)
[[ -d $OUT/seeds ]] || bash fuzz/make_corpus.sh "$OUT/seeds" "${DOPT_BIN:-build/dopt}"
declare -A goal leader
for s in "${specs[@]}"; do
  t=${s%%=*}
  goal[$t]=${s#*=}
  [[ $s == *=* ]] || goal[$t]=$DEFAULT_MIN
  cp "$BUILD/fuzz/${t}_fuzzer" "$OUT/bin/"
  mkdir -p "$OUT/corpus/$t"
  seeds=$OUT/seeds/$t
  [[ -d $seeds ]] || seeds=$OUT/seeds/onnx_loader  # onnx_run before make_corpus.sh knew it
  # setsid: one session per run, so its CPU can be summed and it can be stopped as a whole.
  setsid /usr/bin/time -f 'cpu_user_s=%U cpu_sys_s=%S wall_s=%e' -o "$OUT/logs/$t.time" \
    "$OUT/bin/${t}_fuzzer" "$OUT/corpus/$t" "$seeds" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
    -ignore_ooms=1 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$OUT/findings/$t-" >"$OUT/logs/$t.log" 2>&1 </dev/null &
  leader[$t]=$!
done
stop_run() {  # SIGTERM to everything in the run's session but /usr/bin/time, which then reports
  local p
  for p in $(ps -s "$1" -o pid= 2>/dev/null); do [[ $p != "$1" ]] && kill -TERM "$p" 2>/dev/null; done
  return 0
}
trap 'for t in "${!leader[@]}"; do stop_run "${leader[$t]}"; done; wait; exit 130' INT TERM
tck=$(getconf CLK_TCK)
cpu_minutes() {  # own + reaped children's CPU of every live process of the session
  local tot=0 p s
  for p in $(ps -s "$1" -o pid= 2>/dev/null); do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    s=${s##*) }
    read -r -a f <<<"$s"
    tot=$((tot + f[11] + f[12] + f[13] + f[14]))
  done
  echo "scale=2; $tot / $tck / 60" | bc
}
while ((${#leader[@]})); do
  sleep 60
  line="$(date -u +%FT%TZ)"
  for t in "${!leader[@]}"; do
    if ! kill -0 "${leader[$t]}" 2>/dev/null; then unset "leader[$t]"; continue; fi
    m=$(cpu_minutes "${leader[$t]}")
    line+=" $t=$m"
    if (($(echo "$m >= ${goal[$t]}" | bc))); then stop_run "${leader[$t]}"; fi
  done
  echo "$line" >>"$OUT/cpu.log"
done
wait
for t in "${!goal[@]}"; do echo "$t: $(tail -1 "$OUT/logs/$t.time")"; done
if ls "$OUT/findings" | grep -q .; then echo "findings:"; ls "$OUT/findings"; exit 1; fi
