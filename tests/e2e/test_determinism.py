"""Byte-identical outputs: the same model, config and data give the same --output and
--compress_conf bytes across runs and across --num_threads (docs/reliability.md)."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from calib_cases import write_bin
from conftest import SHARED_MODELS, describe, run_dopt

MODEL = SHARED_MODELS / "ultraface_slim_320_nopost.onnx"
IMAGES = SHARED_MODELS.parents[1] / "images" / "faces"


@pytest.mark.parametrize("method", ["kl", "mse"])
def test_same_bytes_across_runs_and_thread_counts(dopt, tmp_path, method):
    if not MODEL.is_file() or not IMAGES.is_dir():
        pytest.skip(f"shared test data missing: {MODEL}, {IMAGES}")
    images = tmp_path / "images"
    images.mkdir()
    for p in sorted(IMAGES.glob("*.jpg"))[:5]:
        shutil.copy(p, images / p.name)
    conf = tmp_path / "config.prototxt"
    conf.write_text(f'''strategy: "Quant_INT8-8"
preprocess_parameter {{ input_type: IMAGE image_format: BGR mean_value: 127 mean_value: 127 mean_value: 127
                        standard_deviation: 128 input_file_path: "images/" }}
calibration_method: "{method}"
''')
    digests = {}
    for run, threads in [("t1", 1), ("t2", 2), ("t2-again", 2), ("t4", 4), ("t1-again", 1)]:
        # Each run writes under another name: the output names must not leak into the bytes.
        out, conf_out = tmp_path / f"q_{run}.onnx", tmp_path / f"q_{run}.compress_conf"
        proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", MODEL, "--cal_conf", conf,
                        "--output", out, "--compress_conf", conf_out, "--num_threads", threads)
        assert proc.returncode == 0, describe(proc)
        digests[run] = (hashlib.sha256(out.read_bytes()).hexdigest(),
                        hashlib.sha256(conf_out.read_bytes()).hexdigest())
    assert len(set(digests.values())) == 1, digests
    # The model really was quantized (a trivially constant output would also be "deterministic").
    assert b"QuantizeLinear" in (tmp_path / "q_t1.onnx").read_bytes()
    assert (tmp_path / "q_t1.compress_conf").stat().st_size > 100


def test_num_threads_rejects_negative(dopt, tmp_path):
    proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", "x.onnx", "--num_threads", "-1")
    assert proc.returncode == 2, describe(proc)
    assert "--num_threads" in proc.stderr


def _digests(paths):
    return tuple(hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in paths)


def test_tensorflow_output_same_bytes_across_thread_counts(dopt, tmp_path):
    """The TF path: the quantized .pb and the compress_conf of the KWS DS-CNN (cut at Mfcc) do
    not depend on the run or on --num_threads. No TensorFlow is needed: dopt reads and writes
    the GraphDef itself."""
    import numpy as np

    pb = SHARED_MODELS.parent / "tf" / "kws_ds_cnn_s.pb"
    if not pb.is_file():
        pytest.skip(f"shared test data missing: {pb}")
    rng = np.random.default_rng(0)
    bins = tmp_path / "bins"
    bins.mkdir()
    for i in range(6):  # Mfcc-like features: a spread of magnitudes, not all in [0, 1)
        write_bin(bins / f"s{i}.bin", 610, (1, 49, 10), rng.normal(0, 8, size=490))
    conf = tmp_path / "config.prototxt"
    conf.write_text('strategy: "Quant_INT8-8"\npreprocess_parameter { input_type: BINARY input_file_path: "bins/" }\n')
    digests = {}
    for run, threads in [("t1", 1), ("t2", 2), ("t2-again", 2), ("t1-again", 1)]:
        out, conf_out = tmp_path / f"q_{run}.pb", tmp_path / f"q_{run}.compress_conf"
        proc = run_dopt(dopt, "-m", "0", "--framework", "3", "--model", pb, "--cal_conf", conf,
                        "--output", out, "--compress_conf", conf_out, "--input_shape", "Mfcc: 1,49,10",
                        "--out_nodes", "labels_softmax", "--num_threads", threads)
        assert proc.returncode == 0, describe(proc)
        digests[run] = _digests([out, conf_out])
    assert len(set(digests.values())) == 1, digests
    assert b"FakeQuantWithMinMaxVars" in (tmp_path / "q_t1.pb").read_bytes()


def test_pytorch_output_same_bytes_across_thread_counts(dopt, tmp_path):
    """The PyTorch path: the TorchScript .pt (a zip archive) and the compress_conf of the shared
    UltraFace slim weights do not depend on the run or on --num_threads."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    import numpy as np

    here = Path(__file__).resolve().parent
    model = here / "torch_models" / "ultraface" / "ultraface_slim.py"
    weight = SHARED_MODELS.parent / "pytorch" / "ultraface_slim_320.pth"
    if not model.is_file() or not weight.is_file():
        pytest.skip(f"missing: {model}, {weight}")
    rng = np.random.default_rng(1)
    bins = tmp_path / "bins"
    bins.mkdir()
    for i in range(3):
        write_bin(bins / f"s{i}.bin", 610, (1, 3, 240, 320), rng.uniform(-1, 1, size=3 * 240 * 320))
    conf = tmp_path / "config.prototxt"
    conf.write_text('strategy: "Quant_INT8-8"\npreprocess_parameter { input_type: BINARY input_file_path: "bins/" }\n')
    digests = {}
    for run, threads in [("t1", 1), ("t2", 2), ("t1-again", 1)]:
        out, conf_out = tmp_path / f"q_{run}.pt", tmp_path / f"q_{run}.compress_conf"
        proc = run_dopt(dopt, "-m", "0", "--framework", "5", "--model", model, "--weight", weight,
                        "--cal_conf", conf, "--output", out, "--compress_conf", conf_out,
                        "--input_shape", "input: 1,3,240,320", "--num_threads", threads)
        assert proc.returncode == 0, describe(proc)
        digests[run] = _digests([out, conf_out])
    assert len(set(digests.values())) == 1, digests
