#!/usr/bin/env python3
"""Entry script at the original tool's path for TensorFlow frozen graphs (--framework 3, --model m.pb).
dopt reads the GraphDef natively (no TensorFlow needed) and writes the quantized model back as a
.pb with fake quantisation, plus the compress_conf.

All flags go to `dopt` unchanged (see tools_dopt/dopt_entry.py and `dopt --help`).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import dopt_entry  # noqa: E402

if __name__ == "__main__":
    sys.exit(dopt_entry.forward("dopt_tf_py3/dopt_so.py", sys.argv[1:]))
