#!/usr/bin/env python3
"""Calibration .bin converter, as the original tool ships one: a thin front for `dopt make-bin`.

    python3 tools_dopt/bin_data_preprocessing.py --npy a.npy [--npy b.npy] -o calib.bin [--magic 610|510]
    python3 tools_dopt/bin_data_preprocessing.py --images DIR --image_shape 3,224,224 \\
        [--image_format BGR|RGB] [--mean_value 104,113,123] [--standard_deviation 0.5] \\
        [--input_format NCHW|NHWC] -o calib.bin [--magic 610|510]

All arguments go to `dopt make-bin` unchanged (see `dopt make-bin --help`). The dopt binary is
found through the DOPT_BIN environment variable, else on PATH.
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


def main(argv):
    dopt = find_dopt()
    if not dopt:
        sys.stderr.write("bin_data_preprocessing.py: error: cannot find the dopt binary; set DOPT_BIN or put dopt on PATH\n")
        return 2
    try:
        return subprocess.call([dopt, "make-bin"] + argv)
    except OSError as e:
        sys.stderr.write("bin_data_preprocessing.py: error: cannot run %s: %s\n" % (dopt, e.strerror))
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
