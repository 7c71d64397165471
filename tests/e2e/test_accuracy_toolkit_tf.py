"""The accuracy options on a frozen TensorFlow graph (.pb in, .pb out): layer_precision (an op
at int16: a 16-bit FakeQuantWithMinMaxVars, another left float), bias_correction and
accuracy_target. TensorFlow running the written .pb matches dopt's own int8 simulation of the
float .pb with the same compress_conf. Skipped without TensorFlow."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import describe, run_dopt

tf = pytest.importorskip("tensorflow")
from tf_models import frozen_cache_dir  # noqa: E402,F401  (fixture)
from test_tf_quantize import (FAKE_QUANT, compare_with_simulation, frozen_small_net, graph_def,  # noqa: E402
                              make_bin, plan_of, write_conf)


def quantize(dopt, tmp, pb, conf, input_shape, out_nodes):
    q, param = tmp / "q.pb", tmp / "q.param"
    proc = run_dopt(dopt, "-m", "0", "--framework", "3", "--model", pb, "--cal_conf", conf, "--output", q,
                    "--input_shape", input_shape, "--out_nodes", out_nodes, "--compress_conf", param)
    assert proc.returncode == 0, describe(proc)
    return proc, q, param


@pytest.mark.parametrize("extra", ["bias_correction: true\nper_channel: false\n", "accuracy_target: 0.9999999\n", "mixed"])
def test_accuracy_options_in_tensorflow(dopt, tmp_path, frozen_cache_dir, extra):  # noqa: F811
    pb, ins, outs = frozen_small_net(frozen_cache_dir)
    rng = np.random.default_rng(4)
    shape = f"{ins[0]}: 1,16,16,3"
    first = None
    if extra == "mixed":
        base = write_conf(tmp_path, make_bin(dopt, tmp_path, rng.uniform(0, 1, (24, 16, 16, 3))))
        _, _, p0 = quantize(dopt, tmp_path, pb, base, shape, outs[0])
        names = [op["name"] for op in plan_of(dopt, p0)["ops"]]
        first, last = names[0], names[-1]
        extra = (f'layer_precision {{ op: "{first}" precision: INT16 }}\n'
                 f'layer_precision {{ op: "{last}" precision: FLOAT }}\n')
    conf = write_conf(tmp_path, make_bin(dopt, tmp_path, rng.uniform(0, 1, (24, 16, 16, 3))), extra)
    proc, q, param = quantize(dopt, tmp_path, pb, conf, shape, outs[0])
    plan = plan_of(dopt, param)
    fq_bits = sorted({n.attr["num_bits"].i for n in graph_def(q).node if n.op == FAKE_QUANT})
    if first:
        assert {(r["name"], r["precision"]) for r in plan["raised"]} == {(first, "int16"), (last, "float")}
        assert fq_bits == [8, 16]
    elif "bias_correction" in extra:
        assert plan["bias_correction"] and any(op.get("bias_correction") for op in plan["ops"])
    else:
        assert plan["raised"], proc.stdout  # 0.9999999 is out of int8's reach on this net
        assert "accuracy:" in proc.stdout
    x = rng.uniform(0, 1, (1, 16, 16, 3)).astype(np.float32)
    compare_with_simulation(dopt, tmp_path, pb, q, param, plan, {ins[0]: x}, outs)
