#!/usr/bin/env python3
"""Is a change behaviour-preserving? Quantize the shared real models with two dopt builds and
compare the bytes of what each writes.

For each model: `dopt -m 0` (the quantized model in its own format and the compress_conf) and
`dopt run` of the float model on one input, once with the OLD and once with the NEW build, in
the same run, and the SHA-256 of every output file side by side. A refactoring that keeps
behaviour gives identical bytes; a change of kernel gives identical compress_conf layouts but
float differences, which the script measures (largest |old - new| of the `dopt run` outputs and
of the quantization scales) instead of only saying "differs".

The models (../shared/testdata): SqueezeNet 1.0 (float16, opset 7: upgrade + QDQ), UltraFace
RFB-320 and slim-320 (ONNX), BlazeFace (NHWC ONNX from TF), MNIST (CNTK export), the KWS DS-CNN
and CNN TensorFlow graphs cut at Mfcc, and UltraFace slim from its PyTorch .py + .pth (needs
torch). Calibration data: 8 images of imagenet-sample / faces through each model's IMAGE config,
or 8 random samples in a 610 .bin for the TF graphs. No network, no framework in dopt itself.

Example:
  python3 bench/compare_builds.py --old /path/to/old/build/dopt --new build/dopt
  DOPT_CONV_ONEDNN=0 python3 bench/compare_builds.py ...   # both builds on the im2col path
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "testdata"
ONNX = SHARED / "models" / "onnx"
TF = SHARED / "models" / "tf"
IMAGES = SHARED / "images"

# name, model, framework, input name, input shape (model layout), layout, image folder or None
# (random .bin), extra -m 0 flags, weight (.pth) for PyTorch.
CASES = [
    ("squeezenet_fp16", ONNX / "squeezenet1.0_fp16.onnx", 5, "data_0", (1, 3, 224, 224), "NCHW", "imagenet-sample", [], None),
    ("ultraface_rfb", ONNX / "ultraface_rfb_320.onnx", 5, "input", (1, 3, 240, 320), "NCHW", "faces", [], None),
    ("ultraface_slim", ONNX / "ultraface_slim_320_nopost.onnx", 5, "input", (1, 3, 240, 320), "NCHW", "faces", [], None),
    ("blazeface", ONNX / "blazeface_front_128.onnx", 5, "input:0", (1, 128, 128, 3), "NHWC", "faces", [], None),
    ("mnist_cntk", ONNX / "mnist_cntk.onnx", 5, "Input3", (1, 1, 28, 28), "NCHW", None, [], None),
    ("kws_ds_cnn_s", TF / "kws_ds_cnn_s.pb", 3, "Mfcc", (1, 49, 10), "NHWC", None, ["--out_nodes", "labels_softmax"], None),
    ("kws_cnn_s", TF / "kws_cnn_s.pb", 3, "Mfcc", (1, 49, 10), "NHWC", None, ["--out_nodes", "labels_softmax"], None),
    ("ultraface_slim_torch", REPO / "tests" / "e2e" / "torch_models" / "ultraface" / "ultraface_slim.py", 5, "input",
     (1, 3, 240, 320), "NCHW", "faces", [], SHARED / "models" / "pytorch" / "ultraface_slim_320.pth"),
]


def sha(p: Path) -> str:
    """SHA-256 of a file; of a TorchScript .pt, of its entries less the source-location pickles
    (`*.debug_pkl`, which name the helper script's path) and the random serialization_id."""
    if p.suffix != ".pt":
        return hashlib.sha256(p.read_bytes()).hexdigest()[:16]
    import zipfile
    h = hashlib.sha256()
    with zipfile.ZipFile(p) as z:
        for n in z.namelist():
            if not n.endswith((".debug_pkl", "serialization_id")):
                h.update(n.encode() + b"\0" + z.read(n))
    return h.hexdigest()[:16]


def prepare(work: Path, dopt: str, case) -> tuple[Path, Path]:
    """The calibration config and one input .npy for a case (made once, shared by both builds)."""
    name, model, fw, inp, shape, layout, images, extra, weight = case
    d = work / name
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=shape).astype(np.float32)
    np.save(d / "input.npy", x)
    if images:
        src = IMAGES / images
        (d / "images").mkdir(exist_ok=True)
        for p in sorted(q for q in src.iterdir() if q.suffix.lower() in (".jpg", ".jpeg", ".png"))[:8]:
            shutil.copy(p, d / "images" / p.name)
        data = ('input_type: IMAGE image_format: BGR mean_value: 127 mean_value: 127 mean_value: 127 '
                'standard_deviation: 128 input_file_path: "images/"')
    else:
        np.save(d / "calib.npy", rng.uniform(-1, 1, size=(8,) + tuple(shape[1:])).astype(np.float32))
        subprocess.run([dopt, "make-bin", "--npy", str(d / "calib.npy"), "-o", str(d / "calib.bin")], check=True,
                       capture_output=True)
        data = 'input_type: BINARY input_file_path: "calib.bin"'
    (d / "config.prototxt").write_text(f'strategy: "Quant_INT8-8"\npreprocess_parameter {{ {data} }}\n')
    return d / "config.prototxt", d / "input.npy"


def run_build(dopt: str, tag: str, work: Path, case, conf: Path, x: Path) -> dict:
    name, model, fw, inp, shape, layout, images, extra, weight = case
    d = work / name / tag
    d.mkdir(exist_ok=True)
    suffix = {5: ".onnx", 3: ".pb"}[fw] if weight is None else ".pt"
    out, cc = d / ("q" + suffix), d / "compress_conf"
    cmd = [dopt, "-m", "0", "--framework", str(fw), "--model", str(model), "--cal_conf", str(conf), "--output", str(out),
           "--input_format", layout, "--input_shape", f"{inp}: " + ",".join(map(str, shape)), "--compress_conf", str(cc),
           "--num_threads", "1", *extra]
    if weight is not None:
        cmd += ["--weight", str(weight)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": (p.stderr or p.stdout).strip().splitlines()[-1:]}
    run = [dopt, "run", "--model", str(model), "--input", f"{inp}={x}", "--output_dir", str(d / "run"), "--num_threads", "1"]
    if weight is not None:
        run += ["--weight", str(weight)]
    if fw == 3:
        run += ["--out_nodes", "labels_softmax"]
    r = subprocess.run(run, capture_output=True, text=True)
    outs = {}
    if r.returncode == 0:
        for f in sorted((d / "run").glob("*.npy")):
            outs[f.name] = np.load(f)
    return {"model": sha(out), "compress_conf": sha(cc), "run": outs,
            "run_error": None if r.returncode == 0 else (r.stderr or r.stdout).strip().splitlines()[-1:],
            "inspect": subprocess.run([dopt, "inspect", str(cc), "--json"], capture_output=True, text=True).stdout}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--only", nargs="*", help="case names")
    ap.add_argument("--keep", help="keep the work files in this folder")
    a = ap.parse_args()
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="dopt_compare_"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"old: {a.old}\nnew: {a.new}\nDOPT_CONV_ONEDNN={os.environ.get('DOPT_CONV_ONEDNN', '(unset)')} "
          f"DOPT_REFERENCE_KERNELS={os.environ.get('DOPT_REFERENCE_KERNELS', '(unset)')}\n")
    print("| model | quantized model | compress_conf | dopt run outputs (max abs old - new) |")
    print("|---|---|---|---|")
    differ = 0
    for case in CASES:
        name, model, *_rest = case
        weight = case[-1]
        if a.only and name not in a.only:
            continue
        if not Path(model).is_file() or (weight is not None and not Path(weight).is_file()):
            print(f"| {name} | skipped: {model} missing | | |")
            continue
        conf, x = prepare(work, a.new, case)
        old = run_build(a.old, "old", work, case, conf, x)
        new = run_build(a.new, "new", work, case, conf, x)
        if "error" in old or "error" in new:
            print(f"| {name} | old: {old.get('error', 'ok')} new: {new.get('error', 'ok')} | | |")
            differ += old.get("error") != new.get("error")
            continue
        same_model = old["model"] == new["model"]
        same_cc = old["compress_conf"] == new["compress_conf"]
        if old["run_error"] or new["run_error"]:
            run_txt = f"old: {old['run_error']} new: {new['run_error']}"
        else:
            diffs = [float(np.max(np.abs(old["run"][k].astype(np.float64) - new["run"][k].astype(np.float64))))
                     if old["run"][k].shape == new["run"][k].shape else float("inf") for k in old["run"]]
            run_txt = "identical" if max(diffs, default=0.0) == 0 else f"{max(diffs):.3g}"
        print(f"| {name} | {'identical' if same_model else 'differs'} ({new['model']}) | "
              f"{'identical' if same_cc else 'differs'} ({new['compress_conf']}) | {run_txt} |")
        differ += (not same_model) + (not same_cc)
    print(f"\n{differ} output file(s) differ; work files in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
