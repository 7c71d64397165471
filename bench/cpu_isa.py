"""CPU kind for the benchmarks: the flags the processes see, and a run as on an AVX2-only CPU.

`reexec(isa)` with isa "avx2" starts this script again under scripts/avx2_only.sh, so that
ONNX Runtime (in this process) and dopt (its children) both see CPUID without AVX-512 and
AVX-VNNI and take their AVX2 kernels: the same as an AVX2-only machine, on this one.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WRAPPER = os.path.normpath(os.path.join(HERE, "..", "scripts", "avx2_only.sh"))


def reexec(isa):
    """Returns when this process already runs as `isa`; otherwise replaces it (or exits 97)."""
    if isa == "native" or os.environ.get("DOPT_CPU_EMULATION") == isa:
        return
    if subprocess.run(["bash", WRAPPER, "--check"]).returncode != 0:
        sys.exit("--cpu %s: this machine cannot hide AVX-512 from a process (see %s)" % (isa, WRAPPER))
    os.execv("/bin/bash", ["bash", WRAPPER, sys.executable] + sys.argv)


def describe():
    """One line: the CPU model and the SIMD flags this process sees (through CPUID, via numpy)."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as feats
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as feats
    keep = ["AVX2", "FMA3", "AVX512F", "AVX512BW", "AVX512VL", "AVX512DQ", "AVX512VNNI", "AVX512BF16"]
    seen = [k.lower() for k in keep if feats.get(k)]
    emulated = os.environ.get("DOPT_CPU_EMULATION")
    note = " (AVX-512 hidden by scripts/avx2_only.sh)" if emulated == "avx2" else ""
    return "CPU: %s, %d cores; flags seen: %s%s" % (model, os.cpu_count() or 0, " ".join(seen), note)
