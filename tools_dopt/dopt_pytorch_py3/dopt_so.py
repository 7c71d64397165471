#!/usr/bin/env python3
"""Entry script at the original tool's path for PyTorch models (--framework 5, --model m.py --weight m.pth).
dopt loads the module through its PyTorch helper (torch 2.13, CPU) and writes the quantized model
as a TorchScript .pt with fake quantisation at the quantized Conv/Linear layers, plus the
compress_conf.

All flags go to `dopt` unchanged (see tools_dopt/dopt_entry.py and `dopt --help`).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import dopt_entry  # noqa: E402

if __name__ == "__main__":
    sys.exit(dopt_entry.forward("dopt_pytorch_py3/dopt_so.py", sys.argv[1:]))
