#!/usr/bin/env python3
"""Float forward time of dopt vs ONNX Runtime at the same thread count, side by side.

dopt is timed through its command line (`dopt run --repeat N`, which prints the median of
N forward passes after one warm-up pass, excluding process start-up and model loading);
ORT through its Python API with intra_op_num_threads=T, inter_op_num_threads=1 and the
default graph optimisation level (ORT_ENABLE_ALL), one warm-up run then N timed runs.
This script never imports dopt native code.

Example:
  python3 bench/bench_forward.py --dopt build/dopt --threads 1 2 --repeat 20
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort

import cpu_isa

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "testdata", "models", "onnx"))
DEFAULT_MODELS = ["squeezenet1.0_fp16.onnx", "ultraface_rfb_320.onnx", "ultraface_slim_320_nopost.onnx"]

NP_TYPES = {
    onnx.TensorProto.FLOAT: np.float32,
    onnx.TensorProto.FLOAT16: np.float16,
    onnx.TensorProto.DOUBLE: np.float64,
    onnx.TensorProto.INT64: np.int64,
    onnx.TensorProto.INT32: np.int32,
    onnx.TensorProto.UINT8: np.uint8,
    onnx.TensorProto.INT8: np.int8,
}


def make_inputs(model_path, seed=0, shapes=None):
    """Random inputs: floats uniform [0,1), integer ids in [0,10), masks (a name with "mask") all 1.
    shapes: {input name: [dims]} overrides a symbolic (or any) input shape."""
    shapes = shapes or {}
    m = onnx.load(model_path, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    rng = np.random.default_rng(seed)
    feeds = {}
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        shape = shapes.get(vi.name) or [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1
                                         for d in tt.shape.dim]
        dt = NP_TYPES[tt.elem_type]
        if np.issubdtype(dt, np.floating):
            feeds[vi.name] = rng.uniform(0.0, 1.0, size=shape).astype(dt)
        elif "mask" in vi.name:
            feeds[vi.name] = np.ones(shape, dt)
        else:
            feeds[vi.name] = rng.integers(0, 10, size=shape).astype(dt)
    return feeds


def time_dopt(dopt, model, npy_inputs, threads, repeat, out_dir, stat="median"):
    cmd = [dopt, "run", "--model", model, "--output_dir", out_dir, "--num_threads", str(threads),
           "--repeat", str(repeat)]
    for name, path in npy_inputs.items():
        cmd += ["--input", f"{name}={path}"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, (r.stderr.strip() or r.stdout.strip())
    m = re.search(r"forward_ms_%s:\s*([0-9.]+)" % stat, r.stdout)
    if not m:
        return None, "no forward_ms_%s line in: " % stat + r.stdout
    return float(m.group(1)), cmd


def time_ort(model, feeds, threads, repeat, stat="median"):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3  # the UltraFace files list initializers as inputs: ORT warns per tensor
    sess = ort.InferenceSession(model, sess_options=so, providers=["CPUExecutionProvider"])
    outs = sess.run(None, feeds)  # warm-up
    ms = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        ms.append((time.perf_counter() - t0) * 1e3)
    names = [o.name for o in sess.get_outputs()]
    return (min(ms) if stat == "min" else statistics.median(ms)), dict(zip(names, outs))


def safe_name(n):
    return re.sub(r"[^A-Za-z0-9._-]", "_", n)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dopt", default=os.path.join(HERE, "..", "build", "dopt"))
    ap.add_argument("--models_dir", default=MODELS_DIR)
    ap.add_argument("--models", nargs="*", default=DEFAULT_MODELS,
                    help="file names under --models_dir or paths; MODEL:INPUT=d0,d1,... sets an input's shape "
                         "(several ':'-separated), e.g. ppocr_v4_det.onnx:x=1,3,640,640")
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--stat", choices=["median", "min"], default="median",
                    help="statistic of the timed runs; min is steadier on a loaded machine")
    ap.add_argument("--cpu", choices=["native", "avx2"], default="native",
                    help="avx2: dopt and ORT both run as on an AVX2-only CPU (scripts/avx2_only.sh)")
    args = ap.parse_args()
    cpu_isa.reexec(args.cpu)

    print(cpu_isa.describe())

    print(f"onnxruntime {ort.__version__}, repeat {args.repeat} ({args.stat}), inputs uniform [0,1) seed 0")
    print("| model | threads | dopt ms | ORT ms | dopt/ORT | max abs diff |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.models:
            mname, *shape_specs = spec.split(":")
            shapes = {}
            for ss in shape_specs:
                n, dims = ss.split("=")
                shapes[n] = [int(d) for d in dims.split(",")]
            model = mname if os.path.exists(mname) else os.path.join(args.models_dir, mname)
            mname = os.path.basename(mname)
            feeds = make_inputs(model, shapes=shapes)
            npys = {}
            for i, (n, a) in enumerate(feeds.items()):
                p = os.path.join(tmp, f"in{i}.npy")
                np.save(p, a)
                npys[n] = p
            for t in args.threads:
                out_dir = os.path.join(tmp, f"out_{safe_name(mname)}_{t}")
                os.makedirs(out_dir, exist_ok=True)
                d_ms, info = time_dopt(args.dopt, model, npys, t, args.repeat, out_dir, args.stat)
                try:
                    o_ms, o_outs = time_ort(model, feeds, t, args.repeat, args.stat)
                except Exception as e:  # a model ONNX Runtime rejects (e.g. SuperPoint's MaxPool): no ratio
                    d_txt = "FAILED" if d_ms is None else f"{d_ms:.2f}"
                    print(f"| {mname} | {t} | {d_txt} | ORT FAILED | - | {str(e).splitlines()[0][:80]} |", flush=True)
                    continue
                if d_ms is None:
                    print(f"| {mname} | {t} | FAILED | {o_ms:.2f} | - | {info.splitlines()[-1][:80]} |")
                    continue
                diff = 0.0
                for n, v in o_outs.items():
                    p = os.path.join(out_dir, safe_name(n) + ".npy")
                    if os.path.exists(p):
                        got = np.load(p).astype(np.float64)
                        if got.shape == v.shape:
                            diff = max(diff, float(np.max(np.abs(got - v.astype(np.float64)))) if v.size else 0.0)
                        else:
                            diff = float("nan")
                ratio = d_ms / o_ms
                worst = max(worst, ratio)
                print(f"| {mname} | {t} | {d_ms:.2f} | {o_ms:.2f} | {ratio:.2f}x | {diff:.2e} |", flush=True)
    print(f"worst ratio: {worst:.2f}x (target <= 1.30x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
