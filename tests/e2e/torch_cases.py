"""Shared set-up for the PyTorch-path tests (test_pytorch_*.py): dopt on .py + .pth models,
torch in the test process for references, the quantized .pt run by torch.jit.load in a fresh
interpreter that cannot import the model's code, compress_conf decoded with protoc."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO_ROOT, describe, read_bin610, run_dopt

TORCH_MODELS = Path(__file__).resolve().parent / "torch_models"
SHARED = REPO_ROOT.parent / "shared" / "testdata"
IMAGENET = SHARED / "images" / "imagenet-sample"


def have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except Exception:
        return False
    return True


needs_torch = pytest.mark.skipif(not have_torch(), reason="torch is not installed (pip install torch==2.13.0)")


def quantize(dopt, model, weight, conf, output, input_shape, *extra, compress_conf=None):
    args = ["-m", "0", "--framework", "5", "--model", model, "--weight", weight, "--cal_conf", conf,
            "--output", output, "--input_shape", input_shape, *extra]
    if compress_conf:
        args += ["--compress_conf", compress_conf]
    return run_dopt(dopt, *args)


def binary_config(path: Path, bins, extra: str = "") -> Path:
    text = 'strategy: "Quant_INT8-8"\n'
    for b in bins:
        text += f'preprocess_parameter {{\n  input_type: BINARY\n  input_file_path: "{b}"\n}}\n'
    path.write_text(text + extra)
    return path


def make_bin(dopt, array: np.ndarray, path: Path) -> Path:
    npy = path.with_suffix(".npy")
    np.save(npy, array.astype(np.float32))
    proc = run_dopt(dopt, "make-bin", "--npy", npy, "-o", path)
    assert proc.returncode == 0, describe(proc)
    return path


def imagenet_batch(dopt, tmp: Path, names, size=224) -> np.ndarray:
    """Real ImageNet images, RGB, torchvision's mean/std, decoded and resized by dopt make-bin."""
    folder = Path(tempfile.mkdtemp(prefix="imgs_", dir=tmp))
    for n in names:
        os.symlink(IMAGENET / n, folder / n)
    out = folder.with_suffix(".bin")
    proc = run_dopt(dopt, "make-bin", "--images", folder, "--image_shape", f"3,{size},{size}", "--image_format", "RGB",
                    "--mean_value", "123.675,116.28,103.53", "--standard_deviation", "58.395,57.12,57.375", "-o", out)
    assert proc.returncode == 0, describe(proc)
    return read_bin610(out)


def imagenet_names(start: int, count: int):
    names = sorted(p.name for p in IMAGENET.iterdir())
    return names[start:start + count]


def conf_ops(path: Path) -> list[dict]:
    """The quantized ops of a compress_conf: name, type, activation scale/offset, weight scales
    (`scales2`: the second weight's; `weight_is_activation`: "true" for a product of two activations)."""
    if shutil.which("protoc") is None:
        pytest.skip("protoc is needed to decode compress_conf")
    proto_dir = REPO_ROOT / "src" / "quant" / "proto"
    proc = subprocess.run(["protoc", "--decode=dopt_compress.CompressConf", f"-I{proto_dir}",
                           str(proto_dir / "compress_conf.proto")], input=path.read_bytes(), capture_output=True)
    assert proc.returncode == 0, proc.stderr
    ops, cur, section = [], None, None
    for line in proc.stdout.decode().splitlines():
        s = line.strip()
        depth = (len(line) - len(line.lstrip())) // 2
        if depth == 0 and s == "op {":
            cur = {"scales": [], "act_scale": None, "act_offset": 0}
            ops.append(cur)
        elif depth == 0:
            cur = None
        elif cur is not None and depth == 1 and s.endswith("{"):
            section = s[:-2]
        elif cur is not None and depth == 1 and ":" in s:
            k, v = s.split(":", 1)
            cur[k] = v.strip().strip('"')
        elif cur is not None and depth == 2:
            k, v = s.split(":", 1)
            if section == "weight" and k == "scale":
                cur["scales"].append(float(v))
            elif section == "weight2" and k == "scale":  # LSTM/GRU/RNN's R
                cur.setdefault("scales2", []).append(float(v))
            elif section == "activation" and k == "scale":
                cur["act_scale"] = float(v)
            elif section == "activation" and k == "offset":
                cur["act_offset"] = int(v)
    return ops


_RUN_PT = r"""
import json, sys
import numpy as np
import torch
pt, out_dir = sys.argv[1], sys.argv[2]
inputs = [torch.from_numpy(np.load(f)) for f in sys.argv[3:]]
m = torch.jit.load(pt)
with torch.no_grad():
    out = m(*inputs)
def flat(o, prefix):
    if isinstance(o, torch.Tensor):
        return [(prefix, o)]
    if isinstance(o, (tuple, list)):
        return [x for i, v in enumerate(o) for x in flat(v, "%s_%d" % (prefix, i))]
    if isinstance(o, dict):
        return [x for k, v in o.items() for x in flat(v, k if prefix == "output" else "%s_%s" % (prefix, k))]
    raise TypeError(type(o))
names = []
for n, t in flat(out, "output"):
    np.save("%s/%s.npy" % (out_dir, n), t.numpy())
    names.append(n)
print(json.dumps({"type": type(out).__name__, "outputs": names}))
"""


def run_pt(pt: Path, input_files, out_dir: Path) -> dict:
    """torch.jit.load + forward in this process (the fresh-process check is run_pt_fresh)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = sys.argv
    sys.argv = ["run_pt", str(pt), str(out_dir), *map(str, input_files)]
    try:
        import contextlib
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            exec(_RUN_PT, {})
    finally:
        sys.argv = saved
    return json.loads(buf.getvalue().strip().splitlines()[-1])


def run_pt_fresh(pt: Path, input_files, out_dir: Path) -> dict:
    """torch.jit.load + forward in a fresh, isolated interpreter (-I: no PYTHONPATH, no script
    folder on sys.path) run in an empty folder: the model's own .py cannot be imported."""
    out_dir.mkdir(parents=True, exist_ok=True)
    empty = out_dir / "cwd"
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-I", "-c", _RUN_PT, str(pt), str(out_dir), *map(str, input_files)],
                          capture_output=True, text=True, cwd=empty, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cosine(a, b) -> float:
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-30))


def output_steps(conf_path: Path):
    """Largest activation scale in a compress_conf (one quantisation step of the coarsest tensor)."""
    return max(op["act_scale"] for op in conf_ops(conf_path))


def calibrate_batchnorm(model, batches):
    """Gives a random-init net realistic BatchNorm statistics (as training would): cumulative
    running mean/var over real images, so BN folding matters and activations stay in range."""
    import torch

    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    model.train()
    with torch.no_grad():
        for b in batches:
            model(torch.from_numpy(b))
    model.eval()
    return model


def safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)
