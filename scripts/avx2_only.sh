#!/usr/bin/env bash
# Run a command as on an AVX2-only x86-64 CPU: every process it starts sees CPUID without
# AVX-512, AVX-VNNI or AMX (bench/cpu/avx2_only.c), so oneDNN, OpenBLAS, ONNX Runtime, numpy,
# glibc and dopt's own dispatch all take their AVX2 paths.
#   bash scripts/avx2_only.sh COMMAND [ARGS...]
#   bash scripts/avx2_only.sh --check   # exit 0 when this machine can do it
# Exits 97 when the kernel/CPU offers no CPUID faulting (then nothing is run).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=$ROOT/bench/cpu/avx2_only.c
SO=${DOPT_AVX2_ONLY_SO:-$ROOT/build/avx2_only.so}
if ! grep -qw cpuid_fault /proc/cpuinfo 2>/dev/null; then
  echo "avx2_only.sh: this machine offers no CPUID faulting (no cpuid_fault in /proc/cpuinfo)" >&2
  exit 97
fi
if [[ ! -f $SO || $SRC -nt $SO ]]; then
  mkdir -p "$(dirname "$SO")"
  cc -O2 -shared -fPIC -o "$SO.tmp.$$" "$SRC" -ldl
  mv "$SO.tmp.$$" "$SO"
fi
# The library exits 97 itself when arch_prctl(ARCH_SET_CPUID) is refused (e.g. in some VMs).
LD_AUDIT=$SO LD_PRELOAD=$SO /bin/true || exit 97
[[ ${1:-} == --check ]] && exit 0
export LD_AUDIT=$SO${LD_AUDIT:+:$LD_AUDIT}
export LD_PRELOAD=$SO${LD_PRELOAD:+:$LD_PRELOAD}
# glibc reads CPUID in the dynamic loader, before the library starts: mask the same bits there.
export GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,-AVX512CD,-AVX512BW,-AVX512DQ,-AVX512VL,-AVX512ER,-AVX512PF,-AVX_VNNI${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}
export DOPT_CPU_EMULATION=avx2
exec "$@"
