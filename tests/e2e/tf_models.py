"""TensorFlow helpers for the end-to-end tests: freeze Keras models to frozen GraphDef `.pb`
files and run frozen graphs in TensorFlow itself (the reference).

Only the test process imports TensorFlow; dopt is always run as a subprocess. Import this
module lazily (after `pytest.importorskip("tensorflow")`) or use `tf_or_skip()`.

Frozen models are cached per test session (`frozen_cache_dir`), so each model is frozen once.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("DOPT_SHARED_TESTDATA", REPO_ROOT.parent / "shared" / "testdata"))
TF_MODELS = SHARED / "models" / "tf"
KERAS_MODELS = SHARED / "models" / "keras"
SILENCE_WAV = SHARED / "audio" / "silence.wav"


def tf_or_skip():
    """Returns the tensorflow module, or skips the calling test when it is not importable."""
    return pytest.importorskip("tensorflow")


def _tf():
    import tensorflow as tf  # noqa: PLC0415
    return tf


def freeze_keras(model, path, input_shape=None):
    """Freezes a Keras model (variables → Const) to a frozen GraphDef at `path`.

    input_shape: full static input shape incl. batch (default: the model's input shape with
    batch 1). Returns (input_names, output_names) as TF tensor names without ':0' when the
    tensor is output 0 (e.g. ["x"], ["Identity"]).
    """
    tf = _tf()
    from tensorflow.python.framework.convert_to_constants import (  # noqa: PLC0415
        convert_variables_to_constants_v2)

    if input_shape is None:
        shp = list(model.inputs[0].shape)
        shp[0] = 1
        input_shape = shp
    spec = tf.TensorSpec(input_shape, tf.float32, name="x")
    fn = tf.function(lambda x: model(x, training=False))
    concrete = fn.get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(concrete)
    gd = frozen.graph.as_graph_def()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(gd.SerializeToString())
    ins = [_strip0(t.name) for t in frozen.inputs]
    outs = [_strip0(t.name) for t in frozen.outputs]
    return ins, outs


def freeze_function(fn, specs, path):
    """Freezes a plain tf.function-able python function with the given TensorSpecs.
    Returns (input_names, output_names)."""
    tf = _tf()
    from tensorflow.python.framework.convert_to_constants import (  # noqa: PLC0415
        convert_variables_to_constants_v2)

    concrete = tf.function(fn).get_concrete_function(*specs)
    frozen = convert_variables_to_constants_v2(concrete)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(frozen.graph.as_graph_def().SerializeToString())
    return [_strip0(t.name) for t in frozen.inputs], [_strip0(t.name) for t in frozen.outputs]


def _strip0(name: str) -> str:
    return name[:-2] if name.endswith(":0") else name


def load_h5(path_h5):
    """Loads a legacy Keras 2 HDF5 model with Keras 3. Keras 2's DepthwiseConv2D config carries
    `groups`, which Keras 3 rejects: a subclass drops it."""
    tf = _tf()
    keras = tf.keras

    class DepthwiseConv2DCompat(keras.layers.DepthwiseConv2D):
        def __init__(self, *args, groups=None, **kwargs):  # noqa: ARG002 - Keras 2 field
            super().__init__(*args, **kwargs)

    return keras.models.load_model(str(path_h5), compile=False,
                                   custom_objects={"DepthwiseConv2D": DepthwiseConv2DCompat})


def freeze_h5(path_h5, out_pb):
    """Freezes a Keras .h5 file (batch 1). Returns (input_names, output_names)."""
    return freeze_keras(load_h5(path_h5), out_pb)


def keras_application(name: str, size: int = 96):
    """keras.applications model `name` (MobileNetV2, ResNet50V2, EfficientNetB0...) with random
    weights (weights=None: nothing is downloaded), input [1,size,size,3]."""
    tf = _tf()
    tf.keras.utils.set_random_seed(0)
    ctor = getattr(tf.keras.applications, name)
    model = ctor(weights=None, input_shape=(size, size, 3), classes=10)
    # Fresh BatchNormalization layers are identities (mean 0, var 1, gamma 1, beta 0): give them
    # real statistics so that a wrong BN conversion shows.
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            ws = layer.get_weights()
            c = ws[0].shape
            layer.set_weights([rng.uniform(0.5, 1.5, c).astype(np.float32), rng.normal(0, 0.1, c).astype(np.float32),
                               rng.normal(0, 0.1, c).astype(np.float32), rng.uniform(0.5, 1.5, c).astype(np.float32)][:len(ws)])
    return model


def run_tf_pb(pb, feeds: dict, outputs: list):
    """Runs a frozen graph in TensorFlow. feeds: {tensor name ('x' or 'x:0' or 'Mfcc'): array};
    outputs: tensor names. Returns a list of numpy arrays, one per output."""
    tf = _tf()
    gd = tf.compat.v1.GraphDef()
    gd.ParseFromString(Path(pb).read_bytes())
    g = tf.Graph()
    with g.as_default():
        tf.compat.v1.import_graph_def(gd, name="")
    def t(n):
        return g.get_tensor_by_name(n if ":" in n else n + ":0")
    with tf.compat.v1.Session(graph=g) as s:
        return s.run([t(o) for o in outputs], feed_dict={t(k): v for k, v in feeds.items()})


def kws_mfcc_inputs(pb, n_noisy: int = 2, seed: int = 0):
    """Mfcc node outputs of a KWS graph, computed by the graph's own audio front end in TF, for
    silence.wav and `n_noisy` noise-added variants. Returns a list of float32 arrays."""
    tf = _tf()
    wav = SILENCE_WAV.read_bytes()
    rng = np.random.default_rng(seed)
    waves = [wav]
    audio = tf.audio.decode_wav(wav)
    samples, rate = audio.audio.numpy(), int(audio.sample_rate.numpy())
    for i in range(n_noisy):
        amp = 0.05 * (i + 1)
        noisy = np.clip(samples + rng.uniform(-amp, amp, samples.shape).astype(np.float32), -1, 1)
        waves.append(tf.audio.encode_wav(noisy, rate).numpy())
    out = []
    for w in waves:
        (m,) = run_tf_pb(pb, {"wav_data": w}, ["Mfcc"])
        out.append(np.asarray(m, np.float32))
    return out


@pytest.fixture(scope="session")
def frozen_cache_dir(tmp_path_factory) -> Path:
    """One directory per test session where frozen models are cached."""
    return tmp_path_factory.mktemp("tf_frozen")


def cached(cache_dir: Path, key: str, make):
    """Freezes once per session: make(path) -> (ins, outs); returns (path, ins, outs)."""
    path = Path(cache_dir) / f"{key}.pb"
    meta = Path(cache_dir) / f"{key}.names"
    if path.is_file() and meta.is_file():
        ins, outs = meta.read_text().split("\n")[:2]
        return path, ins.split(","), outs.split(",")
    ins, outs = make(path)
    meta.write_text(",".join(ins) + "\n" + ",".join(outs))
    return path, ins, outs
