#!/usr/bin/env python3
"""Calibration .bin converter, as the original tool ships one: a thin front for `dopt make-bin`.

    python3 tools_dopt/bin_data_preprocessing.py --npy a.npy [--npy b.npy] -o calib.bin [--magic 610|510]
    python3 tools_dopt/bin_data_preprocessing.py --images DIR --image_shape 3,224,224 \\
        [--image_format BGR|RGB] [--mean_value 104,113,123] [--standard_deviation 0.5] \\
        [--input_format NCHW|NHWC] -o calib.bin [--magic 610|510]

All arguments go to `dopt make-bin` unchanged (see `dopt make-bin --help`). The dopt binary is
found through the DOPT_BIN environment variable, else on PATH, else build/dopt (tools_dopt/dopt_entry.py).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dopt_entry  # noqa: E402


def main(argv):
    return dopt_entry.forward("bin_data_preprocessing.py", ["make-bin"] + list(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
