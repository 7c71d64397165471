"""Thin Python front for the ``dopt`` command.

dopt is a C++ program. This package never loads dopt's native code into the Python
process: it finds the ``dopt`` executable and runs it with :mod:`subprocess`, so a crash or
a bad model in dopt can never take the Python interpreter down with it.

    >>> import dopt
    >>> dopt.run(["run", "--model", "m.onnx", "--input", "x=x.npy", "--output_dir", "out"])
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from typing import Optional, Sequence

__all__ = ["DoptNotFoundError", "find_dopt", "run", "main"]
__version__ = "0.1.0"


class DoptNotFoundError(FileNotFoundError):
    """Raised when no ``dopt`` executable can be found."""


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_dopt() -> str:
    """Returns the path of the ``dopt`` executable.

    Looked up, in order: the ``DOPT_BIN`` environment variable, the scripts folder of the
    running Python environment (where ``pip install .`` puts it), then ``PATH``.
    """
    env = os.environ.get("DOPT_BIN")
    if env:
        if not _is_executable(env):
            raise DoptNotFoundError(f"DOPT_BIN={env!r} is not an executable file")
        return os.path.abspath(env)
    exe = "dopt.exe" if os.name == "nt" else "dopt"
    candidates = []
    for scheme_dir in (sysconfig.get_path("scripts"), os.path.join(sys.prefix, "bin")):
        if scheme_dir:
            candidates.append(os.path.join(scheme_dir, exe))
    user_scripts = sysconfig.get_path("scripts", f"{os.name}_user") if os.name != "nt" else None
    if user_scripts:
        candidates.append(os.path.join(user_scripts, exe))
    for c in candidates:
        if _is_executable(c):
            return c
    found = shutil.which(exe)
    if found:
        return found
    raise DoptNotFoundError(
        "the dopt executable was not found: install it with `pip install .` from the dopt "
        "source tree, or set DOPT_BIN to its path"
    )


def run(args: Sequence[str], check: bool = False, capture_output: bool = False,
        timeout: Optional[float] = None, **kwargs) -> subprocess.CompletedProcess:
    """Runs ``dopt`` with ``args`` (a list of strings, without the program name).

    Returns the :class:`subprocess.CompletedProcess`; with ``check=True`` a non-zero exit
    raises :class:`subprocess.CalledProcessError`. Extra keyword arguments go to
    :func:`subprocess.run`.
    """
    cmd = [find_dopt(), *[os.fspath(a) for a in args]]
    return subprocess.run(cmd, check=check, capture_output=capture_output, timeout=timeout, **kwargs)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m dopt ARGS``: runs ``dopt ARGS`` and returns its exit status."""
    try:
        return run(list(sys.argv[1:] if argv is None else argv)).returncode
    except DoptNotFoundError as e:
        print(f"dopt: error: {e}", file=sys.stderr)
        return 127
