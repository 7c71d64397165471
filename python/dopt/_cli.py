"""Finding the ``dopt`` executable and running it (no numpy needed here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import warnings
from typing import Optional, Sequence, Union

PathLike = Union[str, "os.PathLike[str]"]


class DoptNotFoundError(FileNotFoundError):
    """Raised when no ``dopt`` executable can be found."""


class DoptError(Exception):
    """dopt failed: it exited with a non-zero status, or the Python side refused the input.

    ``message`` is dopt's one-line error (the text after ``dopt: error: `` on its stderr,
    which names the file at fault) or, for checks made in Python before dopt runs (an empty
    calibration iterable, samples whose inputs differ, ...), the reason. ``returncode`` is
    dopt's exit status (2: bad input, 3: internal error), ``None`` for a Python-side check.
    ``stderr`` is dopt's whole standard error ("" for a Python-side check); ``args`` the
    command line (``None`` for a Python-side check).
    """

    def __init__(self, message: str, returncode: Optional[int] = None, stderr: str = "",
                 cmd: Optional[Sequence[str]] = None):
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.stderr = stderr
        self.cmd = list(cmd) if cmd is not None else None

    def __str__(self) -> str:
        if self.returncode is None:
            return self.message
        return f"{self.message} (dopt exit status {self.returncode})"


class DoptWarning(UserWarning):
    """A ``dopt: warning: ...`` line of a successful run (a skipped image, an unused flag, ...)."""


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


def run_cli(args: Sequence[PathLike], check: bool = False, capture_output: bool = False,
            timeout: Optional[float] = None, **kwargs) -> subprocess.CompletedProcess:
    """Runs ``dopt`` with ``args`` (a list of strings, without the program name).

    Returns the :class:`subprocess.CompletedProcess`; with ``check=True`` a non-zero exit
    raises :class:`subprocess.CalledProcessError`. Extra keyword arguments go to
    :func:`subprocess.run`. (``dopt.run(list_of_args, ...)`` is the same call, kept for
    scripts written before :func:`dopt.run` took a model and inputs.)
    """
    cmd = [find_dopt(), *[os.fspath(a) for a in args]]
    return subprocess.run(cmd, check=check, capture_output=capture_output, timeout=timeout, **kwargs)


def error_line(stderr: str) -> Optional[str]:
    """The cause from dopt's last ``dopt: error: <cause>`` line (or a helper's), if any."""
    found = None
    for line in stderr.splitlines():
        for prefix in ("dopt: error: ", "dopt-helper: error: "):
            if line.startswith(prefix):
                found = line[len(prefix):].strip()
    return found


def call(args: Sequence[PathLike], timeout: Optional[float] = None) -> subprocess.CompletedProcess:
    """Runs ``dopt ARGS`` with stdout and stderr captured as text; raises DoptError on a
    non-zero exit, with dopt's one-line message."""
    cmd = [find_dopt(), *[os.fspath(a) for a in args]]
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        msg = error_line(proc.stderr)
        if msg is None:
            lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            msg = lines[-1].strip() if lines else f"dopt exited with status {proc.returncode}"
        raise DoptError(msg, proc.returncode, proc.stderr, cmd)
    for line in proc.stderr.splitlines():
        if line.startswith("dopt: warning: "):
            warnings.warn(line[len("dopt: warning: "):].strip(), DoptWarning, stacklevel=3)
    return proc
