"""Resource limits on hostile models (src/common/limits.h, docs/reliability.md).

Each model declares far more than it holds, or nests/loops without end; dopt must fail with
one clear error line, quickly and without allocating what the header claims. The dopt process
runs under an address-space limit (RLIMIT_AS), so allocating a declared 8 GB tensor would
crash it instead of passing.
"""
from __future__ import annotations

import resource
import subprocess
import time

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from conftest import describe

ADDRESS_SPACE_LIMIT = 3 << 30  # dopt's own needs are far below; any 2e9-float tensor is above


def limited():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def resave(dopt, model, tmp_path):
    out = tmp_path / "out.onnx"
    t0 = time.monotonic()
    proc = subprocess.run([str(dopt), "resave", "--model", str(model), "--output", str(out)], capture_output=True,
                          text=True, timeout=120, preexec_fn=limited)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 2, describe(proc)  # an input error, not a crash (negative) or 3
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("dopt: error: "), describe(proc)
    assert str(model) in lines[0], describe(proc)
    assert not out.exists()
    assert not list(tmp_path.glob("*dopt-tmp*"))
    assert elapsed < 60, f"took {elapsed:.1f} s"
    return lines[0]


def save(model: onnx.ModelProto, path):
    # No onnx.checker: these models are invalid on purpose.
    path.write_bytes(model.SerializeToString())
    return path


def relu_model(initializer: TensorProto, opset=13) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    node = helper.make_node("Add", ["x", initializer.name], ["y"])
    g = helper.make_graph([node], "g", [x], [y], [initializer])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def test_dim_product_overflowing_int64(dopt, tmp_path):
    t = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 32, 1 << 32], raw_data=b"\0" * 4)
    msg = resave(dopt, save(relu_model(t), tmp_path / "overflow.onnx"), tmp_path)
    assert "'w'" in msg and "[4294967296,4294967296]" in msg, msg


@pytest.mark.parametrize("storage", ["raw_data", "float_data", "no_data"])
def test_two_billion_element_initializer_without_the_data(dopt, tmp_path, storage):
    t = TensorProto(name="big", data_type=TensorProto.FLOAT, dims=[2_000_000_000])
    if storage == "raw_data":
        t.raw_data = np.ones(4, np.float32).tobytes()
    elif storage == "float_data":
        t.float_data.extend([1.0, 2.0, 3.0])
    msg = resave(dopt, save(relu_model(t), tmp_path / "big.onnx"), tmp_path)
    assert "'big'" in msg and "2000000000" in msg, msg


def test_two_billion_element_initializer_with_short_external_data(dopt, tmp_path):
    (tmp_path / "weights.bin").write_bytes(np.ones(16, np.float32).tobytes())
    t = TensorProto(name="ext", data_type=TensorProto.FLOAT, dims=[2_000_000_000],
                    data_location=TensorProto.EXTERNAL)
    for k, v in [("location", "weights.bin"), ("offset", "0")]:
        e = t.external_data.add()
        e.key, e.value = k, v
    msg = resave(dopt, save(relu_model(t), tmp_path / "ext.onnx"), tmp_path)
    assert "'ext'" in msg and "weights.bin" in msg and "64 bytes" in msg, msg


def test_external_data_offset_and_length_that_overflow(dopt, tmp_path):
    (tmp_path / "weights.bin").write_bytes(np.ones(4, np.float32).tobytes())
    t = TensorProto(name="ext", data_type=TensorProto.FLOAT, dims=[4], data_location=TensorProto.EXTERNAL)
    for k, v in [("location", "weights.bin"), ("offset", str(2**63 - 8)), ("length", "16")]:
        e = t.external_data.add()
        e.key, e.value = k, v
    msg = resave(dopt, save(relu_model(t), tmp_path / "ext_overflow.onnx"), tmp_path)
    assert "'ext'" in msg and "16 bytes" in msg, msg


def test_graph_with_a_cycle(dopt, tmp_path):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Add", ["x", "c"], ["a"], name="first"),
             helper.make_node("Relu", ["a"], ["b"], name="second"),
             helper.make_node("Relu", ["b"], ["c"], name="third"),
             helper.make_node("Relu", ["b"], ["y"], name="out")]
    g = helper.make_graph(nodes, "cyclic", [x], [y])
    msg = resave(dopt, save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "cycle.onnx"),
                 tmp_path)
    assert "cycle" in msg and ("'first'" in msg or "'second'" in msg or "'third'" in msg), msg


def test_long_chain_is_not_recursion(dopt, tmp_path):
    # 20000 nodes in a line: sorting, verification and shape inference are iterative.
    n = 20000
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info(f"v{n}", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Relu", ["x" if i == 0 else f"v{i}"], [f"v{i + 1}"]) for i in range(n)]
    nodes.reverse()  # stored last-first: the loader must sort them
    g = helper.make_graph(nodes, "chain", [x], [y])
    path = save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "chain.onnx")
    out = tmp_path / "chain_out.onnx"
    proc = subprocess.run([str(dopt), "resave", "--model", str(path), "--output", str(out)], capture_output=True,
                          text=True, timeout=120, preexec_fn=limited)
    assert proc.returncode == 0, describe(proc)
    assert len(onnx.load(str(out)).graph.node) == n


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:  # a length-delimited field
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def nested_if_model(depth: int) -> bytes:
    """A model whose graph is an If whose then_branch is an If ... `depth` levels deep.

    Built as protobuf wire bytes by splicing one level's serialized prefix around the inner
    graph: python's protobuf refuses to serialize messages this deep itself."""
    leaf = helper.make_graph([helper.make_node("Identity", ["c"], ["r"])], "leaf", [],
                             [helper.make_tensor_value_info("r", TensorProto.BOOL, [])])
    graph = leaf.SerializeToString()
    cond = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
    for _ in range(depth):
        # GraphProto.node(1) > NodeProto{input(1) "c", output(2) "r", op_type(4) "If",
        # attribute(5) > AttributeProto{name(1) "then_branch", type(20) GRAPH=5, g(6) > graph}}
        attr = _field(1, b"then_branch") + _varint(20 << 3) + _varint(5) + _field(6, graph)
        node = _field(1, b"c") + _field(2, b"r") + _field(4, b"If") + _field(5, attr)
        graph = _field(1, node) + _field(11, cond.SerializeToString())
    model = helper.make_model(helper.make_graph([], "outer", [], []), opset_imports=[helper.make_opsetid("", 13)])
    model.ClearField("graph")
    return model.SerializeToString() + _field(7, graph)


def test_ten_thousand_nested_subgraphs(dopt, tmp_path):
    path = tmp_path / "nested.onnx"
    path.write_bytes(nested_if_model(10000))
    msg = resave(dopt, path, tmp_path)
    assert "nested 10000 deep" in msg and "at most 32 levels" in msg, msg


@pytest.mark.parametrize("depth", [33, 40, 200])
def test_nesting_just_past_the_limit_names_its_depth(dopt, tmp_path, depth):
    path = tmp_path / "nested.onnx"
    path.write_bytes(nested_if_model(depth))
    msg = resave(dopt, path, tmp_path)
    # 33 levels still parse (protobuf's own limit has headroom): then If is the error.
    assert f"nested {depth} deep" in msg or (depth == 33 and "(If)" in msg), msg


def test_shallow_nested_subgraphs_still_parse(dopt, tmp_path):
    # Five levels parse and load: the error is then the innermost If's missing else_branch, not
    # the nesting.
    path = tmp_path / "nested5.onnx"
    path.write_bytes(nested_if_model(5))
    onnx.load_model_from_string(path.read_bytes())  # the bytes are a valid ModelProto
    msg = resave(dopt, path, tmp_path)
    assert "(If)" in msg and "'else_branch' (a sub-graph) is missing" in msg and "deeper than" not in msg, msg
    assert msg.count("sub-graph 'then_branch'") == 4, msg  # the path down to the innermost If


def test_huge_tensor_computed_at_run_time_is_an_error(dopt, tmp_path):
    # ConstantOfShape of 10^12 elements: too big to fold at load time, so `dopt run` meets it
    # in the executor; the allocation is refused with one error line, not a crash.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1_000_000, 1_000_000])
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["big"]), helper.make_node("Add", ["big", "x"], ["y"])]
    g = helper.make_graph(nodes, "g", [x], [y], [shape])
    model = save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "huge.onnx")
    np.save(tmp_path / "x.npy", np.ones(1, np.float32))
    out = tmp_path / "out"
    proc = subprocess.run([str(dopt), "run", "--model", str(model), "--input", f"x={tmp_path / 'x.npy'}",
                           "--output_dir", str(out)], capture_output=True, text=True, timeout=120, preexec_fn=limited)
    assert proc.returncode == 2, describe(proc)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("dopt: error: ") and "out of memory" in lines[0], describe(proc)
    assert not out.exists()
