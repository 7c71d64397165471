"""`dopt resave` (ONNX -> dopt IR -> ONNX) must keep a model intact: it loads in onnx, keeps
names, node order, opset imports and metadata, and ONNX Runtime gives bitwise-identical
outputs for the original and the resaved model."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from conftest import EXAMPLES, describe, make_inputs, model_params, ort_session, run_dopt


def resave(dopt: Path, model: Path, tmp_path: Path) -> Path:
    out = tmp_path / f"{model.stem}.resaved.onnx"
    proc = run_dopt(dopt, "resave", "--model", model, "--output", out)
    assert proc.returncode == 0, f"dopt resave failed on {model.name}:\n{describe(proc)}"
    assert out.is_file(), describe(proc)
    assert not list(tmp_path.glob("*.dopt-tmp-*")), "temp file left behind"
    return out


def node_signature(g: onnx.GraphProto) -> list:
    return [(n.name, n.domain, n.op_type, list(n.input), list(n.output),
             [(a.name, a.type) for a in n.attribute]) for n in g.node]


def check_structure(orig: onnx.ModelProto, new: onnx.ModelProto) -> None:
    assert new.ir_version == orig.ir_version
    assert new.producer_name == orig.producer_name
    assert new.producer_version == orig.producer_version
    assert new.domain == orig.domain
    assert new.model_version == orig.model_version
    assert new.doc_string == orig.doc_string
    assert [(o.domain, o.version) for o in new.opset_import] == [(o.domain, o.version) for o in orig.opset_import]
    assert [(m.key, m.value) for m in new.metadata_props] == [(m.key, m.value) for m in orig.metadata_props]
    g0, g1 = orig.graph, new.graph
    assert g1.name == g0.name
    assert node_signature(g1) == node_signature(g0), "nodes, their order, names or attributes changed"
    assert [i.name for i in g1.input] == [i.name for i in g0.input]
    assert [o.name for o in g1.output] == [o.name for o in g0.output]
    assert [o.type for o in g1.output] == [o.type for o in g0.output]
    assert [t.name for t in g1.initializer] == [t.name for t in g0.initializer]
    init0 = {t.name: onnx.numpy_helper.to_array(t) for t in g0.initializer}
    for t in g1.initializer:
        a = onnx.numpy_helper.to_array(t)
        b = init0[t.name]
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), f"initializer {t.name} changed"


def check_roundtrip(dopt: Path, model: Path, tmp_path: Path) -> None:
    out = resave(dopt, model, tmp_path)
    orig = onnx.load(str(model))
    new = onnx.load(str(out))
    # The checker only knows IR 4 and newer well (IR 3 models list initializers as inputs and
    # predate several checks); some shared models are that old.
    if new.ir_version >= 4:
        onnx.checker.check_model(new)
    check_structure(orig, new)

    s0, s1 = ort_session(model), ort_session(out)
    feeds = make_inputs(s0, model.stem)
    names = [o.name for o in s0.get_outputs()]
    assert [o.name for o in s1.get_outputs()] == names
    r0 = s0.run(None, feeds)
    r1 = s1.run(None, feeds)
    for name, a, b in zip(names, r0, r1):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert a.tobytes() == b.tobytes(), f"{model.name}: output {name} is not bitwise identical after resave"


@pytest.mark.parametrize("model", model_params())
def test_resave_shared_model(dopt, model, tmp_path):
    check_roundtrip(dopt, model, tmp_path)


def test_resave_bundled_example(dopt, tmp_path):
    check_roundtrip(dopt, EXAMPLES / "tiny_cnn.onnx", tmp_path)


def test_resave_refuses_to_overwrite_its_input(dopt, tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes((EXAMPLES / "tiny_cnn.onnx").read_bytes())
    before = model.read_bytes()
    proc = run_dopt(dopt, "resave", "--model", model, "--output", model)
    assert proc.returncode == 2, describe(proc)
    assert proc.stderr.startswith("dopt: error: ") and "refusing to overwrite" in proc.stderr, describe(proc)
    assert model.read_bytes() == before
    # Same file through another path.
    proc = run_dopt(dopt, "resave", "--model", model, "--output", tmp_path / "." / "m.onnx")
    assert proc.returncode == 2, describe(proc)
    assert model.read_bytes() == before


@pytest.mark.parametrize("ir_version,opset", [(8, 13), (3, 7)])
def test_resave_small_model(dopt, tmp_path, ir_version, opset):
    """The round trip itself, on a model made only of ops dopt has had from the start; with
    metadata and a doc string that must survive."""
    import models

    m = models.add_relu(ir_version=ir_version, opset=opset)
    m.doc_string = "a small model"
    m.model_version = 7
    onnx.helper.set_model_props(m, {"author": "dopt tests", "license": "MIT"})
    model = models.save(m, tmp_path / "add_relu.onnx")
    check_roundtrip(dopt, model, tmp_path)
