"""Interruption: SIGINT (Ctrl-C), SIGTERM or SIGHUP during calibration leaves no output and no
temp file, and dopt dies of the signal (docs/reliability.md)."""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from conftest import SHARED_MODELS, dopt_bin

MODEL = SHARED_MODELS / "ultraface_slim_320_nopost.onnx"
IMAGES = SHARED_MODELS.parents[1] / "images" / "imagenet-sample"  # ~1000 images: a minute or more


def default_signals():
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)  # not inherited as ignored (nohup, CI runners)


def start_quantize(tmp_path, model, images, out_dir):
    """dopt -m 0 on `model` with an IMAGE config over `images`, writing into out_dir (created),
    one thread; stderr piped (text), default signal dispositions."""
    out_dir.mkdir()
    conf = tmp_path / "config.prototxt"
    conf.write_text(f'''strategy: "Quant_INT8-8"
preprocess_parameter {{ input_type: IMAGE mean_value: 127 mean_value: 127 mean_value: 127 standard_deviation: 128 input_file_path: "{images}/" }}
''')
    return subprocess.Popen([str(dopt_bin()), "-m", "0", "--framework", "5", "--model", str(model), "--cal_conf",
                             str(conf), "--output", str(out_dir / "q.onnx"), "--compress_conf",
                             str(out_dir / "q.compress_conf"), "--num_threads", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_signals)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_signal_during_calibration_leaves_nothing(tmp_path, sig):
    if not MODEL.is_file() or not IMAGES.is_dir():
        pytest.skip(f"shared test data missing: {MODEL}, {IMAGES}")
    out_dir = tmp_path / "out"
    proc = start_quantize(tmp_path, MODEL, IMAGES, out_dir)
    seen = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("calibrating:"):  # the first progress line: calibration is running
                break
        assert any(s.startswith("calibrating:") for s in seen), "".join(seen)
        assert proc.poll() is None, "dopt finished before it could be interrupted:\n" + "".join(seen)
        time.sleep(0.5)  # well inside calibration (1000 images take a minute or more)
        os.kill(proc.pid, sig)
        proc.stderr.read()
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == -sig, f"exit {rc}, expected death by {sig.name}"
    assert sorted(p.name for p in out_dir.iterdir()) == [], list(out_dir.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.prototxt", "out"]


def test_a_model_file_changed_during_the_run_is_one_error(tmp_path):
    """dopt does not hold an ONNX model's bytes during calibration; the writer reads the file
    again. A file changed meanwhile (here: only its modification time, while dopt is stopped in
    calibration) is one error and nothing is written, never a model mixed from two files."""
    if not MODEL.is_file() or not IMAGES.is_dir():
        pytest.skip(f"shared test data missing: {MODEL}, {IMAGES}")
    model = tmp_path / "m.onnx"
    model.write_bytes(MODEL.read_bytes())
    images = tmp_path / "imgs"
    images.mkdir()
    for name in sorted(os.listdir(IMAGES))[:40]:
        (images / name).symlink_to(IMAGES / name)
    out_dir = tmp_path / "out"
    proc = start_quantize(tmp_path, model, images, out_dir)
    seen = []
    try:
        while True:
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("calibrating:"):
                os.kill(proc.pid, signal.SIGSTOP)  # hold dopt inside calibration
                break
        assert any(s.startswith("calibrating:") for s in seen), "".join(seen)
        st = model.stat()
        os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # same bytes, another time
        os.kill(proc.pid, signal.SIGCONT)
        err = "".join(seen) + proc.stderr.read()
        rc = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 2, err
    errors = [l for l in err.splitlines() if l.startswith("dopt: error:")]
    assert len(errors) == 1 and f"{model}: the model file changed while dopt ran" in errors[0], err
    assert list(out_dir.iterdir()) == []
    assert model.read_bytes() == MODEL.read_bytes()
