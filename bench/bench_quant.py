#!/usr/bin/env python3
"""Post-training int8 quantization, dopt vs ONNX Runtime's quantize_static, side by side.

One model (SqueezeNet 1.0 from ../shared/testdata), one set of calibration images, one
preprocessing, one run:

* Images: ../shared/testdata/images/imagenet-sample (1000 JPEGs, one per class, the file name
  starts with the synset id; label = index of the synset id in the sorted list). Every 10th
  image (sorted by name) is a calibration image (100), the others are evaluation images
  (--eval N of them, default all 900).
* Preprocessing: dopt's IMAGE loader (`dopt make-bin --images`): BGR, plain bilinear resize to
  224x224, minus mean 104/117/123, no std. It runs once; both tools read the same float data
  (dopt a 610 .bin through a BINARY calibration config, ORT a numpy CalibrationDataReader).
* Model: squeezenet1.0_fp16.onnx is float16 at opset 7. ORT's quantize_static needs float32
  and (for per-channel QDQ) opset >= 13, so the script converts it once: float16 initializers
  and value types become float32 (numpy), then onnx.version_converter makes it opset 13. Both
  tools quantize that same float32 opset-13 file; float and int8 top-1 are measured in ORT.
* ORT: quantize_static(QDQ, per_channel=True, int8 activations and weights), once per
  calibration method (MinMax, Entropy, Percentile), each in a child process.
* dopt: `dopt -m 0 --framework 5 ... --compress_conf` in a child process (the original tool's
  flags), once with dopt's default calibration method and once per method set through the
  config's calibration_method field (minmax, kl, percentile, mse). When this dopt cannot
  quantize yet, its row says 'not available'.
* Wall time and peak RSS are those of the child process (os.wait4's rusage: ru_maxrss, taken
  in a small helper process so the child does not inherit this script's pages), so they
  include start-up, model loading, calibration and writing the model.

Example (about 6 minutes on 2 cores):
  python3 bench/bench_quant.py --dopt build/dopt

Other models and dopt options (docs/quantization.md's equalization and x86_saturation_safe
figures): --model takes another SqueezeNet-shaped ONNX file (e.g. the one
bench/make_outlier_squeezenet.py writes), and each --variant TAG=LINES adds a dopt row quantized
with dopt's default method plus those config lines ('\\n' separates lines), e.g.
  python3 bench/bench_quant.py --methods --dopt_methods --variant "default=" \\
      --variant "eq=equalization: true" --variant "x86_all=x86_saturation_safe: ALL"
Each row also says how many quantized ops could saturate vpmaddubsw (x86 without VNNI): the
ops whose 255 x (sum of the two largest |q| of an output channel) exceeds 32767 (the bound of
quant/saturation.h, computed from the written int8 weights).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import cpu_isa

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "testdata"))
MODEL = os.path.join(SHARED, "models", "onnx", "squeezenet1.0_fp16.onnx")
IMAGES = os.path.join(SHARED, "images", "imagenet-sample")
MEAN = "104,117,123"
ORT_METHODS = ["MinMax", "Entropy", "Percentile"]


# ---- data ----

def read_bin(path):
    """A 610 .bin (int32 magic, rank, dims; float32 data) as a numpy array."""
    with open(path, "rb") as f:
        magic, rank = np.frombuffer(f.read(8), "<i4")
        assert magic == 610, path
        dims = tuple(int(d) for d in np.frombuffer(f.read(4 * rank), "<i4"))
        return np.frombuffer(f.read(), "<f4").reshape(dims)


def make_sets(dopt, work, n_eval):
    files = sorted(f for f in os.listdir(IMAGES) if f.lower().endswith((".jpeg", ".jpg", ".png")))
    synsets = sorted({f.split("_")[0] for f in files})
    label = {s: i for i, s in enumerate(synsets)}
    calib = [f for i, f in enumerate(files) if i % 10 == 0]
    evals = [f for i, f in enumerate(files) if i % 10 != 0][:n_eval]
    out = {}
    for name, subset in (("calib", calib), ("eval", evals)):
        d = os.path.join(work, name + "_images")
        os.makedirs(d)
        for f in subset:
            os.symlink(os.path.join(IMAGES, f), os.path.join(d, f))
        binf = os.path.join(work, name + ".bin")
        subprocess.run([dopt, "make-bin", "--images", d, "--image_shape", "3,224,224", "--image_format", "BGR",
                        "--mean_value", MEAN, "-o", binf], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        x = read_bin(binf)
        assert x.shape[0] == len(subset), f"{name}: {x.shape[0]} of {len(subset)} images decoded"
        out[name] = (binf, x, np.array([label[f.split("_")[0]] for f in subset]))
    return out


# ---- model ----

def float32_opset13(src, dst):
    import onnx
    from onnx import numpy_helper, version_converter
    m = onnx.load(src)
    F16, F32 = onnx.TensorProto.FLOAT16, onnx.TensorProto.FLOAT
    for i, t in enumerate(m.graph.initializer):
        if t.data_type == F16:
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float32), t.name))
    for vi in list(m.graph.input) + list(m.graph.output) + list(m.graph.value_info):
        if vi.type.tensor_type.elem_type == F16:
            vi.type.tensor_type.elem_type = F32
    for n in m.graph.node:
        for a in n.attribute:
            if n.op_type == "Cast" and a.name == "to" and a.i == F16:
                a.i = F32
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == F16:
                a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float32), a.t.name))
    # IR 3 lists initializers as inputs; newer converters prefer them out of the input list.
    init_names = {t.name for t in m.graph.initializer}
    keep = [i for i in m.graph.input if i.name not in init_names]
    del m.graph.input[:]
    m.graph.input.extend(keep)
    m.ir_version = max(m.ir_version, 7)
    m = version_converter.convert_version(m, 13)
    onnx.checker.check_model(m)
    onnx.save(m, dst)


def top1(model, x, labels, optimize=False):
    """Top-1 in ONNX Runtime. optimize=False runs the QDQ graph as written (exact int8
    semantics: what an NPU computes); optimize=True lets ORT fuse Q/DQ into its own int8 kernels,
    which on x86 without VNNI (u8 x s8 VPMADDUBSW) saturate and cost accuracy for every
    quantizer alike."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.log_severity_level = 3
    if not optimize:
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    iname = sess.get_inputs()[0].name
    itype = np.float16 if sess.get_inputs()[0].type == "tensor(float16)" else np.float32
    right = 0
    for i in range(x.shape[0]):
        y = sess.run(None, {iname: x[i:i + 1].astype(itype)})[0]
        right += int(np.argmax(y.reshape(-1)) == labels[i])
    return 100.0 * right / x.shape[0]


def unsafe_ops(model):
    """Quantized ops of a QDQ model whose int8 weights can saturate vpmaddubsw: 255 x (the two
    largest |q| of one output channel) > 32767 (quant/saturation.h's bound), and their count."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(model)
    n = total = 0
    for t in m.graph.initializer:
        if t.data_type != onnx.TensorProto.INT8 or len(t.dims) < 2:
            continue
        q = np.abs(numpy_helper.to_array(t).astype(np.int64)).reshape(t.dims[0], -1)
        top2 = np.sort(q, axis=1)[:, -2:].sum(axis=1) if q.shape[1] > 1 else q[:, 0]
        total += 1
        n += int(255 * top2.max() > 32767)
    return f"{n}/{total}"


# ---- child processes ----

def measure(cmd):
    """In a small helper process: runs cmd, returns (exit code, wall s, peak RSS MiB of exactly
    that child from os.wait4, output). The helper matters: a child forked straight from this
    script would start with the script's own resident pages (the evaluation images) and
    ru_maxrss would count them."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    chunks = []
    while True:
        b = p.stdout.read(65536)
        if not b:
            break
        chunks.append(b)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, time.perf_counter() - t0, ru.ru_maxrss / 1024.0, b"".join(chunks).decode(errors="replace")


def run_child(cmd):
    """measure(cmd) in a fresh helper interpreter (see measure)."""
    import json
    p = subprocess.run([sys.executable, os.path.abspath(__file__), "--measure", "--"] + list(cmd),
                       capture_output=True, text=True)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    return r["rc"], r["wall"], r["rss"], r["log"]


def ort_child(method, model, calib_bin, out):
    """In the child: ORT quantize_static with one calibration method."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    x = read_bin(calib_bin)
    import onnx
    iname = [i.name for i in onnx.load(model, load_external_data=False).graph.input][0]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.i = 0

        def get_next(self):
            if self.i >= x.shape[0]:
                return None
            self.i += 1
            return {iname: np.ascontiguousarray(x[self.i - 1:self.i])}

        def rewind(self):
            self.i = 0

    quantize_static(model, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=getattr(CalibrationMethod, method))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dopt", default=os.path.join(HERE, "..", "build", "dopt"))
    ap.add_argument("--eval", type=int, default=900, help="evaluation images (>= 200; default all 900)")
    ap.add_argument("--methods", nargs="*", default=ORT_METHODS, help="ORT calibration methods")
    ap.add_argument("--dopt_conf_extra", default="", help="extra NotrainParameter lines for dopt's config")
    ap.add_argument("--keep", help="keep the work files in this folder")
    ap.add_argument("--dopt_methods", nargs="*", default=["", "minmax", "kl", "percentile", "mse"],
                    help="dopt calibration_method values ('' = dopt's default)")
    ap.add_argument("--model", default=MODEL, help="the float model (default: the shared SqueezeNet 1.0)")
    ap.add_argument("--variant", action="append", default=[], metavar="TAG=LINES",
                    help="a dopt row with the default method and these config lines ('\\n' between lines)")
    ap.add_argument("--cpu", choices=["native", "avx2"], default="native",
                    help="avx2: dopt and ORT both run as on an AVX2-only CPU (scripts/avx2_only.sh)")
    ap.add_argument("--ort-child", nargs=4, metavar=("METHOD", "MODEL", "CALIB_BIN", "OUT"), help=argparse.SUPPRESS)
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        import json
        rc, wall, rss, log = measure(sys.argv[3:])
        print(json.dumps({"rc": rc, "wall": wall, "rss": rss, "log": log[-4000:]}))
        return 0
    a = ap.parse_args()
    if a.ort_child:
        ort_child(*a.ort_child)
        return 0
    cpu_isa.reexec(a.cpu)
    print(cpu_isa.describe())
    dopt = os.path.abspath(a.dopt)
    work = a.keep or tempfile.mkdtemp(prefix="bench_quant_")
    os.makedirs(work, exist_ok=True)
    t0 = time.perf_counter()
    sets = make_sets(dopt, work, a.eval)
    calib_bin, _, _ = sets["calib"]
    _, xe, ye = sets["eval"]
    fmodel = os.path.join(work, "squeezenet1.0_fp32_op13.onnx")
    float32_opset13(a.model, fmodel)
    print(f"model: {a.model} -> float32 opset 13; calibration images: 100; evaluation images: {xe.shape[0]}", flush=True)
    def acc(model):
        return (top1(model, xe, ye), top1(model, xe, ye, optimize=True))

    rows = [("float32 (ORT)", "-", "-", acc(fmodel)), ("float16 original (ORT)", "-", "-", acc(a.model))]

    # dopt, once per calibration method, then once per --variant
    runs = [(dm or "default", dm, a.dopt_conf_extra) for dm in a.dopt_methods]
    for v in a.variant:
        tag, _, lines = v.partition("=")
        runs.append((tag, "", "\n".join(x for x in [a.dopt_conf_extra, lines.replace("\\n", "\n")] if x)))
    for tag, dm, extra in runs:
        conf = os.path.join(work, f"dopt_config_{tag}.prototxt")
        with open(conf, "w") as f:
            f.write('strategy: "Quant_INT8-8"\ndevice: USE_CPU\n')
            f.write(f'preprocess_parameter: {{\n  input_type: BINARY\n  input_file_path: "{calib_bin}"\n}}\n')
            if dm:
                f.write(f'calibration_method: "{dm}"\n')
            if extra:
                f.write(extra + "\n")
        qd = os.path.join(work, f"dopt_{tag}.onnx")
        rc, wall, rss, log = run_child([dopt, "-m", "0", "--framework", "5", "--model", fmodel, "--cal_conf", conf,
                                        "--output", qd, "--input_format", "NCHW", "--input_shape", "data_0: 1,3,224,224",
                                        "--compress_conf", os.path.join(work, f"dopt_{tag}.param")])
        if rc == 0 and os.path.exists(qd):
            rows.append((f"dopt -m 0, {tag}", f"{wall:.1f}", f"{rss:.0f}", acc(qd)))
            print(f"dopt {tag}: {wall:.1f} s, {rss:.0f} MiB; ops that can saturate vpmaddubsw: {unsafe_ops(qd)}; "
                  f"top-1 {rows[-1][3][0]:.2f} / {rows[-1][3][1]:.2f}", flush=True)
        else:
            last = [l for l in log.splitlines() if l.strip()][-1:] or [""]
            print(f"dopt {tag}: not available ({last[0]})", flush=True)
            rows.append((f"dopt -m 0, {tag}", "not available", "not available", None))
            if "not implemented" in last[0]:
                break

    for m in a.methods:
        qo = os.path.join(work, f"ort_{m}.onnx")
        rc, wall, rss, log = run_child([sys.executable, os.path.abspath(__file__), "--ort-child", m, fmodel, calib_bin, qo])
        if rc != 0:
            print(log[-2000:], file=sys.stderr)
            rows.append((f"ORT quantize_static {m}", "failed", "failed", None))
            continue
        rows.append((f"ORT quantize_static {m}", f"{wall:.1f}", f"{rss:.0f}", acc(qo)))
        print(f"ORT {m}: {wall:.1f} s, {rss:.0f} MiB", flush=True)

    print()
    print("| quantizer | wall s | peak RSS MiB | top-1 % (ORT, QDQ as written) | top-1 % (ORT, default optimizations) |")
    print("|---|---:|---:|---:|---:|")
    for name, wall, rss, a_ in rows:
        exact, fused = ("-", "-") if a_ is None else (f"{a_[0]:.2f}", f"{a_[1]:.2f}")
        print(f"| {name} | {wall} | {rss} | {exact} | {fused} |")
    print(f"\n({time.perf_counter() - t0:.0f} s in all; work files in {work})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
