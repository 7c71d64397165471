"""Task metrics of int8 against float on real trained sequence models (issue #14, item 5), each
model run in its own framework: ONNX Runtime for the .onnx dopt writes, torch.jit.load for the
.pt.

* OCR text lines: PaddleOCR v4's SVTR recogniser (rapidocr_onnxruntime) on rendered Chinese
  text lines (its home text) and Latin document lines, ddddocr's CRNN-LSTM on rendered captcha
  words; CTC greedy decoding with the models' own dictionaries. Metric: lines whose int8 text ==
  float text, >= 97 %: asserted for the Chinese lines and ddddocr. On Latin lines PP-OCRv4 rec
  misses it in every config tried (80-95.5 %, docs/benchmarks.md: the differences are spaces,
  which float flips too): each config asserts a regression floor, and the missed target is
  reported as XFAIL with the figure.
* Voice activity: Silero VAD v5 (LSTM) run chunk by chunk on espeak-ng speech with silences and
  noise, the recurrent state fed back (the int8 model gets its own state back), as silero_vad
  runs it. Metric: chunks whose decision (p > 0.5) equals float's, >= 98 %.
* Speaker embeddings: resemblyzer's VoiceEncoder (3-layer LSTM + Linear, the real pretrained.pt
  checkpoint) through dopt's PyTorch path (.py + checkpoint -> TorchScript .pt with int8 LSTM
  layers, accuracy_target 0.99: the first layer, reading raw mel power, stays float). Metric: cosine
  of each utterance embedding to float's >= 0.99, and the same-voice / different-voice
  similarity ordering unchanged.

Calibration data never overlaps the evaluation data (other seeds, other sentences). The float
models' own accuracy is checked first (text read right, speech found) so that a broken
preprocessing cannot make the comparison trivial. With DOPT_TASK_METRICS_RESULTS=FILE each test
appends its figures as one JSON line (docs/benchmarks.md quotes them).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO_ROOT, ort_session
import real_models as rm
import sequence_tasks as st

sys.path.insert(0, str(REPO_ROOT / "python"))
import dopt as dopt_api  # noqa: E402

OCR_EVAL, OCR_CAL = 200, 48
TORCH_MODELS = Path(__file__).resolve().parent / "torch_models"


def _missing(msg: str):
    """Skips, or fails under DOPT_REQUIRE_REAL_MODELS=1 (scripts/test.sh, after install_deps.sh)."""
    if os.environ.get("DOPT_REQUIRE_REAL_MODELS") == "1":
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


def _need(path: Path) -> Path:
    if not path.is_file():
        _missing(f"{path} missing: run `python3 tests/e2e/real_models.py fetch` (scripts/test.sh does)")
    return path


def _need_speech():
    if not st.have_speech():
        _missing("espeak-ng or sox missing (scripts/install_deps.sh installs them): no speech to test with")


def _need_fonts():
    try:
        import PIL  # noqa: F401
    except ImportError:
        _missing("pillow missing (scripts/install_deps.sh installs it): no text lines to test with")
    if not st.have_fonts():
        _missing(f"DejaVu fonts missing in {st.FONT_DIR} (scripts/install_deps.sh installs fonts-dejavu-core)")


def _record(name: str, **fields) -> None:
    print(f"\n{name}: " + ", ".join(f"{k}={v}" for k, v in fields.items()))
    results = os.environ.get("DOPT_TASK_METRICS_RESULTS")
    if results:
        with open(results, "a") as f:
            f.write(json.dumps({"name": name, **fields}) + "\n")


@pytest.fixture(scope="module", autouse=True)
def _dopt_bin(dopt):
    """The Python API finds the executable through $DOPT_BIN."""
    old = os.environ.get("DOPT_BIN")
    os.environ["DOPT_BIN"] = str(dopt)
    yield
    if old is None:
        os.environ.pop("DOPT_BIN", None)
    else:
        os.environ["DOPT_BIN"] = old


# ---- OCR ----

def _ocr_case(name, tmp_path, lines, cal, feed, decode, config, truth=lambda s: s, noise_floor=False,
              model_name=None):
    """Quantizes with `config`, decodes every line with float and int8 in ORT. Returns the
    figures: `identical` (int8 text == float text), `identical_no_spaces` (the same with spaces
    removed from both), float's and int8's accuracy against the rendered text, and with
    noise_floor=True float's own stability: float text on the line vs float text on the line
    plus Gaussian noise of 2 grey levels (what the model does with a change it should ignore)."""
    import onnx

    model = _need(rm.by_name(model_name or name).path)
    (inp,) = [i.name for i in onnx.load(str(model), load_external_data=False).graph.input]
    t0 = time.perf_counter()
    r = dopt_api.quantize(model, ({inp: feed(img)} for _, img in cal), tmp_path / f"{name}_int8.onnx",
                          timeout=900, **config)
    quant_s = time.perf_counter() - t0
    f_sess, q_sess = ort_session(model), ort_session(r.output, int8_as_written=True)
    feeds = [feed(img) for _, img in lines]
    f_text = [decode(f_sess.run(None, {inp: x})[0]) for x in feeds]
    q_text = [decode(q_sess.run(None, {inp: x})[0]) for x in feeds]
    res = dict(lines=len(lines), calibration=len(cal), config=config,
               identical=float(np.mean([a == b for a, b in zip(f_text, q_text)])),
               identical_no_spaces=float(np.mean([a.replace(" ", "") == b.replace(" ", "")
                                                  for a, b in zip(f_text, q_text)])),
               float_acc=float(np.mean([truth(t) == truth(s) for t, (s, _) in zip(f_text, lines)])),
               int8_acc=float(np.mean([truth(t) == truth(s) for t, (s, _) in zip(q_text, lines)])),
               quantized=len(r.quantized), float_layers=len(r.float_layers), raised=len(r.raised),
               quant_s=round(quant_s, 1))
    if noise_floor:
        rng = np.random.default_rng(0)
        n_text = [decode(f_sess.run(None, {inp: x + rng.normal(0, 2 / 127.5, x.shape).astype(np.float32)})[0])
                  for x in feeds]
        res["float_vs_noisy_float_identical"] = float(np.mean([a == b for a, b in zip(f_text, n_text)]))
        res["float_vs_noisy_float_no_spaces"] = float(np.mean([a.replace(" ", "") == b.replace(" ", "")
                                                              for a, b in zip(f_text, n_text)]))
    res["first_diffs"] = [(s, a, b) for (s, _), a, b in zip(lines, f_text, q_text) if a != b][:6]
    _record(name, **res)
    return res


# PP-OCRv4 rec: dopt's default, the config real_models.py uses for this model (its output
# cosine reaches 0.99 with it), and the closest config found (docs/benchmarks.md lists the
# others): bias correction, 16-bit activations, and the Conv that accuracy_target 0.999 ranks
# most sensitive at int16 (its int8 weights) left in float.
# `floor`: the figure measured when the test was written, less a margin; the test fails below it.
PPOCR_CONFIGS = {
    "default": ({}, 0.75),
    "accuracy_target": ({"accuracy_target": 0.994, "analysis_samples": 16}, 0.82),
    "bias_correction_int16_conv1_float": ({"bias_correction": True, "strategy": "Quant_INT16-8",
                                           "layer_precision": {"p2o.Conv.1": "FLOAT"}}, 0.93),
}
OCR_TARGET = 0.97


@pytest.mark.parametrize("config", list(PPOCR_CONFIGS))
def test_ppocr_v4_rec_text_lines(tmp_path, config):
    _need_fonts()
    chars = st.ppocr_chars(_need(rm.by_name("ppocr_v4_rec").path))
    cfg, floor = PPOCR_CONFIGS[config]
    res = _ocr_case("ppocr_v4_rec", tmp_path, st.text_lines(OCR_EVAL, seed=1), st.text_lines(OCR_CAL, seed=2),
                    st.ppocr_input, lambda out: st.ctc_greedy(out[0].argmax(-1), chars), cfg,
                    noise_floor=config == "default")
    assert res["float_acc"] >= 0.7, f"float PP-OCRv4 reads only {res['float_acc']:.1%} of the lines right: the rendering is off"
    assert res["identical"] >= floor, f"int8 text == float text on {res['identical']:.1%} of the lines: {res}"
    if res["identical"] < OCR_TARGET:
        # Below the target: reported, not hidden (docs/benchmarks.md has the figures;
        # the differences are mostly spaces, which float itself flips under 2 grey levels of noise).
        pytest.xfail(f"PP-OCRv4 rec [{config}]: int8 text == float text on {res['identical']:.1%} of {OCR_EVAL} "
                     f"lines, target {OCR_TARGET:.0%} (ignoring spaces: {res['identical_no_spaces']:.1%})")


@pytest.mark.parametrize("config", ["default", "accuracy_target"])
def test_ppocr_v4_rec_chinese_text_lines(tmp_path, config):
    """PP-OCRv4 on its home text (Chinese lines): int8 reads the same as float on >= 97 % of
    400 lines, by default and with real_models.py's config."""
    _need_fonts()
    if not st.have_cjk_font():
        _missing(f"{st.CJK_FONT} missing (scripts/install_deps.sh installs fonts-wqy-microhei)")
    chars = st.ppocr_chars(_need(rm.by_name("ppocr_v4_rec").path))
    assert set(st.CJK_CHARS) <= set(chars), "the test's characters are not all in PP-OCRv4's dictionary"
    cfg = PPOCR_CONFIGS[config][0]
    res = _ocr_case("ppocr_v4_rec_zh", tmp_path, st.chinese_text_lines(2 * OCR_EVAL, seed=1),
                    st.chinese_text_lines(OCR_CAL, seed=2), st.ppocr_input,
                    lambda out: st.ctc_greedy(out[0].argmax(-1), chars), cfg, model_name="ppocr_v4_rec")
    assert res["float_acc"] >= 0.95, f"float PP-OCRv4 reads only {res['float_acc']:.1%} of the Chinese lines right"
    assert res["identical"] >= OCR_TARGET, f"int8 text == float text on {res['identical']:.1%} of the lines: {res}"


def test_ddddocr_captcha_words(tmp_path):
    _need_fonts()
    chars = st.ddddocr_chars(_need(rm.extra_file("ddddocr_charset_manager.py")))
    # The model's output is [T, 1, classes]; the captcha alphabet has no case, the model's has.
    res = _ocr_case("ddddocr_ocr", tmp_path, st.captchas(OCR_EVAL, seed=3), st.captchas(OCR_CAL, seed=4),
                    st.ddddocr_input, lambda out: st.ctc_greedy(out.reshape(out.shape[0], -1).argmax(-1), chars), {},
                    truth=str.lower)
    assert res["float_acc"] >= 0.7, f"float ddddocr reads only {res['float_acc']:.1%} of the words right: the rendering is off"
    assert res["identical"] >= OCR_TARGET, f"int8 text == float text on {res['identical']:.1%} of the words: {res}"


# ---- voice activity, the state fed back ----

@pytest.mark.parametrize("name", ["silero_vad_lstm", "silero_vad_if"])
def test_silero_vad_decisions_state_fed_back(tmp_path, name):
    """silero_vad_lstm: the OpenVINO-friendly 16 kHz export (input [1, 576], state); silero_vad_if:
    the op15 export with the sample rate as a rank-0 int64 input (an If on it; dopt quantizes its
    top-level Convs, the branches stay float)."""
    _need_speech()
    model = _need(rm.by_name(name).path)
    sr = {"sr": np.array(16000, np.int64)} if name == "silero_vad_if" else None
    f_sess = ort_session(model)
    # Calibration: realistic calls (chunk + context, and the state a float run over other
    # sentences reached at that chunk), every 6th chunk.
    calls: list = []
    st.vad_chunks(f_sess, st.conversation(st.SENTENCES[10:14], seed=11), collect=calls, extra=sr)
    cal = calls[::6]
    shapes = {"input": (1, 576), "state": (2, 1, 128), **({"sr": ()} if sr else {})}
    t0 = time.perf_counter()
    r = dopt_api.quantize(model, cal, tmp_path / f"{name}_int8.onnx", input_shape=shapes, timeout=900)
    quant_s = time.perf_counter() - t0
    q_sess = ort_session(r.output, int8_as_written=True)
    agree, speech, n = 0, 0, 0
    worst = []
    for i, seed in enumerate((21, 22, 23)):
        audio = st.conversation(st.SENTENCES[3 * i:3 * i + 4], seed=seed)
        pf = st.vad_chunks(f_sess, audio, extra=sr)
        pq = st.vad_chunks(q_sess, audio, extra=sr)  # the int8 model's own state fed back
        agree += int(np.sum((pf > 0.5) == (pq > 0.5)))
        speech += int(np.sum(pf > 0.5))
        n += len(pf)
        worst.append(float(np.abs(pf - pq).max()))
    agreement, speech_frac = agree / n, speech / n
    _record(name, chunks=n, calibration=len(cal), agreement=round(agreement, 4),
            float_speech=round(speech_frac, 3), max_prob_diff=[round(w, 3) for w in worst],
            quantized=len(r.quantized), float_layers=len(r.float_layers), quant_s=round(quant_s, 1))
    assert 0.2 <= speech_frac <= 0.8, f"float VAD marks {speech_frac:.1%} of the chunks as speech: the audio is off"
    assert agreement >= 0.98, f"int8 decisions == float on {agreement:.2%} of {n} chunks"


# ---- speaker embeddings through the PyTorch path ----

SPEAKER_VOICES = ("en+m1", "en+f2", "en-us+m3", "en-us+f4", "en-gb-scotland+m2", "en-029+m4")


def _utterance(text, voice, speed=160):
    return st.normalize_volume(st.speak(text, voice, speed))


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_resemblyzer_embeddings_pytorch_path(tmp_path):
    _need_speech()
    torch = pytest.importorskip("torch")
    import importlib.util

    weights = _need(rm.extra_file("resemblyzer_pretrained.pt"))
    py = TORCH_MODELS / "resemblyzer_encoder.py"
    spec = importlib.util.spec_from_file_location("resemblyzer_encoder", py)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    net = mod.VoiceEncoder()
    ckpt = torch.load(str(weights), map_location="cpu", weights_only=False)
    # As resemblyzer loads it: strict=False skips the training-only similarity_weight/bias.
    missing, _ = net.load_state_dict(ckpt["model_state"], strict=False)
    assert not missing
    net.eval()

    # Calibration: partials of sentences the evaluation never uses, by every voice.
    cal = [p[None] for i, v in enumerate(SPEAKER_VOICES)
           for p in st.partials(_utterance(st.SENTENCES[12 + i % 4], v, 150))[:6]]
    t0 = time.perf_counter()
    # dopt finds the state dict under "model_state" and warns about the two extra keys.
    # accuracy_target: the model reads mel *power* frames (0 to 23, median 2e-4), which one int8
    # scale per tensor cannot hold (the first LSTM's input: SQNR 4 dB, embedding cosine 0.67
    # with everything int8); dopt's accuracy tool finds that and keeps that one layer float.
    with pytest.warns(dopt_api.DoptWarning, match="similarity_weight, similarity_bias"):
        r = dopt_api.quantize(py, ({"mels": c} for c in cal), tmp_path / "voice_encoder_int8.pt", weight=weights,
                              input_shape={"mels": (1, 160, 40)}, timeout=900, accuracy_target=0.99)
    quant_s = time.perf_counter() - t0
    qnet = torch.jit.load(str(r.output))

    # Evaluation: two sentences per voice, at two speeds.
    utts = [(v, _utterance(st.SENTENCES[j], v, speed)) for v in SPEAKER_VOICES for j, speed in ((0, 150), (5, 175))]
    embeds = {"float": [], "int8": []}
    with torch.no_grad():
        for _, wav in utts:
            mels = torch.from_numpy(st.partials(wav))
            for key, m in (("float", net), ("int8", qnet)):
                e = m(mels).numpy().mean(0)
                embeds[key].append(e / np.linalg.norm(e))
    f, q = np.array(embeds["float"]), np.array(embeds["int8"])
    cos = (f * q).sum(1)
    voice = [v for v, _ in utts]
    sims = {k: e @ e.T for k, e in (("float", f), ("int8", q))}
    # Triplets (anchor, same-voice utterance, other-voice utterance): does int8 order the two
    # similarities as float does; and does float itself rank the same voice higher.
    agree, float_right, total = 0, 0, 0
    for a in range(len(utts)):
        for p in range(len(utts)):
            if p == a or voice[p] != voice[a]:
                continue
            for n in range(len(utts)):
                if voice[n] == voice[a]:
                    continue
                total += 1
                df, dq = sims["float"][a, p] - sims["float"][a, n], sims["int8"][a, p] - sims["int8"][a, n]
                agree += (df > 0) == (dq > 0)
                float_right += df > 0
    _record("resemblyzer_voice_encoder", utterances=len(utts), calibration=len(cal), min_cosine=round(float(cos.min()), 5),
            mean_cosine=round(float(cos.mean()), 5), triplets=total, ordering_agreement=agree / total,
            float_same_voice_first=round(float_right / total, 3), quantized=r.quantized,
            float_layers=sorted(r.float_layers), quant_s=round(quant_s, 1))
    assert float_right / total >= 0.9, f"float ranks the same voice first on only {float_right}/{total} triplets"
    # The two upper LSTM layers (W, R and inputs) and the Linear head are int8.
    assert {"lstm#2", "lstm#3", "linear"} <= set(r.quantized), r.quantized
    assert cos.min() >= 0.99, f"embedding cosine int8 vs float per utterance: {np.round(cos, 4)}"
    assert agree == total, f"int8 orders {total - agree} of {total} same/different-voice triplets unlike float"
