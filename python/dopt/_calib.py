"""Calibration data for the Python API: streaming samples into 610 ``.bin`` files and writing
the ``config.prototxt`` that points dopt at them.

The ``.bin`` layout (docs/calibration_inputs.md): little-endian int32 ``610``, int32 rank,
rank x int32 dims, then float32 data. Every yielded array is written as one *whole sample*:
the file is ``[count, *array.shape]``, one rank above the model input, so dopt feeds each
array to the model exactly as it was yielded (its first dim is the batch; never re-batched)
and the sample count in the header is patched once the iterable is exhausted.
"""

from __future__ import annotations

import os
import struct
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

from ._cli import DoptError

BIN_MAGIC = 610
MAX_BIN_RANK = 8
# float32 holds every integer of magnitude up to 2**24 exactly.
EXACT_INT_LIMIT = 2 ** 24

# dopt's own NotrainParameter fields (src/data/proto/dopt_config.proto), by kind.
_FLOAT_FIELDS = {"percentile", "accuracy_target", "smooth_quant_alpha"}
_INT_FIELDS = {"max_calibration_samples", "analysis_samples"}
_BOOL_FIELDS = {"per_channel", "symmetric_activations", "quantize_activation_matmul",
                "equalization", "bias_correction"}
_STR_FIELDS = {"calibration_method"}
# Repeated string fields: a string ("A; B") or a list of strings.
_LIST_FIELDS = {"quantize_op_type"}
_ENUM_FIELDS = {"x86_saturation_safe": ("NONE", "FIRST_LAYER", "ALL"),
                "device": ("USE_CPU", "USE_GPU")}
# Preprocessing of an image folder (PreProcessParameter), accepted as **config keys.
PREPROCESS_FIELDS = {"mean_value", "standard_deviation", "image_format"}
CONFIG_FIELDS = sorted(_FLOAT_FIELDS | _INT_FIELDS | _BOOL_FIELDS | _STR_FIELDS | _LIST_FIELDS | set(_ENUM_FIELDS)
                       | {"layer_precision"} | PREPROCESS_FIELDS)
_PRECISIONS = ("INT8", "INT16", "FLOAT")
_BIN_EXTS = (".bin",)


def quote(s: str) -> str:
    """A protobuf TextFormat string literal."""
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{out}"'


def _number(field: str, v: Any, kind: type) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (kind is int and not float(v).is_integer()):
        raise TypeError(f"config field {field!r} takes {'an integer' if kind is int else 'a number'}, got {v!r}")
    return str(int(v)) if kind is int else repr(float(v))


def _layer_precision_blocks(v: Any) -> List[str]:
    """``{op: precision}`` or a list of ``{"op"|"tensor": name, "precision": p}`` dicts."""
    entries: List[Tuple[str, str, str]] = []
    if isinstance(v, Mapping):
        for op, p in v.items():
            entries.append(("op", str(op), str(p)))
    elif isinstance(v, (list, tuple)):
        for e in v:
            if not isinstance(e, Mapping) or ("op" in e) == ("tensor" in e):
                raise TypeError("layer_precision entries are dicts with 'op' or 'tensor' (one of "
                                f"them) and 'precision', got {e!r}")
            key = "op" if "op" in e else "tensor"
            entries.append((key, str(e[key]), str(e.get("precision", "INT16"))))
    else:
        raise TypeError(f"layer_precision takes {{op name: precision}} or a list of dicts, got {v!r}")
    blocks = []
    for key, name, p in entries:
        p = p.upper()
        if p not in _PRECISIONS:
            raise ValueError(f"layer_precision {name!r}: precision {p!r} is not one of {', '.join(_PRECISIONS)}")
        blocks.append(f"layer_precision {{ {key}: {quote(name)} precision: {p} }}")
    return blocks


def config_lines(config: Mapping[str, Any]) -> List[str]:
    """TextFormat lines for dopt's own config fields given as Python values."""
    lines: List[str] = []
    for field, v in config.items():
        if v is None:
            continue
        if field in _BOOL_FIELDS:
            if not isinstance(v, bool):
                raise TypeError(f"config field {field!r} takes True or False, got {v!r}")
            lines.append(f"{field}: {'true' if v else 'false'}")
        elif field in _FLOAT_FIELDS:
            lines.append(f"{field}: {_number(field, v, float)}")
        elif field in _INT_FIELDS:
            lines.append(f"{field}: {_number(field, v, int)}")
        elif field in _STR_FIELDS:
            lines.append(f"{field}: {quote(str(v))}")
        elif field in _LIST_FIELDS:
            for item in ([v] if isinstance(v, str) else list(v)):
                lines.append(f"{field}: {quote(str(item))}")
        elif field in _ENUM_FIELDS:
            allowed = _ENUM_FIELDS[field]
            name = str(v).upper()
            if name not in allowed:
                raise ValueError(f"config field {field!r}: {v!r} is not one of {', '.join(allowed)}")
            lines.append(f"{field}: {name}")
        elif field == "layer_precision":
            lines.extend(_layer_precision_blocks(v))
        elif field in PREPROCESS_FIELDS:
            continue  # written inside preprocess_parameter
        else:
            raise TypeError(f"unknown config field {field!r}; dopt's config fields are: {', '.join(CONFIG_FIELDS)}")
    return lines


def preprocess_block(input_type: str, path: str, config: Mapping[str, Any]) -> str:
    """One ``preprocess_parameter { ... }`` block."""
    parts = [f"input_type: {input_type}"]
    fmt = config.get("image_format")
    if fmt is not None:
        fmt = str(fmt).upper()
        if fmt not in ("BGR", "RGB"):
            raise ValueError(f"image_format {fmt!r} is not BGR or RGB")
        parts.append(f"image_format: {fmt}")
    parts.append(f"input_file_path: {quote(path)}")
    for field in ("mean_value", "standard_deviation"):
        v = config.get(field)
        if v is None:
            continue
        values = [v] if isinstance(v, (int, float)) else list(v)
        for x in values:
            parts.append(f"{field}: {_number(field, x, float)}")
    return "preprocess_parameter {\n  " + "\n  ".join(parts) + "\n}"


def write_config(path: str, blocks: Sequence[str], strategy: str, exclude: Sequence[str],
                 config: Mapping[str, Any]) -> None:
    lines = ["# written by the dopt Python API", f"strategy: {quote(strategy)}"]
    lines.extend(blocks)
    for name in exclude:
        lines.append(f"exclude_op: {quote(name)}")
    lines.extend(config_lines(config))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


class _BinStream:
    """One input's 610 file: the header with a count of 0, then the samples as they come."""

    def __init__(self, path: str, name: str, shape: Tuple[int, ...]):
        if len(shape) + 1 > MAX_BIN_RANK:
            raise DoptError(f"calibration input {name!r}: arrays of rank {len(shape)} are too many "
                            f"dims (at most {MAX_BIN_RANK - 1})")
        if any(d == 0 for d in shape):
            raise DoptError(f"calibration input {name!r}: the array shape {list(shape)} has a zero dim")
        self.path = path
        self.name = name
        self.shape = shape
        self.count = 0
        self.f = open(path, "wb")
        self.f.write(struct.pack(f"<{2 + 1 + len(shape)}i", BIN_MAGIC, len(shape) + 1, 0, *shape))

    def append(self, a) -> None:
        import numpy as np

        self.f.write(np.asarray(a, dtype="<f4").tobytes(order="C"))
        self.f.flush()  # on disk now: the sample's memory is the caller's again
        self.count += 1

    def finish(self) -> None:
        self.f.seek(8)
        self.f.write(struct.pack("<i", self.count))
        self.f.close()

    def close(self) -> None:
        if not self.f.closed:
            self.f.close()


def _as_array(name: str, value: Any, index: int):
    import numpy as np

    a = np.asarray(value)
    if a.dtype.kind == "f":
        return a
    if a.dtype.kind in "iub":
        if a.size and a.dtype.kind != "b":
            big = np.abs(a.astype(np.float64)).max()
            if big > EXACT_INT_LIMIT:
                raise DoptError(f"calibration sample {index}, input {name!r}: integer value {int(big)} is "
                                f"beyond 2**24, which the float32 .bin format cannot hold exactly")
        return a
    raise DoptError(f"calibration sample {index}, input {name!r}: arrays of dtype {a.dtype} cannot be "
                    "calibration data (numbers or bools only)")


def stream_samples(samples: Iterable[Mapping[str, Any]], folder: str) -> Tuple[List[str], List[str], Dict[str, Tuple[int, ...]], int]:
    """Writes every sample of ``samples`` (``{input name: array}`` dicts) to one 610 ``.bin``
    per input in ``folder``, one sample at a time (nothing is kept in memory).

    Returns the input names (in the first sample's order), their .bin paths, each input's
    array shape and the sample count. Raises DoptError for no sample, a sample whose names
    differ from the first one's, or an array whose shape differs from the first sample's.
    """
    streams: List[_BinStream] = []
    names: List[str] = []
    count = 0
    try:
        for index, sample in enumerate(samples):
            if not isinstance(sample, Mapping):
                raise DoptError(f"calibration sample {index} is a {type(sample).__name__}, not a dict of "
                                "{input name: array}")
            for k in sample:
                if not isinstance(k, str):
                    raise DoptError(f"calibration sample {index}: the key {k!r} is not an input name (a str)")
            if index == 0:
                names = list(sample.keys())
                if not names:
                    raise DoptError("calibration sample 0 is an empty dict: it names no input")
            else:
                missing = [n for n in names if n not in sample]
                extra = [k for k in sample if k not in names]
                if missing:
                    raise DoptError(f"calibration sample {index} has no input {missing[0]!r}, which sample 0 has "
                                    f"(sample 0's inputs: {', '.join(names)})")
                if extra:
                    raise DoptError(f"calibration sample {index} has input {extra[0]!r}, which sample 0 does not "
                                    f"have (sample 0's inputs: {', '.join(names)})")
            arrays = [_as_array(n, sample[n], index) for n in names]
            if index == 0:
                for i, (n, a) in enumerate(zip(names, arrays)):
                    streams.append(_BinStream(os.path.join(folder, f"input{i}.bin"), n, tuple(a.shape)))
            for s, a in zip(streams, arrays):
                if tuple(a.shape) != s.shape:
                    raise DoptError(f"calibration sample {index}, input {s.name!r}: shape {list(a.shape)} differs "
                                    f"from sample 0's {list(s.shape)} (every sample of an input has the same shape)")
                s.append(a)
            del arrays
            count += 1
        if count == 0:
            raise DoptError("the calibration data holds no sample (the iterable was empty)")
        if count > 2 ** 31 - 1:
            raise DoptError(f"too many calibration samples ({count})")
        for s in streams:
            s.finish()
    finally:
        for s in streams:
            s.close()
    return names, [s.path for s in streams], {s.name: s.shape for s in streams}, count


def classify_path(path: str) -> str:
    """``"config"``, ``"bin"`` or ``"images"`` for a calibration path."""
    if os.path.isdir(path):
        for entry in os.listdir(path):
            if entry.lower().endswith(_BIN_EXTS) and os.path.isfile(os.path.join(path, entry)):
                return "bin"
        return "images"
    if not os.path.exists(path):
        raise DoptError(f"{path}: the calibration data does not exist")
    if path.lower().endswith(_BIN_EXTS):
        return "bin"
    return "config"
