"""Bad input files: each case must end with exactly one stderr line `dopt: error: ...` that
names the offending file and the cause, exit code 2, no traceback or crash, and no output file
left behind. One row = one case; docs/errors.md lists the same rows."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from onnx import TensorProto
import pytest

import models
from conftest import EXAMPLES, describe, run_dopt


@dataclass
class Case:
    command: str        # "run" or "resave"
    model: str          # file name in the fixture folder (or a path made by `setup`)
    names: str          # the file the message must name ("model" or "input")
    cause: str          # regex the message must match after the file name
    input: str = "good.npy"


CASES = {
    # --- the model file -------------------------------------------------------------------
    "model-truncated": Case("run", "truncated.onnx", "model", r"not an ONNX model: the file does not parse"),
    "model-random-bytes": Case("run", "random.onnx", "model", r"not an ONNX model"),
    "model-text-file": Case("run", "text.onnx", "model", r"not an ONNX model"),
    "model-empty": Case("run", "empty.onnx", "model", r"file is empty, not an ONNX model"),
    "model-missing": Case("run", "missing.onnx", "model", r"No such file or directory"),
    "model-is-directory": Case("run", "a_directory.onnx", "model", r"is a directory, expected a file"),
    "model-unknown-op": Case("run", "unknown_op.onnx", "model", r"unsupported op in 1 node: 'frob' \(FrobnicateTensor\)"),
    "model-control-flow-sequence": Case("run", "if_seq.onnx", "model", r"node 'choose' \(If\): attribute 'else_branch': value 'else_out' is not a tensor \(sequences, maps and optionals are not supported\)"),
    "model-conv-int64": Case("run", "conv_int64.onnx", "model", r"conv.*input 0 has type int64, expected one of float32"),
    "model-conv-four-inputs": Case("run", "conv_four_inputs.onnx", "model", r"node 'conv' \(Conv\): Conv takes 2 or 3 inputs, got 4"),
    "model-string-input": Case("run", "string_input.onnx", "model", r"value 'input'.*data type STRING is not supported"),
    "model-ir-version-2": Case("run", "ir2.onnx", "model", r"ONNX IR version 2 is not supported"),
    "model-opset-6": Case("run", "opset6.onnx", "model", r"default-domain opset 6 is too old: .*; Add has a different definition at opset 6"),
    "resave-truncated": Case("resave", "truncated.onnx", "model", r"not an ONNX model: the file does not parse"),
    "resave-unknown-op": Case("resave", "unknown_op.onnx", "model", r"unsupported op in 1 node"),
    # --- the input data -------------------------------------------------------------------
    "input-npy-wrong-shape": Case("run", "add_relu.onnx", "input", r"has shape \[1,1,4,4\], model input 'input' expects \[1,1,8,8\]", "small.npy"),
    "input-npy-wrong-dtype": Case("run", "cast_int32.onnx", "input", r"holds float32 data, model input 'input' is int32", "good.npy"),
    "input-npy-not-npy": Case("run", "add_relu.onnx", "input", r"not a valid \.npy file: missing the \\x93NUMPY magic", "text.npy"),
    "input-npy-truncated": Case("run", "add_relu.onnx", "input", r"not a valid \.npy file: data has \d+ bytes", "truncated.npy"),
    "input-npy-bad-header": Case("run", "add_relu.onnx", "input", r"not a valid \.npy file: shape \(99999999999999999999999,\): dim '99999999999999999999999' is not an integer in \[0, 2\^40\]", "bad_header.npy"),
    "input-missing": Case("run", "add_relu.onnx", "input", r"No such file or directory", "missing.npy"),
    "input-bin-bad-magic": Case("run", "add_relu.onnx", "input", r"bad magic number 123, expected 610 or 510", "magic.bin"),
    "input-bin-size-mismatch": Case("run", "add_relu.onnx", "input", r"file has \d+ bytes, header shape \[1,1,8,8\]", "short.bin"),
    "input-bin-wrong-shape": Case("run", "add_relu.onnx", "input", r"has shape \[1,1,4,4\], model input 'input' expects \[1,1,8,8\]", "small.bin"),
}


def make_bad_files(d: Path) -> Path:
    """Writes every model and data file the cases use into folder `d`."""
    real = (EXAMPLES / "tiny_cnn.onnx").read_bytes()
    (d / "truncated.onnx").write_bytes(real[: len(real) // 2])
    (d / "random.onnx").write_bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (d / "text.onnx").write_text("This is a text file, not an ONNX model.\n" * 20)
    (d / "empty.onnx").write_bytes(b"")
    (d / "a_directory.onnx").mkdir()
    models.save(models.unknown_op(), d / "unknown_op.onnx")
    models.save(models.control_flow_sequence(), d / "if_seq.onnx")
    models.save(models.conv_int64(), d / "conv_int64.onnx")
    models.save(models.conv_four_inputs(), d / "conv_four_inputs.onnx")
    models.save(models.string_input(), d / "string_input.onnx")
    models.save(models.add_relu(ir_version=2), d / "ir2.onnx")
    models.save(models.add_relu(opset=6, ir_version=3), d / "opset6.onnx")
    models.save(models.add_relu(), d / "add_relu.onnx")
    models.save(models.cast_to_float(TensorProto.INT32), d / "cast_int32.onnx")

    x = np.random.default_rng(3).standard_normal(models.X_SHAPE).astype(np.float32)
    np.save(d / "good.npy", x)
    np.save(d / "small.npy", x[:, :, :4, :4])
    np.save(d / "int32.npy", x.astype(np.int32))
    (d / "text.npy").write_text("1 2 3 4\n")
    full = (d / "good.npy").read_bytes()
    (d / "truncated.npy").write_bytes(full[:-16])
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }\n"
    (d / "bad_header.npy").write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(4))
    good_bin = models.bin_bytes(x)
    (d / "magic.bin").write_bytes(models.bin_bytes(x, magic=123))
    (d / "short.bin").write_bytes(good_bin[:-40])
    (d / "small.bin").write_bytes(models.bin_bytes(x[:, :, :4, :4], magic=510))
    return d


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    return make_bad_files(tmp_path_factory.mktemp("bad_files"))


def check_one_error_line(proc, must_name: str, cause: str) -> str:
    assert proc.returncode == 2, describe(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, "expected exactly one line on stderr\n" + describe(proc)
    line = lines[0]
    assert line.startswith("dopt: error: "), describe(proc)
    for bad in ("Traceback", "terminate called", "Aborted", "Segmentation", "what():"):
        assert bad not in proc.stderr, describe(proc)
    assert must_name in line, f"message does not name {must_name}\n" + describe(proc)
    assert re.search(cause, line), f"message does not match /{cause}/\n" + describe(proc)
    return line


@pytest.mark.parametrize("case_id", list(CASES))
def test_bad_file(dopt, files, tmp_path, case_id):
    c = CASES[case_id]
    model = files / c.model
    inp = files / c.input
    out_dir = tmp_path / "out"
    out_file = tmp_path / "resaved.onnx"
    listing_before = sorted(p.name for p in files.iterdir())
    if c.command == "run":
        proc = run_dopt(dopt, "run", "--model", model, "--input", f"input={inp}", "--output_dir", out_dir)
    else:
        proc = run_dopt(dopt, "resave", "--model", model, "--output", out_file)
    check_one_error_line(proc, str(model if c.names == "model" else inp), c.cause)
    assert not proc.stdout.strip(), describe(proc)
    # Nothing written: no output folder, no resaved model, no temp files, inputs untouched.
    assert not out_dir.exists(), "output folder created by a failed run"
    assert not out_file.exists(), "output model written by a failed resave"
    assert not list(tmp_path.rglob("*dopt-tmp*"))
    assert sorted(p.name for p in files.iterdir()) == listing_before


def test_output_dir_is_a_file(dopt, files, tmp_path):
    target = tmp_path / "not_a_dir"
    target.write_text("keep me")
    proc = run_dopt(dopt, "run", "--model", files / "add_relu.onnx", "--input", f"input={files / 'good.npy'}",
                    "--output_dir", target)
    check_one_error_line(proc, str(target), r"is not a directory")
    assert target.read_text() == "keep me"


def test_unknown_input_name(dopt, files, tmp_path):
    model = files / "add_relu.onnx"
    proc = run_dopt(dopt, "run", "--model", model, "--input", f"nosuch={files / 'good.npy'}",
                    "--output_dir", tmp_path / "out")
    check_one_error_line(proc, str(model), r"'nosuch' is not an input of the model \(inputs: input\)")
    assert not (tmp_path / "out").exists()


def test_bad_flag_is_one_line(dopt):
    proc = run_dopt(dopt, "run", "--no-such-flag")
    assert proc.returncode == 2, describe(proc)
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("dopt: error: "), describe(proc)
