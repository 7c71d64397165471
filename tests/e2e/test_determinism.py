"""Byte-identical outputs: the same model, config and data give the same --output and
--compress_conf bytes across runs and across --num_threads (docs/reliability.md)."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

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
