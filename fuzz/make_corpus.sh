#!/usr/bin/env bash
# Seed corpora for the fuzz targets, generated (never committed): one folder per target.
#   bash fuzz/make_corpus.sh OUT_DIR [DOPT_BIN]
# DOPT_BIN (default build/dopt, optional): used to make .bin files with `dopt make-bin` and
# compress_conf files by quantizing examples/tiny_cnn.onnx.
# Sources: the ONNX node-test models (libonnx-testdata), the shared small ONNX models, the
# configs in ../shared/testdata/configs and examples/, tests/data/fuzz_regressions/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${1:?usage: make_corpus.sh OUT_DIR [DOPT_BIN]}
DOPT=${2:-build/dopt}
SHARED=../shared/testdata
mkdir -p "$OUT"/{bin_file,calib_config,flag_parsing,onnx_loader,compress_conf,tf_graphdef,npy,onnx_run,image_codec}

# image_codec: small shared JPEGs (one with an EXIF block), two tiny PNGs, past findings.
# (No `| head` in these pipelines: under pipefail its early exit would fail the script.)
mapfile -t jpegs < <(find "$SHARED/images" \( -name '*.JPEG' -o -name '*.jpg' \) -size -12k 2>/dev/null | sort)
for f in "${jpegs[@]:0:8}"; do cp "$f" "$OUT/image_codec/"; done
python3 - "$OUT/image_codec" <<'PY'
import struct, sys, zlib
def png(path, w, h, color_type, channels, interlace=0):
    rows = b"".join(b"\0" + bytes((x * 7 + y * 13 + c * 50) % 256 for x in range(w) for c in range(channels))
                    for y in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, interlace)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
png(sys.argv[1] + "/grey.png", 9, 7, 0, 1)
png(sys.argv[1] + "/rgb.png", 9, 7, 2, 3)
PY
cp "$SHARED/images/imagenet-sample/n01728572_thunder_snake.JPEG" "$OUT/image_codec/" 2>/dev/null || true

# onnx_loader: every small node-test model (< 16 KiB), the small shared models (< 256 KiB).
i=0
while IFS= read -r f; do
  cp "$f" "$OUT/onnx_loader/node_$((i++)).onnx"
done < <(find /usr/share/libonnx-testdata -name model.onnx -size -16k 2>/dev/null | sort)
find "$SHARED/models/onnx" -name '*.onnx' -size -256k -exec cp {} "$OUT/onnx_loader/" \; 2>/dev/null || true
cp examples/tiny_cnn.onnx "$OUT/onnx_loader/"

# tf_graphdef: the small shared frozen graphs (KWS: loaded whole and cut at Mfcc), and small
# graphs covering the frontend's op table, written by TensorFlow when it is installed.
find "$SHARED/models/tf" -name '*.pb' -size -400k -exec cp {} "$OUT/tf_graphdef/" \; 2>/dev/null || true
python3 - "$OUT/tf_graphdef" <<'PY' 2>/dev/null || echo "make_corpus.sh: no TensorFlow; tf_graphdef seeds are the shared graphs only" >&2
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
d = sys.argv[1]
def save(name, fn, *specs):
    g = tf.function(fn).get_concrete_function(*specs).graph.as_graph_def()
    open(f"{d}/{name}.pb", "wb").write(g.SerializeToString())
x4 = tf.TensorSpec([1, 8, 8, 3], tf.float32, name="x")
w = tf.constant(0.1, shape=[3, 3, 3, 4]); dw = tf.constant(0.1, shape=[3, 3, 4, 1])
def conv(x):
    y = tf.nn.conv2d(x, w, 1, "SAME"); y = tf.nn.bias_add(y, tf.ones([4]))
    y, _, _ = tf.compat.v1.nn.fused_batch_norm(y, tf.ones([4]), tf.zeros([4]), tf.zeros([4]), tf.ones([4]), is_training=False)
    y = tf.nn.relu6(tf.nn.depthwise_conv2d(y, dw, [1, 2, 2, 1], "VALID"))
    y = tf.nn.max_pool2d(y, 2, 1, "SAME") + tf.nn.avg_pool2d(y, 2, 1, "SAME")
    return tf.nn.softmax(tf.reduce_mean(y, [1, 2]))
save("conv", conv, x4)
def shapes(x):
    s = tf.shape(x); y = tf.reshape(x, tf.stack([s[0], -1]))
    z = tf.concat(tf.split(y, 2, axis=1), 0)
    return tf.strided_slice(z, [0, 1], [2, -1], [1, 2], shrink_axis_mask=1), tf.transpose(x, [0, 3, 1, 2])
save("shapes", shapes, x4)
def resize(x):
    p = tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]], mode="REFLECT")
    a = tf.compat.v1.image.resize_bilinear(p, [5, 7], half_pixel_centers=True)
    b = tf.compat.v1.image.resize_nearest_neighbor(p, [5, 7], align_corners=True)
    return tf.expand_dims(tf.squeeze(tf.unstack(a + b, axis=3)[0]), 0)
save("resize", resize, x4)
def dense(x):
    return tf.nn.leaky_relu(tf.matmul(x, tf.ones([3, 6]), transpose_b=True)) * tf.math.rsqrt(tf.fill([1, 3], 4.0))
save("dense", dense, tf.TensorSpec([2, 6], tf.float32, name="x"))
# Function calls (PartitionedCall, nested, two outputs) and the attention / LayerNorm ops.
@tf.function
def ln(x):
    m, v = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - m) * tf.math.rsqrt(v + 1e-5), m
@tf.function
def block(x):
    n, m = ln(x)
    return tf.nn.gelu(tf.linalg.matmul(n, tf.ones([6, 6]), adjoint_b=True), approximate=True), m
def calls(x):
    y, m = block(x)
    return tf.einsum("ij,kj->ik", y, y) + tf.math.squared_difference(y, m)[:, :1] + tf.math.erf(m)
save("calls", calls, tf.TensorSpec([2, 6], tf.float32, name="x"))
PY

# calib_config: the shared and bundled configs, plus the config texts used by the tests.
cp "$SHARED"/configs/*.prototxt "$OUT/calib_config/" 2>/dev/null || true
cp examples/config.prototxt "$OUT/calib_config/example.prototxt"
python3 - "$OUT/calib_config" <<'PY'
import re, sys, pathlib
# Raw string literals in the C++ tests that look like configs.
n = 0
for p in pathlib.Path("tests").rglob("*"):
    if p.suffix not in (".cc", ".py"): continue
    for m in re.finditer(r'R"\((.*?)\)"', p.read_text(errors="ignore"), re.S):
        if "preprocess_parameter" in m.group(1) or "strategy" in m.group(1):
            (pathlib.Path(sys.argv[1]) / f"test_{n}.prototxt").write_text(m.group(1)); n += 1
PY

cat > "$OUT/calib_config/all_fields.prototxt" <<'CFG'
strategy: "Quant_INT16-8"  // a comment with "quotes" and 'single'
device: USE_GPU
# a hash comment
preprocess_parameter { input_type: IMAGE image_format: RGB mean_value: 104 mean_value: 113 mean_value: 123
  standard_deviation: 58.4 standard_deviation: 57.1 standard_deviation: 57.4 input_file_path: "imgs/" }
preprocess_parameter: { input_type: BINARY input_file_path: "/abs/calib.bin" }
exclude_op: "conv1；conv2; conv3"
exclude_op: "fc"
calibration_method: "percentile" percentile: 99.9 per_channel: false symmetric_activations: true
max_calibration_samples: 16
CFG
printf 'strategy: "Quant_INT8-8"\npreprocess_parameter {\n  input_file_path: "a//b" // x\n}\n' > "$OUT/calib_config/slashes.prototxt"

# flag_parsing: --input_shape / --out_nodes strings.
k=0
for s in "data: 1,3,224,224" "in1: 1,3,32,32; in2: 1,10" "x:0: 1,224,224,3" "a；b；c" "input：1，3，8，8" \
         "out1; out2" " ; ;a" "n: 2147483647,2147483647,2147483647" "a:1;a:2"; do
  printf '%s' "$s" > "$OUT/flag_parsing/seed_$((k++))"
done

# bin_file: tiny 610 / 510 files written here, and `dopt make-bin` output.
python3 - "$OUT/bin_file" <<'PY'
import struct, sys
d = sys.argv[1]
open(f"{d}/any_rank.bin", "wb").write(struct.pack("<ii", 610, 3) + struct.pack("<3i", 2, 2, 2) + struct.pack("<8f", *range(8)))
open(f"{d}/nchw.bin", "wb").write(struct.pack("<5i", 510, 1, 1, 2, 2) + struct.pack("<4f", 1, 2, 3, 4))
open(f"{d}/rank1.bin", "wb").write(struct.pack("<iii", 610, 1, 1) + struct.pack("<f", 0.5))
PY
if [[ -x $DOPT ]]; then
  "$DOPT" make-bin --npy examples/input.npy -o "$OUT/bin_file/make_bin_610.bin" >/dev/null
  "$DOPT" make-bin --npy examples/input.npy --magic 510 -o "$OUT/bin_file/make_bin_510.bin" >/dev/null 2>&1 || true
  # compress_conf: quantize the bundled example with a few configs.
  tmp=$(mktemp -d)
  for method in minmax mse; do
    sed "s|calib.bin|$PWD/examples/calib.bin|; s|^// calibration_method.*|calibration_method: \"$method\"|" \
      examples/config.prototxt > "$tmp/c_$method.prototxt"
    "$DOPT" -m 0 --framework 5 --model examples/tiny_cnn.onnx --cal_conf "$tmp/c_$method.prototxt" \
      --output "$tmp/q_$method.onnx" --compress_conf "$OUT/compress_conf/tiny_cnn_$method.compress_conf" >/dev/null 2>&1
    cp "$tmp/q_$method.onnx" "$OUT/onnx_loader/tiny_cnn_qdq_$method.onnx"
  done
  rm -rf "$tmp"
else
  echo "make_corpus.sh: no $DOPT; .bin and compress_conf seeds are only the hand-made ones" >&2
fi

# npy: the bundled example input, and small arrays of every dtype and format version that dopt
# reads (written here byte by byte, so no NumPy is needed).
cp examples/input.npy "$OUT/npy/"
python3 - "$OUT/npy" <<'PY'
import struct, sys
d = sys.argv[1]
def npy(name, descr, shape, data, version=1, fortran="False"):
    dims = ", ".join(str(x) for x in shape) + ("," if len(shape) == 1 else "")
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (descr, fortran, dims)
    h += " " * ((64 - (len(h) + 11 + (2 if version > 1 else 0)) % 64) % 64) + "\n"
    lenf = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    open(f"{d}/{name}.npy", "wb").write(b"\x93NUMPY" + bytes([version, 0]) + lenf + h.encode() + data)
npy("f4_2x3", "<f4", (2, 3), struct.pack("<6f", *range(6)))
npy("f8_4", "<f8", (4,), struct.pack("<4d", 1.5, -2, 3, 1e300))
npy("f2_2", "<f2", (2,), struct.pack("<2e", 0.5, -1))
npy("i1_3", "|i1", (3,), bytes([1, 255, 128]))
npy("u1_2x2", "|u1", (2, 2), bytes([0, 1, 2, 255]))
npy("i2_2", "<i2", (2,), struct.pack("<2h", -3, 7))
npy("i4_scalar", "<i4", (), struct.pack("<i", 42))
npy("i8_empty", "<i8", (0, 3), b"")
npy("b1_2", "|b1", (2,), bytes([0, 1]))
npy("v2_f4", "<f4", (1,), struct.pack("<f", 2.0), version=2)
npy("v3_f4", "<f4", (1, 1), struct.pack("<f", 3.0), version=3)
PY

# Past findings are seeds too.
for t in bin_file calib_config flag_parsing onnx_loader compress_conf tf_graphdef npy onnx_run image_codec; do
  if [[ -d tests/data/fuzz_regressions/$t ]]; then cp tests/data/fuzz_regressions/$t/* "$OUT/$t/" 2>/dev/null || true; fi
done
# onnx_run (the executor) starts from every model the loader target starts from.
cp "$OUT"/onnx_loader/* "$OUT/onnx_run/"
for t in "$OUT"/*/; do echo "make_corpus.sh: $(basename "$t"): $(ls "$t" | wc -l) seeds" >&2; done
