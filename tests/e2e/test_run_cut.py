"""`dopt run` cuts a model at inputs that name inner tensors (the file's shape is the cut
shape) and writes the tensors named by --out_nodes: running the tail of a model from a tensor
the head produced gives the head+tail result."""
from __future__ import annotations

import numpy as np

from conftest import EXAMPLES, describe, run_dopt


def test_onnx_run_from_an_inner_tensor_equals_the_full_run(dopt, tmp_path):
    model = EXAMPLES / "tiny_cnn.onnx"
    full = run_dopt(dopt, "run", "--model", model, "--input", f"input={EXAMPLES / 'input.npy'}",
                    "--output_dir", tmp_path / "a", "--out_nodes", "relu_out; probs")
    assert full.returncode == 0, describe(full)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["probs.npy", "relu_out.npy"]
    tail = run_dopt(dopt, "run", "--model", model, "--input", f"relu_out={tmp_path / 'a' / 'relu_out.npy'}",
                    "--output_dir", tmp_path / "b")
    assert tail.returncode == 0, describe(tail)
    a, b = np.load(tmp_path / "a" / "probs.npy"), np.load(tmp_path / "b" / "probs.npy")
    np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
    # The cut must really start there: different data at relu_out, different probs.
    np.save(tmp_path / "z.npy", np.zeros_like(np.load(tmp_path / "a" / "relu_out.npy")))
    z = run_dopt(dopt, "run", "--model", model, "--input", f"relu_out={tmp_path / 'z.npy'}", "--output_dir", tmp_path / "c")
    assert z.returncode == 0, describe(z)
    assert np.abs(np.load(tmp_path / "c" / "probs.npy") - a).max() > 1e-4


def test_out_nodes_names_an_unknown_tensor(dopt, tmp_path):
    proc = run_dopt(dopt, "run", "--model", EXAMPLES / "tiny_cnn.onnx", "--input", f"input={EXAMPLES / 'input.npy'}",
                    "--output_dir", tmp_path / "a", "--out_nodes", "no_such_tensor")
    assert proc.returncode == 2, describe(proc)
    assert "--out_nodes names 'no_such_tensor', which is not a tensor of the model" in proc.stderr
    assert not (tmp_path / "a").exists()
