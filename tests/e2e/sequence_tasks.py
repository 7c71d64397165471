"""Data and decoding for tests/e2e/test_sequence_task_metrics.py: task metrics (decoded OCR text,
voice-activity decisions, speaker embeddings) of int8 models against float, on real trained
sequence models (tests/e2e/real_models.py fetches them).

Everything is made here, deterministically (seeded): text-line images rendered with PIL in the
DejaVu fonts, speech synthesised with espeak-ng (resampled to 16 kHz by sox, without dither: deterministic) with silences and
seeded background noise, 40-band mel frames as resemblyzer computes them (librosa's
melspectrogram, re-done in numpy).
"""
from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import numpy as np

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSansMono.ttf",
         "DejaVuSansCondensed.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerifCondensed.ttf")
WORDS = ("the quick brown fox jumps over lazy dog model input output layer price total invoice order number "
         "street city page table figure report date time value data north south east west road house water "
         "light green black white red blue office phone email station market garden window paper letter "
         "account balance payment amount monday friday march october section chapter").split()


# PP-OCRv4 is a Chinese (and English) recogniser: its home text is Chinese. WenQuanYi Micro Hei
# (Debian's fonts-wqy-microhei) renders it; the characters are common ones (everyday words,
# invoices, addresses), which the model's dictionary holds.
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CJK_CHARS = ("的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事"
             "其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主"
             "没公从工程业产品市场价格服务管理技术公司电话号码地址银行金额合计日期")


def have_fonts() -> bool:
    return all((FONT_DIR / f).is_file() for f in FONTS)


def have_cjk_font() -> bool:
    return CJK_FONT.is_file()


# ---- OCR: text lines ----

def _text_line(rng) -> str:
    """Words, integers, prices, a date: what a document's text lines hold."""
    parts = []
    for _ in range(int(rng.integers(1, 4))):
        k = int(rng.integers(0, 5))
        if k == 0:
            parts.append(str(int(rng.integers(0, 100000))))
        elif k == 1:
            parts.append(f"{int(rng.integers(1, 999))}.{int(rng.integers(0, 100)):02d}")
        elif k == 2 and rng.random() < 0.3:
            parts.append(f"{int(rng.integers(1, 29)):02d}/{int(rng.integers(1, 13)):02d}/20{int(rng.integers(10, 30))}")
        else:
            w = WORDS[int(rng.integers(len(WORDS)))]
            parts.append(w.capitalize() if rng.random() < 0.3 else w)
    s = " ".join(parts)
    if rng.random() < 0.3:
        s += str(rng.choice([":", ",", ".", "!", "?", ";"]))
    return s


def _captcha_text(rng) -> str:
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), int(rng.integers(4, 7))))


def _render(rng, s: str, size: tuple, max_angle: float, font_path: Path | None = None) -> np.ndarray:
    """Grey uint8 image of s: dark text on a light background, a small rotation, blur half the
    time, Gaussian pixel noise. The font: `font_path`, else one of FONTS at random."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    path = font_path or FONT_DIR / FONTS[int(rng.integers(len(FONTS)))]
    font = ImageFont.truetype(str(path), int(rng.integers(*size)))
    left, top, right, bottom = font.getbbox(s)
    pad = int(rng.integers(4, 12))
    bg, fg = int(rng.integers(190, 256)), int(rng.integers(0, 80))
    im = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), bg)
    ImageDraw.Draw(im).text((pad - left, pad - top), s, font=font, fill=fg)
    im = im.rotate(float(rng.uniform(-max_angle, max_angle)), resample=Image.BILINEAR, fillcolor=bg)
    if rng.random() < 0.5:
        im = im.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 0.9))))
    a = np.asarray(im, np.float32) + rng.normal(0, rng.uniform(2, 8), (im.size[1], im.size[0]))
    return np.clip(a, 0, 255).astype(np.uint8)


def _chinese_line(rng) -> str:
    """2-6 common characters, sometimes a full-width comma inside and a number at the end (at
    most 8 glyphs: PP-OCR's 320-pixel width at height 48)."""
    chars = list(dict.fromkeys(CJK_CHARS))
    s = "".join(chars[int(i)] for i in rng.integers(0, len(chars), int(rng.integers(2, 7))))
    if rng.random() < 0.3:
        s = s[:len(s) // 2] + "，" + s[len(s) // 2:]
    if rng.random() < 0.3:
        s += str(int(rng.integers(1, 100)))
    return s


def _rendered(n: int, seed: int, text, size: tuple, max_angle: float, font_path: Path | None = None):
    """n (text, grey image) pairs: text(rng) rendered by _render, from one seeded generator."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        s = text(rng)
        out.append((s, _render(rng, s, size, max_angle, font_path)))
    return out


def text_lines(n: int, seed: int) -> list[tuple[str, np.ndarray]]:
    """n (text, grey image) document text lines."""
    return _rendered(n, seed, _text_line, (22, 36), 1.5)


def chinese_text_lines(n: int, seed: int) -> list[tuple[str, np.ndarray]]:
    """n (text, grey image) Chinese text lines (_chinese_line) in WenQuanYi Micro Hei."""
    return _rendered(n, seed, _chinese_line, (22, 36), 1.5, CJK_FONT)


def captchas(n: int, seed: int) -> list[tuple[str, np.ndarray]]:
    """n (text, grey image) captcha-like words: 4-6 lower-case letters and digits, no spaces."""
    return _rendered(n, seed, _captcha_text, (30, 44), 3.0)


def ppocr_input(grey: np.ndarray) -> np.ndarray:
    """PP-OCR rec preprocessing (rapidocr's TextRecognizer.resize_norm_img): 3 channels, height
    48, width scaled (at most 320), (x/255 - 0.5)/0.5, right-padded with zeros to 320."""
    from PIL import Image

    h, w = grey.shape
    width = min(320, int(np.ceil(48 * w / h)))
    im = np.asarray(Image.fromarray(grey).resize((width, 48), Image.BILINEAR), np.float32)
    x = np.zeros((1, 3, 48, 320), np.float32)
    x[0, :, :, :width] = (im / 255 - 0.5) / 0.5
    return x


def ddddocr_input(grey: np.ndarray, width: int = 256) -> np.ndarray:
    """ddddocr 1.6.1's OCREngine._preprocess_image for its default model: height 64, width
    scaled (LANCZOS), grey, /255; then padded with the background to a fixed width (or squeezed
    to it) so every sample has the quantized model's input shape [1, 1, 64, width]."""
    from PIL import Image

    h, w = grey.shape
    scaled = int(w * 64 / h)
    im = Image.fromarray(grey)
    if scaled <= width:
        v = np.asarray(im.resize((scaled, 64), Image.LANCZOS), np.float32) / 255
        v = np.concatenate([v, np.full((64, width - scaled), float(np.median(v[:, -4:])), np.float32)], 1)
    else:
        v = np.asarray(im.resize((width, 64), Image.LANCZOS), np.float32) / 255
    return v[None, None]


def ctc_greedy(indices, chars) -> str:
    """CTC greedy decoding: merge repeats, drop the blank (index 0)."""
    out, prev = [], -1
    for i in np.asarray(indices).reshape(-1):
        i = int(i)
        if i != prev and i != 0:
            out.append(chars[i])
        prev = i
    return "".join(out)


def ppocr_chars(model_path: Path) -> list[str]:
    """rapidocr's CTCLabelDecode list: 'blank', the dictionary from the model's `character`
    metadata, then ' '."""
    import onnx

    m = onnx.load(str(model_path), load_external_data=False)
    meta = {p.key: p.value for p in m.metadata_props}
    return ["blank"] + meta["character"].splitlines() + [" "]


def ddddocr_chars(charset_manager_py: Path) -> list[str]:
    """The charset ddddocr uses with common.onnx (`beta`): the list CharsetManager._get_beta_charset
    returns, read from the wheel's source without importing it."""
    tree = ast.parse(charset_manager_py.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "_get_beta_charset":
            for r in ast.walk(node):
                if isinstance(r, ast.Return):
                    return ast.literal_eval(r.value)
    raise ValueError(f"{charset_manager_py}: no _get_beta_charset")


# ---- speech ----

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please call me back when you arrive at the station.",
    "It is going to rain tomorrow afternoon, so bring an umbrella.",
    "Seven hundred and twenty three people attended the meeting.",
    "Turn left at the second traffic light and park near the bank.",
    "My favourite colour is green, but my sister prefers blue.",
    "The report will be ready by the end of next week.",
    "Can you hear the music playing in the other room?",
    "We bought fresh bread, cheese and apples at the market.",
    "The train to London leaves from platform number four.",
    "Remember to switch off the lights before you go to bed.",
    "Our new office is on the third floor of the old building.",
    "She has been learning to play the piano for six years.",
    "The weather was cold and windy all through the weekend.",
    "Could you send me the documents by email this evening?",
    "A small boat sailed slowly across the quiet lake.",
)
VOICES = ("en+m1", "en+f2", "en-us+m3", "en-us+f4", "en-gb-scotland+m2", "en+f3", "en-029+m4", "en-gb-x-rp+f1")


def have_speech() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def speak(text: str, voice: str, speed: int = 160, pitch: int = 50) -> np.ndarray:
    """espeak-ng's speech of text, as float32 in [-1, 1] at 16 kHz (sox resamples its 22.05 kHz)."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
                         capture_output=True, check=True, timeout=60).stdout
    raw = subprocess.run(["sox", "-D", "-t", "wav", "-", "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer",
                          "-t", "raw", "-"], input=wav, capture_output=True, check=True, timeout=60).stdout
    return np.frombuffer(raw, np.int16).astype(np.float32) / 32768


def conversation(sentences, seed: int) -> np.ndarray:
    """The sentences spoken by random voices at random speeds and levels, with 0.3-1.5 s
    silences between them, over seeded background noise (low-passed white noise) at an SNR of
    30, 20 or 10 dB (one per recording); 16 kHz float32."""
    rng = np.random.default_rng(seed)
    parts = [np.zeros(int(rng.uniform(0.3, 1.0) * 16000), np.float32)]
    speech = []
    for s in sentences:
        a = speak(s, VOICES[int(rng.integers(len(VOICES)))], int(rng.integers(130, 190)), int(rng.integers(30, 70)))
        a = a / max(float(np.abs(a).max()), 1e-6) * rng.uniform(0.3, 0.8)
        speech.append(a)
        parts += [a, np.zeros(int(rng.uniform(0.3, 1.5) * 16000), np.float32)]
    x = np.concatenate(parts)
    snr = float(rng.choice([30.0, 20.0, 10.0]))
    power = float(np.mean(np.concatenate(speech) ** 2))
    noise = np.convolve(rng.standard_normal(x.size), np.ones(4) / 4, "same")
    noise *= np.sqrt(power / 10 ** (snr / 10) / np.mean(noise ** 2))
    return np.clip(x + noise, -1, 1).astype(np.float32)


def vad_chunks(session, audio: np.ndarray, collect: list | None = None, extra: dict | None = None) -> np.ndarray:
    """Silero VAD v5 at 16 kHz as silero_vad's OnnxWrapper runs it: 512-sample chunks, each fed
    with the previous chunk's last 64 samples in front (input [1, 576]) and the state the
    previous call returned (`extra`: more inputs, the same every call: the sample rate).
    Returns each chunk's speech probability; `collect` gets each call's inputs."""
    state = np.zeros((2, 1, 128), np.float32)
    context = np.zeros(64, np.float32)
    probs = []
    for i in range(0, len(audio) - 511, 512):
        x = np.concatenate([context, audio[i:i + 512]])[None].astype(np.float32)
        feeds = {"input": x, "state": state, **(extra or {})}
        if collect is not None:
            collect.append(feeds)
        p, state = session.run(None, feeds)
        context = x[0, -64:]
        probs.append(float(np.asarray(p).reshape(-1)[0]))
    return np.array(probs)


# ---- resemblyzer's mel frames ----

def _hz_to_mel(f):
    """Slaney's mel scale (librosa's default, htk=False)."""
    f = np.asarray(f, np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    logstep = np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_hz / f_sp + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz(m):
    m = np.asarray(m, np.float64)
    f_sp = 200.0 / 3
    min_log_mel = 1000.0 / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, 1000.0 * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filters(sr=16000, n_fft=400, n_mels=40) -> np.ndarray:
    """librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels) (fmin 0, fmax sr/2, slaney scale
    and area normalisation): [n_mels, 1 + n_fft // 2]."""
    fft_freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sr / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights


def mel_frames(wav: np.ndarray, sr=16000, n_fft=400, hop=160, n_mels=40) -> np.ndarray:
    """resemblyzer.audio.wav_to_mel_spectrogram: librosa.feature.melspectrogram(y, sr, n_fft=400,
    hop_length=160, n_mels=40) — centred frames (zero padding, librosa >= 0.10), periodic Hann
    window, power 2, no log — transposed to [frames, 40]."""
    y = np.pad(wav.astype(np.float64), n_fft // 2, mode="constant")
    n = 1 + (len(y) - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n)[:, None]
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    spec = np.abs(np.fft.rfft(y[idx] * window, axis=1)) ** 2
    return (spec @ mel_filters(sr, n_fft, n_mels).T).astype(np.float32)


def normalize_volume(wav: np.ndarray, target_dbfs: float = -30) -> np.ndarray:
    """resemblyzer.audio.normalize_volume(wav, -30, increase_only=True)."""
    rms = float(np.sqrt(np.mean((wav * 32767) ** 2)))
    change = target_dbfs - 20 * np.log10(max(rms, 1e-9) / 32767)
    return wav * 10 ** (change / 20) if change > 0 else wav


def partials(wav: np.ndarray, rate=1.3, min_coverage=0.75, n_frames=160) -> np.ndarray:
    """VoiceEncoder.embed_utterance's partial utterances: [n, 160, 40] mel windows, one every
    1/rate s, the waveform zero-padded to the last window."""
    step = 160
    total = int(np.ceil((len(wav) + 1) / step))
    frame_step = int(np.round((16000 / rate) / step))
    starts = list(range(0, max(1, total - n_frames + frame_step + 1), frame_step))
    coverage = (len(wav) - starts[-1] * step) / (n_frames * step)
    if coverage < min_coverage and len(starts) > 1:
        starts = starts[:-1]
    need = (starts[-1] + n_frames) * step
    if need >= len(wav):
        wav = np.pad(wav, (0, need - len(wav)))
    mel = mel_frames(wav)
    return np.stack([mel[s:s + n_frames] for s in starts])
