"""Shared code of the entry scripts at the original tool's paths:

    python3 tools_dopt/dopt_onnx_py3/dopt_so.py    -m 0 --framework 5 --model m.onnx ...
    python3 tools_dopt/dopt_tf_py3/dopt_so.py      -m 0 --framework 3 --model m.pb ...
    python3 tools_dopt/dopt_pytorch_py3/dopt_so.py -m 0 --framework 5 --model m.py --weight m.pth ...

Every argument goes to the `dopt` binary unchanged, and dopt's exit code is returned. The
binary is found through the DOPT_BIN environment variable, else on PATH, else build/dopt in
this repository. dopt itself reports what it cannot do yet (TensorFlow .pb and PyTorch .py
models end with a one-line "not supported yet" error and exit code 2).
"""
import os
import shutil
import subprocess
import sys


def find_dopt():
    env = os.environ.get("DOPT_BIN")
    if env:
        return env
    found = shutil.which("dopt")
    if found:
        return found
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    local = os.path.join(here, "build", "dopt")
    return local if os.path.exists(local) else None


def forward(script, argv):
    dopt = find_dopt()
    if not dopt:
        sys.stderr.write("%s: error: cannot find the dopt binary; set DOPT_BIN or put dopt on PATH\n" % script)
        return 2
    try:
        return subprocess.call([dopt] + list(argv))
    except OSError as e:
        sys.stderr.write("%s: error: cannot run %s: %s\n" % (script, dopt, e.strerror))
        return 2
    except KeyboardInterrupt:
        return 130
