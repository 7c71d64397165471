"""Bad calibration inputs -> the exact error line and exit code.

One table (CASES) backs both tests/e2e/test_calib_errors.py and docs/errors_calibration.md
(`python3 tests/e2e/calib_cases.py --markdown` prints the table). Messages use placeholders:
{d} = the test's data folder (its name has a space and UTF-8 on purpose).
"""
import os
import shutil
import struct
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FACES = os.path.join(REPO, "..", "shared", "testdata", "images", "faces")


def dopt_bin():
    b = os.environ.get("DOPT_BIN", os.path.join(REPO, "build", "dopt"))
    return os.path.abspath(b) if os.path.sep in b else (shutil.which(b) or b)


def run_dopt(args, cwd=None):
    p = subprocess.run([dopt_bin()] + args, cwd=cwd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


# ---- data the cases use ----

def make_model(path, inputs, nodes, inits=()):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    vi = [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs]
    out = helper.make_tensor_value_info(nodes[-1][2][0], TensorProto.FLOAT, None)
    ns = [helper.make_node(t, i, o, name=name) for name, t, o, i in
          [(n[0], n[1], n[2], n[3]) for n in nodes]]
    ini = [numpy_helper.from_array(a, n) for n, a in inits]
    g = helper.make_graph(ns, "g", vi, [out], ini)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)


def write_bin(path, magic, shape, values=None, header=None):
    n = int(np.prod(shape)) if shape else 0
    a = np.arange(n, dtype=np.float32) if values is None else np.asarray(values, np.float32)
    if header is None:
        header = [magic] + ([len(shape)] if magic == 610 else []) + list(shape)
    with open(path, "wb") as f:
        f.write(struct.pack("<%di" % len(header), *header))
        f.write(a.astype("<f4").tobytes())


def build_data(d):
    """Models, image folders and .bin files under folder d."""
    os.makedirs(d, exist_ok=True)
    ones = np.ones((1, 3, 1, 1), np.float32)
    make_model(os.path.join(d, "two.onnx"), [("x", ["N", 3, 8, 8]), ("y", ["N", 3, 8, 8])],
               [("add0", "Add", ["s"], ["x", "y"]), ("add1", "Add", ["t"], ["s", "w"]),
                ("relu0", "Relu", ["out"], ["t"])], [("w", ones)])
    make_model(os.path.join(d, "one.onnx"), [("x", [1, 3, 8, 8])], [("relu0", "Relu", ["out"], ["x"])])
    make_model(os.path.join(d, "vec.onnx"), [("v", ["N", 10])], [("relu0", "Relu", ["out"], ["v"])])
    make_model(os.path.join(d, "vec2.onnx"), [("v", ["N", 10]), ("u", ["N", 10])],
               [("add0", "Add", ["s"], ["v", "u"]), ("relu0", "Relu", ["out"], ["s"])])
    make_model(os.path.join(d, "unk.onnx"), [("x", ["N", 3, "H", "W"])], [("relu0", "Relu", ["out"], ["x"])])
    make_model(os.path.join(d, "c5.onnx"), [("x", ["N", 5, 8, 8])], [("relu0", "Relu", ["out"], ["x"])])
    faces = sorted(os.listdir(FACES))
    for folder, count in (("imgs", 3), ("imgs_b", 2)):
        os.makedirs(os.path.join(d, folder), exist_ok=True)
        for i, f in enumerate(faces[:count]):
            shutil.copy(os.path.join(FACES, f), os.path.join(d, folder, "face %d \u56fe.jpg" % i))
    os.makedirs(os.path.join(d, "empty"), exist_ok=True)
    os.makedirs(os.path.join(d, "broken"), exist_ok=True)
    for n in ("a.png", "b.jpg"):
        with open(os.path.join(d, "broken", n), "wb") as f:
            f.write(b"not an image")
    os.makedirs(os.path.join(d, "nobins"), exist_ok=True)
    with open(os.path.join(d, "nobins", "readme.txt"), "w") as f:
        f.write("x")
    write_bin(os.path.join(d, "v4.bin"), 610, [4, 10])
    write_bin(os.path.join(d, "v3.bin"), 610, [3, 10])
    write_bin(os.path.join(d, "magic.bin"), 0, [], header=[611, 2, 4, 10])
    write_bin(os.path.join(d, "rank.bin"), 0, [], header=[610, 12])
    write_bin(os.path.join(d, "dim.bin"), 0, [], header=[610, 2, 4, 0])
    write_bin(os.path.join(d, "size.bin"), 0, [], header=[610, 2, 4, 10], values=np.zeros(39))
    write_bin(os.path.join(d, "v12.bin"), 610, [4, 12])
    write_bin(os.path.join(d, "n510.bin"), 510, [4, 10, 1, 1])
    np.save(os.path.join(d, "a.npy"), np.zeros((2, 3, 4, 4), np.float32))
    np.save(os.path.join(d, "b.npy"), np.zeros((2, 3, 5, 5), np.float32))
    np.save(os.path.join(d, "v.npy"), np.zeros((2, 10), np.float32))
    np.save(os.path.join(d, "ids_big.npy"), np.array([[7, 2 ** 24 + 1]], np.int64))


def cfg(d, text, name="c.prototxt"):
    p = os.path.join(d, name)
    with open(p, "w", encoding="utf-8") as f:
        f.write(text)
    return p


IMG = 'preprocess_parameter {{ input_file_path: "{p}" {extra} }}\n'
BIN = 'preprocess_parameter {{ input_type: BINARY input_file_path: "{p}" }}\n'


def img(p="imgs", extra=""):
    return IMG.format(p=p, extra=extra)


def check(d, conf_text, model="one.onnx", *flags):
    return ["check-config", "--cal_conf", cfg(d, conf_text), "--model", os.path.join(d, model)] + list(flags)


# Each case: (id, what is wrong, args builder d -> argv, expected message template, exit code)
CASES = [
    ("cal_conf_missing", "--cal_conf does not exist",
     lambda d: ["check-config", "--cal_conf", os.path.join(d, "none.prototxt"), "--model", os.path.join(d, "one.onnx")],
     'cannot read --cal_conf: {d}/none.prototxt: No such file or directory', 2),
    ("syntax_error", "config syntax error (missing ':')",
     lambda d: check(d, 'preprocess_parameter {\n  input_file_path "imgs"\n}\n'),
     '{d}/c.prototxt:2:19: Expected ":", found ""imgs"".', 2),
    ("unknown_enum", "unknown enum value",
     lambda d: check(d, '// comment\ndevice: USE_TPU\n' + img()),
     '{d}/c.prototxt:2:9: Unknown enumeration value of "USE_TPU" for field "device".', 2),
    ("unknown_field", "unknown field name",
     lambda d: check(d, img(extra="mean: 3")), '{d}/c.prototxt:1:52: Message type "dopt_config.PreProcessParameter" has no field named "mean".', 2),
    ("missing_path", "preprocess_parameter without input_file_path",
     lambda d: check(d, 'preprocess_parameter { input_type: IMAGE }\n'),
     '{d}/c.prototxt: preprocess_parameter #1 has no input_file_path (it is required)', 2),
    ("unknown_strategy", "strategy not supported",
     lambda d: check(d, 'strategy: "Quant_INT4-4"\n' + img()),
     '{d}/c.prototxt: unknown strategy "Quant_INT4-4"; supported: Quant_INT8-8, Quant_INT16-8', 2),
    ("no_preprocess", "no preprocess_parameter block",
     lambda d: check(d, 'strategy: "Quant_INT8-8"\n'),
     '{d}/c.prototxt: no preprocess_parameter block; give one per model input', 2),
    ("empty_path", "input_file_path is empty",
     lambda d: check(d, img(p="")), '{d}/c.prototxt: preprocess_parameter #1: input_file_path is empty', 2),
    ("mean_range", "mean_value outside 0-255",
     lambda d: check(d, img(extra="mean_value: 1 mean_value: 2 mean_value: 256")),
     '{d}/c.prototxt: preprocess_parameter #1: mean_value 256 is outside 0 to 255', 2),
    ("std_negative", "standard_deviation < 0",
     lambda d: check(d, img(extra="standard_deviation: -0.5")),
     '{d}/c.prototxt: preprocess_parameter #1: standard_deviation -0.5 must be >= 0 and finite', 2),
    ("count_mismatch", "fewer preprocess_parameter blocks than inputs",
     lambda d: check(d, img(), "two.onnx"), "{d}/c.prototxt has 1 preprocess_parameter block(s), but there are 2 input(s) to calibrate ('x', 'y'); give one block per input, in --input_shape order", 2),
    ("data_missing", "input_file_path does not exist",
     lambda d: check(d, img(p="nowhere/")), "input 'x' (preprocess_parameter #1): input_file_path {d}/nowhere/ does not exist", 2),
    ("image_path_is_file", "IMAGE input_file_path is a file",
     lambda d: check(d, img(p="v4.bin")), "input 'x' (preprocess_parameter #1): IMAGE input_file_path {d}/v4.bin is not a folder", 2),
    ("image_folder_empty", "IMAGE folder without images",
     lambda d: check(d, img(p="empty")), "input 'x': no image files in {d}/empty (looked for .bmp .dib .jpeg .jpg .jpe .png .webp .pbm .pgm .ppm .tiff .tif)", 2),
    ("images_undecodable", "every image fails to decode",
     lambda d: check(d, img(p="broken")), 'no usable calibration sample: every sample was skipped (IMAGE folder {d}/broken (2 image files))', 2),
    ("mean_count", "mean_value count != C",
     lambda d: check(d, img(extra="mean_value: 1 mean_value: 2")),
     "input 'x' (preprocess_parameter #1): 2 mean_value(s) given, the input has 3 channel(s)", 2),
    ("std_count", "standard_deviation count neither 1 nor C",
     lambda d: check(d, img(extra="standard_deviation: 1 standard_deviation: 2")),
     "input 'x' (preprocess_parameter #1): 2 standard_deviation values given; give one, or one per channel (3)", 2),
    ("image_not_4d", "IMAGE data for a 2-D input",
     lambda d: check(d, img(), "vec.onnx"), "input 'v' (preprocess_parameter #1): IMAGE data needs a 4-D input (n,c,h,w or n,h,w,c), the input shape is [1,10]", 2),
    ("image_channels", "IMAGE data for a 5-channel input",
     lambda d: check(d, img(), "c5.onnx"), "input 'x' (preprocess_parameter #1): IMAGE data needs 1 or 3 channels, the input shape [1,5,8,8] in NCHW has 5", 2),
    ("image_channels_nhwc", "--input_format NHWC on an NCHW model",
     lambda d: check(d, img(), "one.onnx", "--input_format", "NHWC"),
     "input 'x' (preprocess_parameter #1): IMAGE data needs 1 or 3 channels, the input shape [1,3,8,8] in NHWC has 8 (is the model NCHW? drop --input_format NHWC)", 2),
    ("input_shape_no_colon", "--input_shape entry without ':'",
     lambda d: check(d, img(), "one.onnx", "--input_shape", "x 1,3,8,8"),
     '--input_shape entry \'x 1,3,8,8\' has no \':\'; expected "name: n,c,h,w"', 2),
    ("input_shape_not_int", "--input_shape dim not an integer",
     lambda d: check(d, img(), "one.onnx", "--input_shape", "x: 1,3,8,eight"),
     "--input_shape: dim 'eight' of input 'x' is not an integer", 2),
    ("input_shape_zero", "--input_shape dim 0",
     lambda d: check(d, img(), "one.onnx", "--input_shape", "x: 1,3,0,8"),
     "--input_shape: dim 0 of input 'x' must be a positive integer", 2),
    ("input_shape_unknown_name", "--input_shape names no model input",
     lambda d: check(d, img(), "one.onnx", "--input_shape", "input: 1,3,8,8"),
     "--input_shape names 'input', which is not an input of the model; its inputs are 'x'", 2),
    ("input_shape_dim_mismatch", "--input_shape contradicts a fixed model dim",
     lambda d: check(d, img(), "one.onnx", "--input_shape", "x: 1,3,16,16"),
     "--input_shape gives input 'x' shape [1,3,16,16], but the model fixes dim 2 to 8: [1,3,8,8]", 2),
    ("input_shape_rank_mismatch", "--input_shape rank differs from the model's",
     lambda d: check(d, img(), "one.onnx", "--input_shape", "x: 1,3,8"),
     "--input_shape gives input 'x' 3 dims [1,3,8], the model's input has 4: [1,3,8,8]", 2),
    ("input_shape_missing_input", "--input_shape leaves a model input out",
     lambda d: check(d, img(), "two.onnx", "--input_shape", "x: 1,3,8,8"),
     "--input_shape has no entry for model input(s) 'y'; the model's inputs are 'x', 'y'", 2),
    ("input_shape_twice", "--input_shape names an input twice",
     lambda d: check(d, img(), "one.onnx", "--input_shape", "x: 1,3,8,8; x: 1,3,8,8"),
     "--input_shape names input 'x' twice", 2),
    ("input_format_bad", "--input_format not NCHW/NHWC",
     lambda d: check(d, img(), "one.onnx", "--input_format", "CHW"),
     "--input_format 'CHW' is not NCHW or NHWC", 2),
    ("unknown_dims_no_shape", "model dims unknown and no --input_shape",
     lambda d: check(d, img(), "unk.onnx"), "model input 'x' has shape [?,3,?,?] with unknown dim 2; give it with --input_shape", 2),
    ("out_nodes_unknown", "--out_nodes names no tensor",
     lambda d: check(d, img() + img(), "two.onnx", "--out_nodes", "outt", "--input_shape", "x:1,3,8,8;y:1,3,8,8"),
     "--out_nodes names 'outt', which is not in the model; closest: 'out', 't', 's'", 2),
    ("exclude_unknown", "exclude_op names no weight or node",
     lambda d: check(d, img() + img() + 'exclude_op: "add0;relu_0"\n', "two.onnx"),
     "{d}/c.prototxt: exclude_op 'relu_0' is not a weight or node of the model; closest: 'relu0', 'add0', 'add1'", 2),
    ("short_input", "inputs offer different sample counts",
     lambda d: check(d, img() + img(p="imgs_b"), "two.onnx"),
     "input 'y' is short: it offers 2 samples, another input offers 3; inputs are drawn in lockstep and must offer the same number ('x': 3, 'y': 2)", 2),
    ("bin_bad_magic", ".bin magic not 610/510",
     lambda d: check(d, BIN.format(p="magic.bin"), "vec.onnx"),
     '{d}/magic.bin: bad magic number 611, expected 610 or 510', 2),
    ("bin_bad_rank", ".bin 610 rank outside 1-8",
     lambda d: check(d, BIN.format(p="rank.bin"), "vec.onnx"),
     '{d}/rank.bin: 610 header gives rank 12, expected 1 to 8', 2),
    ("bin_bad_dim", ".bin dim <= 0",
     lambda d: check(d, BIN.format(p="dim.bin"), "vec.onnx"),
     '{d}/dim.bin: dim 1 of the header is 0, dims must be positive', 2),
    ("bin_bad_size", ".bin size != header + data",
     lambda d: check(d, BIN.format(p="size.bin"), "vec.onnx"),
     '{d}/size.bin: file has 172 bytes, header shape [4,10] needs exactly 176 (16 header + 4 x 40 float32)', 2),
    ("bin_shape_mismatch", ".bin samples do not match the input",
     lambda d: check(d, BIN.format(p="v12.bin"), "vec.onnx"),
     "input 'v': {d}/v12.bin has header shape [4,12], i.e. 4 samples of [12]; the input needs samples of [10] "
     "(or, one rank higher, whole samples of [1,10])", 2),
    ("bin_510_not_4d", "510 .bin for a 2-D input",
     lambda d: check(d, BIN.format(p="n510.bin"), "vec.onnx"),
     "input 'v': {d}/n510.bin is a 510 (N,C,H,W) file, but the input is 2-D; use a 610 file", 2),
    ("bin_folder_empty", "BINARY folder without .bin files",
     lambda d: check(d, BIN.format(p="nobins"), "vec.onnx"),
     "input 'v': no .bin files in folder {d}/nobins", 2),
    ("bin_short", "two BINARY inputs with different sample counts",
     lambda d: ["check-config", "--cal_conf", cfg(d, BIN.format(p="v4.bin") + BIN.format(p="v3.bin")),
                "--model", os.path.join(d, "vec2.onnx"), "--input_shape", "v: 2,10; u: 2,10"],
     "input 'u' is short: it offers 3 samples, another input offers 4; inputs are drawn in lockstep and must offer the same number ('v': 4, 'u': 3)", 2),
    ("model_missing", "--model does not exist",
     lambda d: check(d, img(), "none.onnx"), '--model {d}/none.onnx does not exist', 2),
    ("model_not_onnx", "--model is not an ONNX file",
     lambda d: check(d, img(), "v4.bin", "--framework", "5"),
     '{d}/v4.bin: not an ONNX model: the file does not parse as an ONNX ModelProto (truncated or another format)', 2),
    ("make_bin_no_source", "make-bin without --npy or --images",
     lambda d: ["make-bin", "-o", os.path.join(d, "out.bin")],
     'make-bin: give either --npy files or --images FOLDER', 2),
    ("make_bin_output_is_input", "make-bin --output is one of its inputs",
     lambda d: ["make-bin", "--npy", os.path.join(d, "a.npy"), "-o", os.path.join(d, "a.npy")],
     'make-bin: --output {d}/a.npy is also an input', 2),
    ("make_bin_npy_mismatch", "make-bin .npy arrays with different sample shapes",
     lambda d: ["make-bin", "--npy", os.path.join(d, "a.npy"), "--npy", os.path.join(d, "b.npy"),
                "-o", os.path.join(d, "out.bin")],
     '{d}/b.npy: array shape [2,3,5,5] does not match {d}/a.npy (samples of [3,4,4])', 2),
    ("make_bin_510_rank", "make-bin --magic 510 for non-4-D data",
     lambda d: ["make-bin", "--npy", os.path.join(d, "v.npy"), "--magic", "510", "-o", os.path.join(d, "out.bin")],
     '{d}/out.bin: a 510 file holds N,C,H,W data, the samples have shape [10]; use magic 610 for other ranks', 2),
    ("make_bin_510_nhwc", "make-bin --magic 510 with NHWC images",
     lambda d: ["make-bin", "--images", os.path.join(d, "imgs"), "--image_shape", "3,8,8", "--input_format", "NHWC",
                "--magic", "510", "-o", os.path.join(d, "out.bin")],
     'make-bin: 510 files hold N,C,H,W data (dopt reorders them for NHWC models); use --magic 610 to write NHWC data', 2),
    ("make_bin_image_shape", "make-bin --image_shape not C,H,W",
     lambda d: ["make-bin", "--images", os.path.join(d, "imgs"), "--image_shape", "8,8", "-o", os.path.join(d, "out.bin")],
     "make-bin: --image_shape must be C,H,W (e.g. 3,224,224), got '8,8'", 2),
    ("make_bin_int_not_exact", "make-bin .npy integer beyond float32's exact range",
     lambda d: ["make-bin", "--npy", os.path.join(d, "ids_big.npy"), "-o", os.path.join(d, "out.bin")],
     '{d}/ids_big.npy: integer value 16777217 (element 1) cannot be stored exactly in float32 calibration data (|value| <= 16777216)', 2),
    ("make_bin_bad_magic", "make-bin --magic not 610/510",
     lambda d: ["make-bin", "--npy", os.path.join(d, "v.npy"), "--magic", "611", "-o", os.path.join(d, "out.bin")],
     '--magic 611 is not 610 or 510', 2),
    ("inspect_bad_magic", "inspect on a file with a bad magic",
     lambda d: ["inspect", os.path.join(d, "magic.bin")],
     '{d}/magic.bin: bad magic number 611, expected 610 or 510', 2),
    ("inspect_missing", "inspect on a missing file",
     lambda d: ["inspect", os.path.join(d, "none.bin")],
     '{d}/none.bin: No such file or directory', 2),
]


def markdown():
    lines = ["| # | Bad input | Message (`dopt: error: ` + this; `{d}` = the data folder) | Exit | Test |",
             "|---|---|---|---|---|"]
    for i, (cid, what, _, msg, code) in enumerate(CASES, 1):
        m = msg.replace("|", "\\|")
        lines.append("| %d | %s | `%s` | %d | `test_calib_errors.py::test_error[%s]` |" % (i, what, m, code, cid))
    return "\n".join(lines)


if __name__ == "__main__":
    if "--markdown" in sys.argv:
        print(markdown())
        sys.exit(0)
    import tempfile
    d = os.path.join(tempfile.mkdtemp(), "data dir \u6570\u636e")
    build_data(d)
    for cid, what, argsf, msg, code in CASES:
        rc, out, err = run_dopt(argsf(d), cwd=d)
        line = err.strip().splitlines()[-1] if err.strip() else ""
        print("%s\t%d\t%s" % (cid, rc, line.replace(d, "{d}")))
