#!/usr/bin/env python3
"""TensorFlow int8 accuracy: dopt's quantized .pb vs TFLite's own int8 models (MLPerf Tiny).

Models (../shared/testdata): ResNet-8 CIFAR-10 (models/keras/resnet8_cifar10.h5 and
models/tflite/resnet8_cifar10_int8.tflite) and VWW MobileNetV1 x0.25 96x96
(models/keras/vww_96_mobilenetv1_025.h5 and models/tflite/vww_96_int8.tflite).

* The .h5 is frozen to a GraphDef .pb (batch 1) with tests/e2e/tf_models.py; that float .pb is
  the float reference (run in TF) and what dopt quantizes:
  `dopt -m 0 --framework 3 --model float.pb --cal_conf c --output q.pb --input_format NHWC
   --input_shape "x: 1,H,W,3" --out_nodes Identity --compress_conf param`, once with dopt's
  default calibration method and once per `calibration_method` (minmax, kl, percentile, mse).
  TF runs each q.pb. TFLite's int8 model runs in tf.lite.Interpreter, its input quantized with
  the scale/zero point of its input_details and its output dequantized.
* Preprocessing: dopt's IMAGE loader (`dopt make-bin --images`, RGB, bilinear resize, NHWC),
  once; every tool reads the same float data. ResNet-8 takes raw 0..255 RGB (TFLite int8 input
  scale 1, zero point -128). VWW takes 0..1 (x / 255): TFLite's int8 input scale is 1/255 (zero
  point -128), as in MLPerf Tiny's training (rescale 1/255). The script prints the float
  model's mean top probability and share of 'person' for both ranges: 0..255 looks *more*
  confident (0.98) but calls 61 % of ImageNet images 'person' (saturated inputs), 0..1 gives
  0.89 and 7 %, plausible for ImageNet classes; so confidence alone would mislead.
* ResNet-8: CIFAR-10 test images (images/cifar10-test/<class>/, class index = alphabetical
  folder order). Calibration: every 20th image (100, 10 per class); evaluation: the others
  (1900, or --eval N). Top-1 of float (TF), dopt int8 (TF on dopt's .pb), TFLite int8.
* VWW: no labelled person images exist in the test data, so the figures are agreement with the
  float model's decision (argmax of 2) and the cosine of int8 vs float outputs, on the 1000
  images/imagenet-sample images resized to 96x96. Calibration: every 10th of them (100);
  agreement is given on all 1000 and on the 900 not used for calibration.

Example (a few minutes on 2 cores):
  python3 bench/bench_tf_quant.py --dopt build/dopt
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from bench_quant import read_bin  # noqa: E402  (the 610 .bin reader, one copy)
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "testdata"))
METHODS = ["default", "minmax", "kl", "percentile", "mse"]


def run(cmd):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}\n{p.stdout}\n{p.stderr}")
    return p.stdout


def images_to_array(dopt, files, work, name, hw, extra=()):
    d = os.path.join(work, name + "_dir")
    os.makedirs(d)
    for i, p in enumerate(files):
        os.symlink(p, os.path.join(d, f"{i:05d}{os.path.splitext(p)[1].lower()}"))
    out = os.path.join(work, name + ".bin")
    run([dopt, "make-bin", "--images", d, "--image_shape", f"3,{hw},{hw}", "--image_format", "RGB",
         "--input_format", "NHWC", "-o", out, *extra])
    return read_bin(out), out


class TfGraph:
    def __init__(self, pb, inp, out):
        import tensorflow as tf
        gd = tf.compat.v1.GraphDef()
        with open(pb, "rb") as f:
            gd.ParseFromString(f.read())
        self.g = tf.Graph()
        with self.g.as_default():
            tf.compat.v1.import_graph_def(gd, name="")
        self.s = tf.compat.v1.Session(graph=self.g)
        self.i = self.g.get_tensor_by_name(inp + ":0")
        self.o = self.g.get_tensor_by_name(out + ":0")

    def __call__(self, x):
        return np.concatenate([self.s.run(self.o, {self.i: x[k:k + 1]}) for k in range(len(x))])


def tflite_run(path, x):
    import tensorflow as tf
    it = tf.lite.Interpreter(model_path=path, num_threads=1)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    si, zi = i["quantization"]
    so, zo = o["quantization"]
    outs = []
    for k in range(len(x)):
        v = x[k:k + 1]
        if i["dtype"] != np.float32:
            info = np.iinfo(i["dtype"])
            v = np.clip(np.round(v / si) + zi, info.min, info.max).astype(i["dtype"])
        it.set_tensor(i["index"], v)
        it.invoke()
        y = it.get_tensor(o["index"]).astype(np.float32)
        if o["dtype"] != np.float32:
            y = (y - zo) * so
        outs.append(y)
    return np.concatenate(outs)


def quantize(dopt, work, pb, calib_bin, inp, out, hw, method):
    tag = method
    conf = os.path.join(work, f"{tag}.prototxt")
    with open(conf, "w") as f:
        f.write(f'strategy: "Quant_INT8-8"\npreprocess_parameter {{\n  input_type: BINARY\n'
                f'  input_file_path: "{calib_bin}"\n}}\n')
        if method != "default":
            f.write(f'calibration_method: "{method}"\n')
    q = os.path.join(work, f"q_{tag}.pb")
    t0 = time.time()
    out_text = run([dopt, "-m", "0", "--framework", "3", "--model", pb, "--cal_conf", conf, "--output", q,
         "--input_format", "NHWC", "--input_shape", f"{inp}: 1,{hw},{hw},3", "--out_nodes", out,
         "--compress_conf", os.path.join(work, f"param_{tag}")])
    secs = time.time() - t0
    if method == "default":
        for line in out_text.splitlines():
            if line.strip().startswith(("quantized:", "left in float:", "folded:")):
                print("  dopt:", line.strip())
    return q, secs


def cosine(a, b):
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return float(np.mean(np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)))


def resnet8(dopt, work, n_eval, methods):
    import tf_models as tfm
    root = os.path.join(SHARED, "images", "cifar10-test")
    classes = sorted(os.listdir(root))
    items = [(os.path.join(root, c, f), k) for k, c in enumerate(classes) for f in sorted(os.listdir(os.path.join(root, c)))]
    calib = items[::20]
    evals = [it for j, it in enumerate(items) if j % 20 != 0][:n_eval]
    _, calib_bin = images_to_array(dopt, [p for p, _ in calib], work, "r8_calib", 32)
    x, _ = images_to_array(dopt, [p for p, _ in evals], work, "r8_eval", 32)
    y = np.array([k for _, k in evals])
    pb = os.path.join(work, "resnet8.pb")
    (inp,), (out,) = tfm.freeze_h5(os.path.join(SHARED, "models", "keras", "resnet8_cifar10.h5"), pb)
    rows = []
    ref = TfGraph(pb, inp, out)(x)
    rows.append(("float (TF, frozen .h5)", float(np.mean(ref.argmax(1) == y)), "", ""))
    for m in methods:
        q, secs = quantize(dopt, work, pb, calib_bin, inp, out, 32, m)
        got = TfGraph(q, inp, out)(x)
        rows.append((f"dopt int8 ({m})", float(np.mean(got.argmax(1) == y)), f"{np.mean(got.argmax(1) == ref.argmax(1)):.4f}",
                     f"{secs:.1f} s"))
    for name in ("resnet8_cifar10_float", "resnet8_cifar10_int8"):
        got = tflite_run(os.path.join(SHARED, "models", "tflite", name + ".tflite"), x)
        rows.append((f"TFLite {name.split('_')[-1]}", float(np.mean(got.argmax(1) == y)),
                     f"{np.mean(got.argmax(1) == ref.argmax(1)):.4f}", ""))
    print(f"\n## ResNet-8 CIFAR-10: {len(calib)} calibration images, {len(evals)} evaluation images\n")
    print("| model | top-1 | agrees with float | dopt -m 0 wall time |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.4f} | {r[2]} | {r[3]} |")


def vww(dopt, work, methods):
    import tf_models as tfm
    root = os.path.join(SHARED, "images", "imagenet-sample")
    files = sorted(os.path.join(root, f) for f in os.listdir(root) if f.lower().endswith((".jpeg", ".jpg", ".png")))
    x255, _ = images_to_array(dopt, files, work, "vww_all", 96)
    pb = os.path.join(work, "vww.pb")
    (inp,), (out,) = tfm.freeze_h5(os.path.join(SHARED, "models", "keras", "vww_96_mobilenetv1_025.h5"), pb)
    fl = TfGraph(pb, inp, out)
    # Which input range? The float model's confidence on 0..255 vs 0..1 inputs.
    conf = {}
    for name, scale in (("0..255", 1.0), ("0..1", 1 / 255.0)):
        p = fl(x255[:200] * np.float32(scale))
        conf[name] = (float(np.mean(p.max(1))), float(np.mean(p.argmax(1) == 1)))
    print("\n## VWW input range check (float model, 200 images): mean max-probability, share 'person'")
    for k, v in conf.items():
        print(f"  {k}: {v[0]:.3f}, {v[1]:.3f}")
    x = (x255 * np.float32(1 / 255.0)).astype(np.float32)
    calib_idx = np.arange(0, len(x), 10)
    held = np.setdiff1d(np.arange(len(x)), calib_idx)
    calib_bin = os.path.join(work, "vww_calib.bin")
    np.save(os.path.join(work, "vww_calib.npy"), x[calib_idx])
    run([dopt, "make-bin", "--npy", os.path.join(work, "vww_calib.npy"), "-o", calib_bin])
    ref = fl(x)
    rows = []
    for m in methods:
        q, secs = quantize(dopt, work, pb, calib_bin, inp, out, 96, m)
        got = TfGraph(q, inp, out)(x)
        rows.append((f"dopt int8 ({m})", got, f"{secs:.1f} s"))
    rows.append(("TFLite float", tflite_run(os.path.join(SHARED, "models", "tflite", "vww_96_float.tflite"), x), ""))
    rows.append(("TFLite int8", tflite_run(os.path.join(SHARED, "models", "tflite", "vww_96_int8.tflite"), x), ""))
    print(f"\n## VWW MobileNetV1 x0.25: {len(x)} imagenet-sample images at 96x96 (0..1), calibration = every 10th (100)\n")
    print(f"float model (TF): 'person' on {np.mean(ref.argmax(1) == 1):.3f} of the images\n")
    print("| model | agrees with float (1000) | agrees (900 held out) | cosine to float | mean abs diff p(person) | dopt -m 0 wall time |")
    print("|---|---|---|---|---|---|")
    for name, got, secs in rows:
        agree = got.argmax(1) == ref.argmax(1)
        print(f"| {name} | {agree.mean():.4f} | {agree[held].mean():.4f} | {cosine(got, ref):.5f} | "
              f"{np.mean(np.abs(got[:, 1] - ref[:, 1])):.4f} | {secs} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dopt", default=os.path.join(HERE, "..", "build", "dopt"))
    ap.add_argument("--eval", type=int, default=1900, help="ResNet-8 evaluation images (max 1900)")
    ap.add_argument("--methods", nargs="+", default=METHODS)
    ap.add_argument("--only", choices=["resnet8", "vww"])
    a = ap.parse_args()
    dopt = os.path.abspath(a.dopt)
    with tempfile.TemporaryDirectory() as work:
        if a.only in (None, "resnet8"):
            os.makedirs(os.path.join(work, "r8"))
            resnet8(dopt, os.path.join(work, "r8"), a.eval, a.methods)
        if a.only in (None, "vww"):
            os.makedirs(os.path.join(work, "vww"))
            vww(dopt, os.path.join(work, "vww"), a.methods)


if __name__ == "__main__":
    main()
