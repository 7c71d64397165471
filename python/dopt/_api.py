"""The Python API: dopt.quantize, dopt.run (model + inputs), dopt.analyze.

Each call writes what dopt needs into a temporary folder, runs the ``dopt`` executable in a
subprocess and reads its results back; the folder is removed afterwards, also on error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from . import _calib
from ._cli import DoptError, PathLike, call, find_dopt, run_cli

ShapeSpec = Union[str, Mapping[str, Sequence[int]]]
Names = Union[str, Sequence[str]]
Calibration = Union[PathLike, Iterable[Mapping[str, Any]]]

DEFAULT_STRATEGY = "Quant_INT8-8"


@dataclass
class QuantizeResult:
    """What :func:`quantize` made.

    ``quantized``: the quantized layers (node names, graph order); ``float_layers``: every layer
    of a quantizable type left in float, name -> reason (``exclude_op``, ``layer_precision``,
    ``accuracy_target``, a weight computed from a graph input, ...); ``raised``: layers kept
    above the strategy's precision, name -> ``{"precision": "int16"|"float", "reason": ...}``;
    ``output``, ``compress_conf``, ``report``: absolute paths of the files written (``report``
    None when none was asked for); ``summary``: dopt's summary text; ``plan``: the whole
    compress_conf as ``dopt inspect --json`` prints it; ``log``: dopt's stderr (warnings).
    """

    output: str
    compress_conf: str
    report: Optional[str]
    quantized: List[str]
    float_layers: Dict[str, str]
    raised: Dict[str, Dict[str, str]]
    summary: str = field(repr=False)
    plan: Dict[str, Any] = field(repr=False)
    log: str = field(default="", repr=False)

    def __str__(self) -> str:
        return self.summary


# ---------------------------------------------------------------------------- helpers

def _framework(model: str) -> int:
    return 3 if model.lower().endswith(".pb") else 5


def shape_spec(input_shape: ShapeSpec) -> str:
    """``{"in": (1, 3, 224, 224), "sr": ()}`` -> ``"in: 1,3,224,224; sr:"``; a str is kept."""
    if isinstance(input_shape, str):
        return input_shape
    if not isinstance(input_shape, Mapping):
        raise TypeError(f"input_shape takes a str or a dict {{name: shape}}, got {type(input_shape).__name__}")
    parts = []
    for name, dims in input_shape.items():
        dims = [int(d) for d in dims]
        parts.append(f"{name}: {','.join(str(d) for d in dims)}" if dims else f"{name}:")
    return "; ".join(parts)


def _shape_dict(spec: ShapeSpec) -> Dict[str, Tuple[int, ...]]:
    """Parses a str input_shape as dopt does (ASCII or full-width separators)."""
    if not isinstance(spec, str):
        return {str(k): tuple(int(d) for d in v) for k, v in spec.items()}
    s = spec.replace("；", ";").replace("：", ":").replace("，", ",")
    out = {}
    for entry in s.split(";"):
        if not entry.strip():
            continue
        name, sep, dims = entry.rpartition(":")
        if not sep:
            raise DoptError(f"input_shape entry {entry.strip()!r} is not 'name: d1,d2,...'")
        out[name.strip()] = tuple(int(d) for d in dims.replace(" ", "").split(",") if d)
    return out


def _names(v: Optional[Names]) -> Optional[str]:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    return "; ".join(str(x) for x in v)


def _exclude_list(v: Optional[Names]) -> List[str]:
    if not v:
        return []
    if isinstance(v, str):
        return [v]
    return [str(x) for x in v]


def _abs(p: PathLike) -> str:
    return os.path.abspath(os.fspath(p))


@contextmanager
def _workdir(parent: Optional[PathLike]) -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="dopt-py-", dir=os.fspath(parent) if parent is not None else None)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _model_args(model: PathLike, weight: Optional[PathLike], model_class: Optional[str],
                framework: Optional[int]) -> Tuple[str, List[str]]:
    m = os.fspath(model)
    args = ["--framework", str(framework if framework is not None else _framework(m)), "--model", m]
    if weight is not None:
        args += ["--weight", os.fspath(weight)]
    if model_class is not None:
        args += ["--model_class", model_class]
    return m, args


def _calibration_args(calibration: Calibration, work: str, *, input_shape: Optional[ShapeSpec],
                      strategy: str, method: Optional[str], exclude: Optional[Names],
                      config: Dict[str, Any]) -> List[str]:
    """Writes the config (and, for an iterable, the .bin files) into ``work``; returns the
    ``--cal_conf`` and ``--input_shape`` flags."""
    config = dict(config)
    if method is not None:
        if config.get("calibration_method") not in (None, method):
            raise TypeError("give the calibration method once: method= or calibration_method=, not both")
        config["calibration_method"] = method
    excl = _exclude_list(exclude)
    # Fail on a bad field before the (possibly long) calibration iterable is consumed.
    _calib.config_lines(config)
    args: List[str] = []
    cfg = os.path.join(work, "config.prototxt")
    if isinstance(calibration, (str, bytes, os.PathLike)):
        path = _abs(os.fsdecode(calibration))
        kind = _calib.classify_path(path)
        if kind == "config":
            if excl or config or strategy != DEFAULT_STRATEGY:
                raise TypeError("strategy, method, exclude and config fields go into your config.prototxt "
                                f"when calibration is a config file ({path}), not into this call")
            cfg = path
        else:
            block = _calib.preprocess_block("BINARY" if kind == "bin" else "IMAGE", path, config)
            _calib.write_config(cfg, [block], strategy, excl, config)
    elif isinstance(calibration, Mapping):
        raise TypeError("calibration is a dict: pass an iterable of {input name: array} dicts "
                        "(e.g. a list or a generator), a data path or a config.prototxt")
    else:
        image_only = sorted(_calib.PREPROCESS_FIELDS & set(config))
        if image_only:
            raise TypeError(f"{image_only[0]} applies to an image folder, not to calibration arrays "
                            "(normalise the arrays yourself)")
        try:
            samples = iter(calibration)
        except TypeError:
            raise TypeError("calibration takes an iterable of {input name: array} dicts, a path to an image "
                            f"folder, a .bin file or folder, or a config.prototxt; got {type(calibration).__name__}") from None
        names, paths, shapes, _ = _calib.stream_samples(samples, work)
        if input_shape is not None:
            given = _shape_dict(input_shape)
            for n, dims in given.items():
                if n not in shapes:
                    raise DoptError(f"input_shape names {n!r}, which the calibration samples do not have "
                                    f"(their inputs: {', '.join(names)})")
                if tuple(dims) != tuple(shapes[n]):
                    raise DoptError(f"input_shape gives {n!r} the shape {list(dims)}, but its calibration "
                                    f"arrays have the shape {list(shapes[n])} (each array is fed as it is)")
            path_of = dict(zip(names, paths))
            names = list(given) + [n for n in names if n not in given]
            paths = [path_of[n] for n in names]
        input_shape = {n: shapes[n] for n in names}
        blocks = [_calib.preprocess_block("BINARY", p, {}) for p in paths]
        # dopt matches preprocess_parameter blocks to --input_shape entries in order.
        _calib.write_config(cfg, blocks, strategy, excl, config)
    args += ["--cal_conf", cfg]
    if input_shape is not None:
        args += ["--input_shape", shape_spec(input_shape)]
    return args


def _common_flags(out_nodes: Optional[Names], input_format: Optional[str], num_threads: Optional[int]) -> List[str]:
    args: List[str] = []
    if out_nodes is not None:
        args += ["--out_nodes", _names(out_nodes)]
    if input_format is not None:
        args += ["--input_format", input_format]
    if num_threads is not None:
        args += ["--num_threads", str(int(num_threads))]
    return args


def default_compress_conf(output: PathLike) -> str:
    """``q.onnx`` -> ``q.compress_conf`` in the same folder (``q.pb`` -> ``q.compress_conf``)."""
    root, _ = os.path.splitext(_abs(output))
    return root + ".compress_conf"


# ---------------------------------------------------------------------------- quantize

def quantize(model: PathLike, calibration: Calibration, output: PathLike,
             compress_conf: Optional[PathLike] = None, *, weight: Optional[PathLike] = None,
             input_shape: Optional[ShapeSpec] = None, out_nodes: Optional[Names] = None,
             strategy: str = DEFAULT_STRATEGY, method: Optional[str] = None, exclude: Optional[Names] = (),
             report: Optional[PathLike] = None, model_class: Optional[str] = None,
             input_format: Optional[str] = None, framework: Optional[int] = None,
             num_threads: Optional[int] = None, workdir: Optional[PathLike] = None,
             timeout: Optional[float] = None, **config: Any) -> QuantizeResult:
    """Quantizes ``model`` to INT8 with ``dopt -m 0`` and returns what was written.

    Args:
        model: the float model: ``.onnx``, TensorFlow frozen ``.pb`` (``--framework 3``) or
            PyTorch ``.py`` (with ``weight=`` the ``.pth``).
        calibration: an iterable (typically a generator) of ``{input name: numpy array}``
            dicts, one dict per forward pass; each array is fed as it is, its first dim being
            the batch. Streamed to disk one sample at a time. Or a path: an image folder, a
            610/510 ``.bin`` file or a folder of them (one model input), or a
            ``config.prototxt`` used unchanged.
        output: the quantized model to write (same format as ``model``).
        compress_conf: the parameter file to write; default ``<output without extension>.compress_conf``.
        weight: PyTorch ``.pth`` of a ``.py`` model.
        input_shape: ``{name: shape}`` or ``"in: 1,3,224,224; in2: ..."``; for an iterable
            calibration it defaults to the first sample's array shapes.
        out_nodes: tensor names (a list or ``"a; b"``) that become the outputs.
        strategy: ``"Quant_INT8-8"`` or ``"Quant_INT16-8"``.
        method: the calibration method, ``"minmax"``, ``"kl"``, ``"percentile"`` or ``"mse"``
            (config field ``calibration_method``).
        exclude: op names (or weight names) left in float (``exclude_op``).
        report: also write the HTML layer-wise analysis there.
        model_class, input_format, framework, num_threads: dopt's flags of the same names.
        workdir: where the temporary folder goes (default: the system's temp folder).
        timeout: seconds before dopt is stopped (``subprocess.TimeoutExpired``).
        **config: dopt's config fields (``accuracy_target=0.99``, ``equalization=True``,
            ``bias_correction=True``, ``per_channel=False``, ``layer_precision={"conv5": "INT16"}``,
            ``x86_saturation_safe="FIRST_LAYER"``, ...); for an image folder also
            ``mean_value``, ``standard_deviation``, ``image_format``.

    Raises:
        DoptError: dopt failed (its one-line message and exit status), or the calibration
            iterable was empty or inconsistent.
    """
    find_dopt()  # DoptNotFoundError before the calibration data is read
    m, margs = _model_args(model, weight, model_class, framework)
    out = _abs(output)
    cc = _abs(compress_conf) if compress_conf is not None else default_compress_conf(out)
    rep = _abs(report) if report is not None else None
    with _workdir(workdir) as work:
        args = ["-m", "0", *margs]
        args += _calibration_args(calibration, work, input_shape=input_shape, strategy=strategy, method=method,
                                  exclude=exclude, config=config)
        args += ["--output", out, "--compress_conf", cc]
        args += _common_flags(out_nodes, input_format, num_threads)
        if rep is not None:
            args += ["--report", rep]
        proc = call(args, timeout=timeout)
    plan = json.loads(call(["inspect", "--json", cc], timeout=timeout).stdout)
    quantized = [op["name"] for op in plan.get("ops", [])]
    float_layers = {e["name"]: e.get("reason", "") for e in plan.get("excluded", [])}
    raised = {e["name"]: {"precision": e.get("precision", ""), "reason": e.get("reason", "")}
              for e in plan.get("raised", [])}
    return QuantizeResult(output=out, compress_conf=cc, report=rep, quantized=quantized,
                          float_layers=float_layers, raised=raised, summary=proc.stdout, plan=plan,
                          log=_log(proc.stderr))


def _log(stderr: str) -> str:
    """stderr without the progress lines."""
    return "\n".join(ln for ln in stderr.splitlines() if not re.match(r"^\w[\w -]*: \d+/\d+ ", ln))


# ---------------------------------------------------------------------------- analyze

def analyze(model: PathLike, calibration: Calibration, *, weight: Optional[PathLike] = None,
            input_shape: Optional[ShapeSpec] = None, out_nodes: Optional[Names] = None,
            strategy: str = DEFAULT_STRATEGY, method: Optional[str] = None, exclude: Optional[Names] = (),
            compress_conf: Optional[PathLike] = None, report: Optional[PathLike] = None,
            model_class: Optional[str] = None, input_format: Optional[str] = None,
            framework: Optional[int] = None, num_threads: Optional[int] = None,
            workdir: Optional[PathLike] = None, timeout: Optional[float] = None, **config: Any) -> Dict[str, Any]:
    """Layer-wise error analysis (``dopt analyze --json``): each quantized op's SQNR and
    cosine alone and with everything before it quantized.

    Takes the same model, calibration and config arguments as :func:`quantize`;
    ``compress_conf`` analyses an existing plan instead of making one, ``report`` also writes
    the HTML page. Returns dopt's JSON as a dict (``output_cosine``, ``layers`` worst first,
    ``quantized_ops``, ``float_ops``, ``raised``, ...). Raises :class:`DoptError` like quantize.
    """
    find_dopt()  # DoptNotFoundError before the calibration data is read
    _, margs = _model_args(model, weight, model_class, framework)
    with _workdir(workdir) as work:
        args = ["analyze", *margs]
        args += _calibration_args(calibration, work, input_shape=input_shape, strategy=strategy, method=method,
                                  exclude=exclude, config=config)
        args += _common_flags(out_nodes, input_format, num_threads)
        if compress_conf is not None:
            args += ["--compress_conf", os.fspath(compress_conf)]
        if report is not None:
            args += ["--report", os.fspath(report)]
        args += ["--json"]
        proc = call(args, timeout=timeout)
    return json.loads(proc.stdout)


# ---------------------------------------------------------------------------- run

def run_model(model: PathLike, inputs: Mapping[str, Any], *, weight: Optional[PathLike] = None,
              compress_conf: Optional[PathLike] = None, out_nodes: Optional[Names] = None,
              model_class: Optional[str] = None, framework: Optional[int] = None,
              num_threads: Optional[int] = None, workdir: Optional[PathLike] = None,
              timeout: Optional[float] = None) -> Dict[str, Any]:
    """Runs ``model`` once on ``inputs`` with ``dopt run`` and returns its outputs.

    ``inputs``: ``{input name: numpy array}`` (any numeric dtype; dopt converts float data for
    float16 inputs and exact integer data between integer types). ``compress_conf``: run the
    int8 model (the float model with that plan's quantize/dequantize applied, as dopt's
    quantized model computes). ``out_nodes``: return these tensors instead of the model's
    outputs. Returns ``{output name: numpy array}``. Raises :class:`DoptError`.
    """
    import numpy as np

    if not isinstance(inputs, Mapping):
        raise TypeError(f"inputs takes a dict {{input name: array}}, got {type(inputs).__name__}")
    _, margs = _model_args(model, weight, model_class, framework)
    with _workdir(workdir) as work:
        out_dir = os.path.join(work, "out")
        args = ["run", *margs]
        for i, (name, value) in enumerate(inputs.items()):
            a = np.asarray(value)
            if a.dtype.kind not in "biuf":
                raise DoptError(f"input {name!r}: arrays of dtype {a.dtype} cannot be model inputs")
            if a.dtype.byteorder == ">":
                a = a.astype(a.dtype.newbyteorder("<"))
            p = os.path.join(work, f"input{i}.npy")
            np.save(p, a if a.flags.c_contiguous else a.copy(order="C"), allow_pickle=False)  # keeps rank 0
            args += ["--input", f"{name}={p}"]
        args += ["--output_dir", out_dir]
        if compress_conf is not None:
            args += ["--compress_conf", os.fspath(compress_conf)]
        args += _common_flags(out_nodes, None, num_threads)
        proc = call(args, timeout=timeout)
        marker = " -> " + out_dir + os.sep
        outputs: Dict[str, Any] = {}
        for line in proc.stdout.splitlines():
            at = line.rfind(marker)
            if at < 0:
                continue
            name = line[:at].rsplit(" ", 2)[0]  # "<name> <dtype> [<shape>]"
            outputs[name] = np.load(line[at + 4:], allow_pickle=False)
        if not outputs:
            raise DoptError(f"dopt run wrote no outputs (stdout: {proc.stdout.strip()!r})", proc.returncode,
                            proc.stderr, proc.args)
    return outputs


def run(model: Union[PathLike, Sequence[PathLike]], inputs: Optional[Mapping[str, Any]] = None,
        *args: Any, **kwargs: Any) -> Any:
    """Runs a model: ``dopt.run(model, {name: array}, ...) -> {output name: array}``.

    See :func:`run_model` for the arguments. The older form, ``dopt.run(["run", "--model", ...],
    check=False, capture_output=False, timeout=None, **subprocess_kwargs)`` (a list of
    command-line arguments), still runs ``dopt ARGS`` and returns the
    :class:`subprocess.CompletedProcess`; :func:`dopt.run_cli` is its new name.
    """
    if isinstance(model, (list, tuple)):
        if inputs is not None:
            args = (inputs, *args)
        return run_cli(model, *args, **kwargs)
    if inputs is None:
        raise TypeError("run() needs the model's inputs: dopt.run(model, {input name: array})")
    if args:
        raise TypeError("run(model, inputs) takes its other arguments by keyword")
    return run_model(model, inputs, **kwargs)
