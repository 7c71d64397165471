"""Python front for the ``dopt`` command.

dopt is a C++ program. This package never loads dopt's native code into the Python
process: it finds the ``dopt`` executable and runs it with :mod:`subprocess`, so a crash or
a bad model in dopt can never take the Python interpreter down with it. The API functions
write what dopt needs (calibration ``.bin`` files, a ``config.prototxt``, ``.npy`` inputs)
into a temporary folder, run dopt and read its results back (docs/python_api.md).

    >>> import dopt, numpy as np
    >>> samples = ({"input": np.random.rand(1, 1, 8, 8).astype(np.float32)} for _ in range(32))
    >>> r = dopt.quantize("m.onnx", samples, "m_int8.onnx")
    >>> r.quantized, r.float_layers
    >>> y = dopt.run("m.onnx", {"input": x}, compress_conf=r.compress_conf)

``dopt.run_cli([...])`` (also ``dopt.run([...])`` with a list) runs ``dopt ARGS`` as it is.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from ._api import QuantizeResult, analyze, default_compress_conf, quantize, run, run_model
from ._cli import DoptError, DoptNotFoundError, DoptWarning, find_dopt, run_cli

__all__ = ["DoptError", "DoptNotFoundError", "DoptWarning", "QuantizeResult", "analyze", "default_compress_conf",
           "find_dopt", "main", "quantize", "run", "run_cli", "run_model"]
__version__ = "0.1.0"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m dopt ARGS``: runs ``dopt ARGS`` and returns its exit status."""
    try:
        return run_cli(list(sys.argv[1:] if argv is None else argv)).returncode
    except DoptNotFoundError as e:
        print(f"dopt: error: {e}", file=sys.stderr)
        return 127
