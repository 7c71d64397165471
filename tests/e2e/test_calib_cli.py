"""check-config, make-bin, inspect and the Python converter on good inputs."""
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calib_cases  # noqa: E402
from calib_cases import cfg, run_dopt  # noqa: E402

SEED = os.path.join(calib_cases.REPO, "..", "shared", "testdata", "configs")


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("calibcli") / "sp ace \u6570\u636e")
    calib_cases.build_data(d)
    return d


def read_bin(path):
    with open(path, "rb") as f:
        b = f.read()
    magic = struct.unpack_from("<i", b, 0)[0]
    if magic == 610:
        rank = struct.unpack_from("<i", b, 4)[0]
        shape = struct.unpack_from("<%di" % rank, b, 8)
        off = 8 + 4 * rank
    else:
        shape = struct.unpack_from("<4i", b, 4)
        off = 20
    return magic, list(shape), np.frombuffer(b[off:], "<f4").reshape(shape)


def test_seed_examples_as_written(d):
    # The original tool's two examples, with their relative paths pointed at real data.
    for name, model, shape in (("seed_image_example.prototxt", "two.onnx", "x: 2,3,8,8; y: 2,3,8,8"),
                               ("seed_binary_example.prototxt", "vec2.onnx", "v: 2,10; u: 2,10")):
        text = open(os.path.join(SEED, name), encoding="utf-8").read()
        text = text.replace("path/to/user/images1/", "imgs/").replace("path/to/user/images2/", "imgs/")
        text = text.replace("path/to/user/bin/caffe_inception_calibrationset1.bin", "v4.bin")
        text = text.replace("path/to/user/bin/caffe_inception_calibrationset2.bin", "v4.bin")
        text = text.replace('"conv1"', '"add0"').replace('"conv2;conv3"', '"relu0;add0"')
        c = cfg(d, text, "seed.prototxt")
        rc, out, err = run_dopt(["check-config", "--cal_conf", c, "--model", os.path.join(d, model),
                                 "--input_shape", shape])
        assert rc == 0, err
        assert "USE_GPU requested; dopt has no GPU backend yet, the CPU is used" in out
        assert "exclude_op: 'add0', 'relu0'" in out
        assert out.rstrip().endswith("OK")


def test_check_config_report(d):
    c = cfg(d, 'preprocess_parameter: { image_format: RGB mean_value: [1, 2, 3] standard_deviation: 2 '
               'input_file_path: "imgs" }\n' * 2, "r.prototxt")
    rc, out, err = run_dopt(["check-config", "--cal_conf", c, "--model", os.path.join(d, "two.onnx"),
                             "--input_shape", "y\uff1a 2\uff0c3\uff0c8\uff0c8 \uff1b x: 2,3,8,8", "--out_nodes", "s; out"],
                            cwd="/")
    assert rc == 0, err
    assert "[1] y" in out and "[2] x" in out  # --input_shape order
    assert "data:       %s/imgs" % d in out
    assert "samples:    3 of [3,8,8]" in out
    assert "mean (1,2,3), std (2)" in out
    assert "out_nodes:  's', 'out'" in out
    assert "read:       3 sample(s) per input in 2 batch(es) of up to 2" in out
    assert "device:     USE_CPU" in out


def test_check_config_nhwc_and_cut(d):
    c = cfg(d, 'preprocess_parameter { input_file_path: "imgs" }\n', "n.prototxt")
    rc, out, err = run_dopt(["check-config", "--cal_conf", c, "--model", os.path.join(d, "one.onnx"),
                             "--input_format", "NHWC", "--input_shape", "out: 1,8,8,3"])
    assert rc == 0, err
    assert "inner tensor" in out and "samples:    3 of [8,8,3]" in out


def test_check_config_skips_with_warnings(d):
    mixed = os.path.join(d, "mixed")
    os.makedirs(os.path.join(mixed, "sub"), exist_ok=True)
    for f in os.listdir(os.path.join(d, "imgs")):
        with open(os.path.join(d, "imgs", f), "rb") as a, open(os.path.join(mixed, f.upper()), "wb") as b:
            b.write(a.read())
    with open(os.path.join(mixed, "zz.png"), "wb") as f:
        f.write(b"broken")
    with open(os.path.join(mixed, "notes.txt"), "w") as f:
        f.write("x")
    c = cfg(d, 'preprocess_parameter { input_file_path: "mixed" }\n', "m.prototxt")
    rc, out, err = run_dopt(["check-config", "--cal_conf", c, "--model", os.path.join(d, "one.onnx")])
    assert rc == 0, err
    assert "notes.txt (not an image file name)" in err and "sub/ (a sub-folder)" in err
    assert "zz.png: cannot decode image" in err
    assert "3 sample(s) per input" in out and "1 skipped" in out


def test_make_bin_npy_and_inspect(d):
    a = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2)
    b = -np.ones((1, 3, 2, 2), np.float64)
    np.save(os.path.join(d, "na.npy"), a)
    np.save(os.path.join(d, "nb.npy"), b)
    for magic in (610, 510):
        out = os.path.join(d, "o%d.bin" % magic)
        rc, so, err = run_dopt(["make-bin", "--npy", os.path.join(d, "na.npy"), "--npy", os.path.join(d, "nb.npy"),
                                "--magic", str(magic), "-o", out])
        assert rc == 0, err
        m, shape, data = read_bin(out)
        assert (m, shape) == (magic, [3, 3, 2, 2])
        np.testing.assert_array_equal(data, np.concatenate([a, b.astype(np.float32)]))
        rc, so, err = run_dopt(["inspect", out])
        assert rc == 0, err
        assert "shape:     [3,3,2,2] (rank 4)" in so
        assert "header:    %d bytes" % (24 if magic == 610 else 20) in so
        allv = np.concatenate([a.ravel(), b.ravel()])
        assert "min:       -1" in so and "max:       23" in so
        mean = float(so.split("mean:")[1].split()[0])
        std = float(so.split("std:")[1].split()[0])
        assert abs(mean - allv.mean()) < 1e-4 and abs(std - allv.std()) < 1e-4


def test_make_bin_npy_of_any_dtype(d):
    """Token ids (int64), masks (bool), bytes (uint8) and a rank-0 sample rate: stored as
    float32 exactly, a scalar as one sample [1]."""
    cases = {"ids": np.array([[101, 2054, 16777216]], np.int64), "mask": np.array([[True, False, True]]),
             "u8": np.arange(6, dtype=np.uint8).reshape(2, 3), "sr": np.array(16000, np.int64)}
    for name, arr in cases.items():
        np.save(os.path.join(d, name + ".npy"), arr)
        out = os.path.join(d, name + ".bin")
        rc, so, err = run_dopt(["make-bin", "--npy", os.path.join(d, name + ".npy"), "-o", out])
        assert rc == 0, (name, err)
        _, shape, data = read_bin(out)
        want = arr.reshape(1) if arr.ndim == 0 else arr
        assert shape == list(want.shape), (name, shape)
        np.testing.assert_array_equal(data.reshape(want.shape), want.astype(np.float32))
        assert np.array_equal(data.reshape(want.shape).astype(np.int64), want.astype(np.int64)), name


def test_make_bin_images_matches_check_config_preprocessing(d):
    out = os.path.join(d, "imgs.bin")
    rc, so, err = run_dopt(["make-bin", "--images", os.path.join(d, "imgs"), "--image_shape", "3,8,8",
                            "--image_format", "RGB", "--mean_value", "104,113,123", "--standard_deviation", "0.5",
                            "-o", out])
    assert rc == 0, err
    m, shape, data = read_bin(out)
    assert (m, shape) == (610, [3, 3, 8, 8])
    # Independent check of the first image with OpenCV, if the Python binding is present.
    cv2 = pytest.importorskip("cv2")
    first = sorted(os.listdir(os.path.join(d, "imgs")))[0]
    im = cv2.imread(os.path.join(d, "imgs", first), cv2.IMREAD_COLOR)
    im = cv2.resize(im, (8, 8), interpolation=cv2.INTER_LINEAR)[:, :, ::-1].astype(np.float32)
    want = ((im - np.array([104, 113, 123], np.float32)) / 0.5).transpose(2, 0, 1)
    np.testing.assert_allclose(data[0], want, atol=1e-4)


def test_make_bin_nhwc_510_reordered_back(d):
    # A 510 file of NCHW data feeds an NHWC model: check-config accepts it.
    out = os.path.join(d, "nchw.bin")
    rc, _, err = run_dopt(["make-bin", "--images", os.path.join(d, "imgs"), "--image_shape", "3,8,8",
                           "--magic", "510", "-o", out])
    assert rc == 0, err
    c = cfg(d, 'preprocess_parameter { input_type: BINARY input_file_path: "nchw.bin" }\n', "b.prototxt")
    rc, so, err = run_dopt(["check-config", "--cal_conf", c, "--model", os.path.join(d, "one.onnx"),
                            "--input_shape", "out: 1,8,8,3", "--input_format", "NHWC"])
    assert rc == 0, err
    assert "510 files are reordered to NHWC" in so and "samples:    3 of [8,8,3]" in so


def test_make_bin_replaces_output_only_on_success(d):
    out = os.path.join(d, "keep.bin")
    with open(out, "wb") as f:
        f.write(b"old")
    rc, _, err = run_dopt(["make-bin", "--npy", os.path.join(d, "a.npy"), "--npy", os.path.join(d, "b.npy"), "-o", out])
    assert rc == 2
    assert open(out, "rb").read() == b"old"
    assert not [f for f in os.listdir(d) if "dopt-tmp" in f]


def test_python_converter_forwards(d):
    script = os.path.join(calib_cases.REPO, "tools_dopt", "bin_data_preprocessing.py")
    out = os.path.join(d, "py.bin")
    env = dict(os.environ, DOPT_BIN=calib_cases.dopt_bin())
    p = subprocess.run([sys.executable, script, "--npy", os.path.join(d, "v.npy"), "-o", out],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert read_bin(out)[:2] == (610, [2, 10])
    p = subprocess.run([sys.executable, script, "--magic", "510", "--npy", os.path.join(d, "v.npy"), "-o", out],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 2 and p.stderr.startswith("dopt: error: ")
    env["DOPT_BIN"] = os.path.join(d, "no-such-dopt")
    p = subprocess.run([sys.executable, script, "-o", out], capture_output=True, text=True, env=env)
    assert p.returncode == 2 and "cannot run" in p.stderr
