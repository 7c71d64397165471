#!/usr/bin/env python3
"""Entry script at the original tool's path for TensorFlow frozen graphs (--framework 3, --model m.pb). dopt has no TensorFlow frontend yet:
dopt stops with a one-line 'not supported yet' error (exit code 2) until it does.

All flags go to `dopt` unchanged (see tools_dopt/dopt_entry.py and `dopt --help`).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import dopt_entry  # noqa: E402

if __name__ == "__main__":
    sys.exit(dopt_entry.forward("dopt_tf_py3/dopt_so.py", sys.argv[1:]))
