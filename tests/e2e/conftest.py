"""Shared set-up for the end-to-end tests.

These tests run the real `dopt` executable (env DOPT_BIN, default build/dopt under the repo
root) in a subprocess; numpy, onnx and onnxruntime are used in the test process only, to make
inputs and reference outputs. dopt itself is never imported into Python.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Real models from other projects, kept outside the repo (see ../shared/testdata/README.md).
SHARED_MODELS = Path(os.environ.get("DOPT_SHARED_MODELS", REPO_ROOT.parent / "shared" / "testdata" / "models" / "onnx"))
EXAMPLES = REPO_ROOT / "examples"
DOPT_TIMEOUT_S = int(os.environ.get("DOPT_TIMEOUT_S", "300"))  # seconds per dopt call; a loaded machine may need more


def shared_models() -> list[Path]:
    """Every ONNX model in the shared test data, sorted; [] when the folder is absent."""
    if not SHARED_MODELS.is_dir():
        return []
    return sorted(SHARED_MODELS.glob("*.onnx"))


def model_params() -> list:
    """pytest params, one per shared model; a single skipped param when there are none."""
    models = shared_models()
    if not models:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no shared models in {SHARED_MODELS}"))]
    return [pytest.param(m, id=m.stem) for m in models]


def dopt_bin() -> Path:
    p = Path(os.environ.get("DOPT_BIN", REPO_ROOT / "build" / "dopt"))
    if not p.is_absolute():
        p = REPO_ROOT / p
    return p


@pytest.fixture(scope="session")
def dopt() -> Path:
    p = dopt_bin()
    if not (p.is_file() and os.access(p, os.X_OK)):
        pytest.fail(f"dopt executable not found at {p}: build it (cmake --build build) or set DOPT_BIN", pytrace=False)
    return p


def run_dopt(dopt: Path, *args, cwd=None) -> subprocess.CompletedProcess:
    """Runs dopt with str()-ed args; returns the CompletedProcess with text stdout/stderr."""
    return subprocess.run([str(dopt), *[str(a) for a in args]], capture_output=True, text=True,
                          timeout=DOPT_TIMEOUT_S, cwd=cwd)


def describe(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


def safe_file_name(name: str) -> str:
    """How dopt names an output file: every char outside [A-Za-z0-9._-] becomes '_'."""
    ok = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
    # dopt works on the UTF-8 bytes: a 2-byte character becomes "__".
    return "".join(chr(b) if b in ok else "_" for b in name.encode("utf-8"))


def ort_session(model: Path, int8_as_written: bool = False):
    """An ONNX Runtime session, one thread. int8_as_written (a quantized Q/DQ model judged by
    its own arithmetic): basic graph optimisations only, so ORT runs each DequantizeLinear and
    then the float op, as the model says. At its default level ORT fuses Q/DQ groups into integer
    kernels that add pairs of u8 x s8 products into 16 bits with saturation (vpmaddubsw) on CPUs
    without VNNI: there (AVX2, scripts/avx2_only.sh) Swin-T's int8 cosine drops from 0.9997 to
    0.97, so the result would depend on the CPU rather than on the model."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # errors only: old models make ORT warn about initializers in inputs
    # One thread: deterministic, and CI has only 2 cores.
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    if int8_as_written:
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return ort.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])


_ORT_NUMPY = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}

# Per-model input set-up: concrete sizes for dynamic dims and a value range that looks like
# what the model was trained on.
MODEL_INPUTS = {
    # NHWC with dynamic H and W.
    "bodypix_mobilenetv1_050_s16": {"dims": {1: 224, 2: 224}, "scale": 1.0},
    # Raw 0..255 pixels.
    "mnist_cntk": {"scale": 255.0},
}


def check_simulation_matches_qdq(dopt: Path, d: Path, model: Path, param: Path, out: Path, x: np.ndarray) -> None:
    """dopt's own int8 simulation of the float model with the compress_conf (which prepares the
    graph with the same passes) computes what the QDQ model computes in ORT (without ORT's graph
    optimisations: exactly the QDQ arithmetic), on the first sample; input "input", output
    "logits"."""
    import onnxruntime as ort

    np.save(d / "x.npy", x[:1])
    sim = run_dopt(dopt, "run", "--model", model, "--compress_conf", param, "--input", f"input={d / 'x.npy'}",
                   "--output_dir", d / "sim")
    assert sim.returncode == 0, describe(sim)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    qdq = ort.InferenceSession(str(out), so, providers=["CPUExecutionProvider"]).run(None, {"input": x[:1]})[0]
    np.testing.assert_allclose(np.load(d / "sim" / "logits.npy"), qdq, atol=1e-4 * np.abs(qdq).max())


def make_inputs(session, model_stem: str, seed: int = 1234) -> dict[str, np.ndarray]:
    """Deterministic random inputs for every graph input of an ORT session."""
    cfg = MODEL_INPUTS.get(model_stem, {})
    rng = np.random.default_rng(seed)
    feeds = {}
    for inp in session.get_inputs():
        shape = []
        for i, d in enumerate(inp.shape):
            if isinstance(d, int) and d > 0:
                shape.append(d)
            elif i in cfg.get("dims", {}):
                shape.append(cfg["dims"][i])
            else:
                shape.append(1 if i == 0 else 224)
        dtype = _ORT_NUMPY.get(inp.type)
        if dtype is None:
            raise ValueError(f"{model_stem}: input {inp.name} has type {inp.type}, not handled by the test")
        if np.issubdtype(dtype, np.floating):
            x = rng.random(shape, dtype=np.float32) * cfg.get("scale", 1.0)
        else:
            x = rng.integers(0, 10, size=shape)
        feeds[inp.name] = x.astype(dtype)
    return feeds


def write_inputs(feeds: dict[str, np.ndarray], folder: Path) -> list[str]:
    """Saves each feed as an .npy and returns the --input NAME=FILE arguments."""
    folder.mkdir(parents=True, exist_ok=True)
    args = []
    for i, (name, x) in enumerate(feeds.items()):
        f = folder / f"input_{i}.npy"
        np.save(f, x)
        args += ["--input", f"{name}={f}"]
    return args


def read_bin610(path) -> np.ndarray:
    """A 610 .bin file (int32 magic 610, rank, dims; float32 data) as a numpy array."""
    raw = Path(path).read_bytes()
    head = np.frombuffer(raw[:8], dtype="<i4")
    assert head[0] == 610, path
    rank = int(head[1])
    dims = np.frombuffer(raw[8:8 + 4 * rank], dtype="<i4")
    return np.frombuffer(raw[8 + 4 * rank:], dtype="<f4").reshape(dims).copy()
