#!/usr/bin/env python3
"""Calibration overhead: dopt's calibration time against the same number of plain forwards.

The goal of issue #16: calibrating (forwards with observers on the watched tensors, reading the
calibration data, the range search) costs at most 20 % more than the forwards alone. One model
(the shared SqueezeNet 1.0 as float32 opset 13, as bench/bench_quant.py makes it), N calibration
samples (--samples, default 300: the 100 calibration images of bench_quant.py, `dopt make-bin`,
repeated) in one 610 .bin, one run:

* calibration: `dopt -m 0 ... --num_threads T` with a BINARY config, once per calibration method;
  the time is the `calibration:` line of dopt's summary (the stream, the forwards, the observers
  and the range computation; not loading or writing the model);
* forwards: `dopt run --repeat N` on one of those samples at the same thread count: N x the
  median forward (the warm-up forward, which creates oneDNN's primitives, is excluded) and, as
  a second figure, N x the mean forward including that warm-up (what a fresh process's N plain
  forwards cost, as calibration pays it once too).

Rounds alternate the runs (the machines are shared and noisy); the table gives each figure's
minimum over the rounds and the overhead = calibration / forwards - 1.

Example (about a minute on 2 cores):
  python3 bench/calib_overhead.py --dopt build/dopt --threads 1 2 --rounds 5 --samples 300
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

import bench_quant
import cpu_isa


def calib_seconds(dopt, model, conf, work, threads):
    out = subprocess.run([dopt, "-m", "0", "--framework", "5", "--model", model, "--cal_conf", conf,
                          "--output", os.path.join(work, "q.onnx"), "--compress_conf", os.path.join(work, "q.param"),
                          "--num_threads", str(threads)],
                         capture_output=True, text=True)
    m = re.search(r"calibration:\s+\S+, (\d+) samples .*?([0-9.]+) s", out.stdout + out.stderr)
    if out.returncode != 0 or not m:
        sys.exit("dopt -m 0 failed:\n" + out.stdout + out.stderr)
    return int(m.group(1)), float(m.group(2))


def forward_ms(dopt, model, sample, work, threads, n):
    """(median forward ms, mean ms over the warm-up and n timed forwards)."""
    out = subprocess.run([dopt, "run", "--model", model, "--input", "data_0=" + sample, "--output_dir",
                          os.path.join(work, "run"), "--num_threads", str(threads), "--repeat", str(n)],
                         capture_output=True, text=True, env=dict(os.environ, DOPT_PROFILE="1"))
    text = out.stdout + out.stderr
    med = re.search(r"forward_ms_median: ([0-9.]+)", text)
    # The later runs' kernel time and the first run's (DOPT_PROFILE's header).
    total = re.search(r"kernel time per op type, [^(]*\(total ([0-9.]+) ms; the first run ([0-9.]+) ms\)", text)
    if out.returncode != 0 or not med or not total:
        sys.exit("dopt run failed:\n" + text)
    return float(med.group(1)), (float(total.group(1)) + float(total.group(2))) / (n + 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dopt", default=os.path.join(bench_quant.HERE, "..", "build", "dopt"))
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--methods", nargs="*", default=["mse", "minmax"], help="calibration methods (default: dopt's mse, and minmax)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--samples", type=int, default=300, help="calibration samples (the 100 images, repeated)")
    ap.add_argument("--cpu", choices=["native", "avx2"], default="native",
                    help="avx2: run as on an AVX2-only CPU (scripts/avx2_only.sh)")
    a = ap.parse_args()
    cpu_isa.reexec(a.cpu)
    print(cpu_isa.describe())
    dopt = os.path.abspath(a.dopt)
    work = tempfile.mkdtemp(prefix="calib_overhead_")
    sets = bench_quant.make_sets(dopt, work, 200)
    _, xc, _ = sets["calib"]
    xc = np.concatenate([xc] * ((a.samples + xc.shape[0] - 1) // xc.shape[0]))[:a.samples]
    n = xc.shape[0]
    calib_bin = os.path.join(work, "calib_repeated.bin")
    with open(calib_bin, "wb") as f:  # 610: int32 magic, rank, dims, then float32 data
        f.write(np.array([610, xc.ndim] + list(xc.shape), "<i4").tobytes())
        f.write(np.ascontiguousarray(xc, "<f4").tobytes())
    sample = os.path.join(work, "sample.npy")
    np.save(sample, xc[:1])
    model = os.path.join(work, "squeezenet1.0_fp32_op13.onnx")
    bench_quant.float32_opset13(bench_quant.MODEL, model)
    confs = {}
    for method in a.methods:
        confs[method] = os.path.join(work, f"conf_{method}.prototxt")
        with open(confs[method], "w") as f:
            f.write('strategy: "Quant_INT8-8"\npreprocess_parameter: { input_type: BINARY input_file_path: "%s" }\n'
                    'calibration_method: "%s"\n' % (calib_bin, method))
    best = {}
    for r in range(a.rounds):
        for t in a.threads:
            med, mean = forward_ms(dopt, model, sample, work, t, n)
            for key, v in (((t, "median"), med), ((t, "mean"), mean)):
                best[key] = min(best.get(key, 1e9), v)
            for method in a.methods:
                samples, s = calib_seconds(dopt, model, confs[method], work, t)
                assert samples == n, (samples, n)
                best[(t, method)] = min(best.get((t, method), 1e9), s)
        print(f"round {r + 1}/{a.rounds} done", flush=True)
    print(f"\nSqueezeNet 1.0 fp32, {n} calibration samples, minimum of {a.rounds} alternated rounds\n")
    print("| threads | forward ms (median / mean with warm-up) | method | calibration s | ms per sample "
          "| overhead vs median forwards | vs mean forwards |")
    print("|---|---|---|---:|---:|---:|---:|")
    for t in a.threads:
        med, mean = best[(t, "median")], best[(t, "mean")]
        for method in a.methods:
            s = best[(t, method)]
            per = 1000 * s / n
            print(f"| {t} | {med:.2f} / {mean:.2f} | {method} | {s:.2f} | {per:.2f} | {100 * (per / med - 1):+.0f} % "
                  f"| {100 * (per / mean - 1):+.0f} % |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
