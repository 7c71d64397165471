"""Quantization plans made in Python for the QDQ tests: min/max activation ranges from ONNX
Runtime, symmetric per-channel int8 weights, written as a compress_conf file with
`protoc --encode` (src/quant/proto/compress_conf.proto). Independent of dopt's own quantizer.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from conftest import REPO_ROOT, ort_session

PROTO_DIR = REPO_ROOT / "src" / "quant" / "proto"


def have_protoc() -> bool:
    return shutil.which("protoc") is not None


def f32(v: float) -> str:
    return "%.9g" % float(np.float32(v))


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tensor_text(t: dict) -> str:
    parts = [f"tensor: {_quote(t['tensor'])}", f"bits: {t['bits']}", f"symmetric: {'true' if t['symmetric'] else 'false'}",
             f"axis: {t['axis']}"]
    parts += [f"scale: {f32(s)}" for s in t["scales"]]
    parts += [f"offset: {int(z)}" for z in t["offsets"]]
    if "range_min" in t:
        parts += [f"range_min: {f32(t['range_min'])}", f"range_max: {f32(t['range_max'])}"]
    return "{ " + " ".join(parts) + " }"


def plan_text(plan: dict) -> str:
    lines = ['format: "dopt.compress_conf"', "format_version: 1"]
    for k in ("tool_version", "strategy", "source_model", "source_sha256", "calibration_method"):
        lines.append(f"{k}: {_quote(plan.get(k, ''))}")
    for k in ("framework", "calibration_samples", "activation_bits", "weight_bits"):
        lines.append(f"{k}: {plan.get(k, 0)}")
    lines.append(f"per_channel: {'true' if plan.get('per_channel', True) else 'false'}")
    lines.append(f"symmetric_activations: {'true' if plan.get('symmetric_activations', False) else 'false'}")
    for op in plan["ops"]:
        body = [f"name: {_quote(op['name'])}", f"type: {_quote(op['type'])}", f"weight_name: {_quote(op['weight']['tensor'])}",
                f"weight_input_index: {op['weight_input_index']}", "activation " + _tensor_text(op["activation"]),
                "weight " + _tensor_text(op["weight"])]
        if "bias" in op:
            body.append("bias " + _tensor_text(op["bias"]))
        lines.append("op { " + " ".join(body) + " }")
    for e in plan.get("excluded", []):
        lines.append(f"excluded {{ name: {_quote(e['name'])} type: {_quote(e['type'])} reason: {_quote(e['reason'])} }}")
    return "\n".join(lines) + "\n"


def write_compress_conf(plan: dict, path: Path) -> None:
    """Encodes the plan with protoc into the binary compress_conf at `path`."""
    proc = subprocess.run(["protoc", "--encode=dopt_compress.CompressConf", f"-I{PROTO_DIR}",
                           str(PROTO_DIR / "compress_conf.proto")], input=plan_text(plan).encode(),
                          capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    path.write_bytes(proc.stdout)


def _act_quant(name: str, lo: float, hi: float) -> dict:
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = np.float32((hi - lo) / 255.0) if hi > lo else np.float32(1.0)
    zp = int(np.clip(np.round(-128 - lo / scale), -128, 127))
    return {"tensor": name, "bits": 8, "symmetric": False, "axis": -1, "scales": [scale], "offsets": [zp],
            "range_min": lo, "range_max": hi}


def _weight_quant(name: str, w: np.ndarray, axis: int) -> dict:
    w = w.astype(np.float32)
    red = tuple(d for d in range(w.ndim) if d != axis)
    amax = np.abs(w).max(axis=red) if w.ndim > 1 else np.abs(w)
    scales = np.where(amax > 0, amax / 127.0, 1.0).astype(np.float32)
    return {"tensor": name, "bits": 8, "symmetric": True, "axis": axis, "scales": list(scales),
            "offsets": [0] * len(scales)}


def tensor_ranges(model_path: Path, feeds_list: list[dict], names: list[str]) -> dict:
    """min/max of the named tensors over the feeds, by ONNX Runtime (the tensors become outputs)."""
    m = onnx.load(str(model_path))
    existing = {o.name for o in m.graph.output}
    for n in names:
        if n not in existing:
            m.graph.output.append(helper.make_empty_tensor_value_info(n))
    tmp = model_path.with_suffix(".ranges.onnx")
    onnx.save(m, str(tmp))
    sess = ort_session(tmp)
    out_names = [o.name for o in sess.get_outputs()]
    ranges = {n: [np.inf, -np.inf] for n in names}
    for feeds in feeds_list:
        outs = dict(zip(out_names, sess.run(None, feeds)))
        for n in names:
            v = outs[n].astype(np.float32)
            ranges[n][0] = min(ranges[n][0], float(v.min()))
            ranges[n][1] = max(ranges[n][1], float(v.max()))
    tmp.unlink()
    return ranges


def make_plan(model_path: Path, feeds_list: list[dict], exclude: tuple = ()) -> dict:
    """Conv / Gemm / MatMul-with-constant-B of the model, min/max activations, per-channel weights."""
    m = onnx.load(str(model_path))
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    todo, excluded = [], []
    for i, n in enumerate(m.graph.node):
        name = n.name or f"{n.op_type}_{i}"
        if n.op_type not in ("Conv", "Gemm", "MatMul"):
            continue
        if name in exclude:
            excluded.append({"name": name, "type": n.op_type, "reason": "exclude_op in the config"})
            continue
        if n.op_type == "MatMul":
            if n.input[1] not in inits or inits[n.input[1]].ndim != 2:
                continue
            axis = 1
        elif n.op_type == "Gemm":
            if n.input[1] not in inits:
                continue
            trans_b = next((a.i for a in n.attribute if a.name == "transB"), 0)
            axis = 0 if trans_b else 1
        else:
            if n.input[1] not in inits:
                continue
            axis = 0
        todo.append((name, n, axis))
    ranges = tensor_ranges(model_path, feeds_list, sorted({n.input[0] for _, n, _ in todo}))
    ops = []
    for name, n, axis in todo:
        act = _act_quant(n.input[0], *ranges[n.input[0]])
        wq = _weight_quant(n.input[1], inits[n.input[1]], axis)
        op = {"name": name, "type": n.op_type, "weight_input_index": 1, "activation": act, "weight": wq}
        if len(n.input) > 2 and n.input[2] and inits.get(n.input[2]) is not None and inits[n.input[2]].ndim == 1:
            bs = [np.float32(act["scales"][0] * s) for s in wq["scales"]]
            op["bias"] = {"tensor": n.input[2], "bits": 32, "symmetric": True, "axis": 0, "scales": bs,
                          "offsets": [0] * len(bs)}
        ops.append(op)
    return {"tool_version": "tests", "strategy": "Quant_INT8-8", "framework": 5, "source_model": model_path.name,
            "source_sha256": "0" * 64, "calibration_method": "minmax", "calibration_samples": len(feeds_list),
            "activation_bits": 8, "weight_bits": 8, "per_channel": True, "symmetric_activations": False,
            "ops": ops, "excluded": excluded}


def empty_plan() -> dict:
    return {"tool_version": "tests", "strategy": "Quant_INT8-8", "framework": 5, "ops": []}
