"""The HTML quantization report (src/pipeline/analysis_report.cc) in a real browser.

The page is loaded in headless Chromium with `--dump-dom` (the DOM after the page's scripts
ran) and Chromium's log on stderr (`--enable-logging=stderr`), where every console message and
uncaught exception appears as an `INFO:CONSOLE` line. The page must log nothing at all, its
inline script must have run (it sets body[data-ready="1"] once the table is sortable), and the
DOM must hold one tr.layer per layer, the SQNR chart and the histograms. Sorting is checked
through the URL: `#sort=<column>[:asc|:desc]` makes the script click that header, and the
dumped rows must then be in that order.

Pages:
- the sample report of the unit tests (build/dopt_tests --gtest_filter=AnalysisReport.WritesSample
  with DOPT_REPORT_SAMPLE_OUT=<file>): names with <>&"' characters, a NaN and a capped SQNR;
- `dopt analyze ... --report` on the shared SqueezeNet when this dopt has it (skipped otherwise).

Chromium missing: skipped, or failed when DOPT_REQUIRE_BROWSER=1 (scripts/test.sh sets it;
scripts/install_deps.sh installs the Debian package `chromium`).
"""
from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPO_ROOT, SHARED_MODELS, describe, dopt_bin, run_dopt

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_TIMEOUT_S = 120
# Chromium writes console messages (console.log/error, uncaught exceptions) as
# "[pid:tid:time:INFO:CONSOLE:<line>] "<message>", source: <url> (<line>)" (older builds:
# "INFO:CONSOLE(<line>)"). The page logs nothing, so any such line is a failure.
CONSOLE_RE = re.compile(r":CONSOLE[:(]|Uncaught ")
EXTERNAL_REFS = ("http://", "https://", "<link", "src=", "url(", "@import")

# The sample report of tests/unit/analysis_report_test.cc (graph order).
SAMPLE_LAYERS = 7
SAMPLE_NASTY_NAME = "conv<1>&\"a'\\b"
SAMPLE_WORST_FIRST = ["broken", "block1/conv", SAMPLE_NASTY_NAME, "block1/fc", "stem", "head", "ctrl\ufffd\ttab"]


def _require(what: str) -> None:
    """Fails when DOPT_REQUIRE_BROWSER=1, skips otherwise."""
    if os.environ.get("DOPT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what} (DOPT_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session")
def chromium() -> str:
    env = os.environ.get("DOPT_CHROMIUM")
    if env:
        return env
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    _require("no Chromium found (apt-get install chromium; scripts/install_deps.sh installs it)")


def load_page(chromium: str, page: Path, profile: Path, fragment: str = "") -> tuple[str, list[str]]:
    """The DOM after the page's scripts ran, and the console lines of Chromium's log."""
    profile.mkdir(parents=True, exist_ok=True)
    cmd = [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
           # Nothing may be fetched: any host name fails to resolve.
           "--host-resolver-rules=MAP * ~NOTFOUND",
           f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
           "--dump-dom", page.resolve().as_uri() + fragment]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S)
    assert proc.returncode == 0, describe(proc)
    console = [line for line in proc.stderr.splitlines() if CONSOLE_RE.search(line)]
    return proc.stdout, console


class Dom(HTMLParser):
    """What the tests read from the dumped DOM: the layer rows (their cells' data-v or text),
    the svgs, the sections and a few attributes."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.body: dict = {}
        self.layers_table: dict | None = None
        self.headers: list[str] = []
        self.rows: list[dict] = []  # {"attrs": {...}, "cells": [(data-v, text), ...]}
        self.svgs: list[dict] = []
        self.ids: set[str] = set()
        self._in_layers = False
        self._cell: list | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "body":
            self.body = a
        elif tag == "table" and a.get("id") == "layers":
            self.layers_table = a
            self._in_layers = True
        elif tag == "svg":
            self.svgs.append(a)
        elif self._in_layers and tag == "th":
            self.headers.append(a.get("data-key", ""))
        elif self._in_layers and tag == "tr" and "layer" in a.get("class", "").split():
            self.rows.append({"attrs": a, "cells": []})
        elif self._in_layers and tag == "td" and self.rows:
            self._cell = [a.get("data-v"), ""]
            self.rows[-1]["cells"].append(self._cell)

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_layers = False
        elif tag == "td":
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data

    def svg_count(self, cls: str) -> int:
        return sum(1 for s in self.svgs if cls in s.get("class", "").split())

    def column(self, key: str) -> list:
        i = self.headers.index(key)
        return [r["cells"][i] for r in self.rows]


def check_page(chromium: str, page: Path, profile: Path, expected_rows: int | None = None) -> Dom:
    """Loads the page; checks it is self-contained, silent, scripted and complete."""
    html = page.read_text(encoding="utf-8")
    for ref in EXTERNAL_REFS:
        assert ref not in html, f"{page} refers outside itself: {ref!r}"
    static_rows = html.count('<tr class="layer"')
    if expected_rows is not None:
        assert static_rows == expected_rows
    dom_text, console = load_page(chromium, page, profile)
    assert console == [], "console messages or uncaught exceptions:\n" + "\n".join(console)
    dom = Dom(dom_text)
    assert dom.body.get("data-ready") == "1", "the page's script did not finish"
    assert dom.layers_table is not None, "no table#layers"
    assert len(dom.rows) == static_rows
    assert all(r["attrs"].get("data-name") is not None for r in dom.rows)
    assert "sqnr-chart" in dom.ids
    assert "raised" in dom.ids and "saturation" in dom.ids
    return dom


def check_sorted(chromium: str, page: Path, profile: Path, key: str, direction: str) -> Dom:
    """#sort=key:direction: the rows are in that order (missing values last, ties in graph order)."""
    dom_text, console = load_page(chromium, page, profile, f"#sort={key}:{direction}")
    assert console == [], "\n".join(console)
    dom = Dom(dom_text)
    assert dom.body.get("data-ready") == "1"
    assert dom.layers_table.get("data-sort-key") == key
    assert dom.layers_table.get("data-sort-dir") == direction
    values = []
    for (v, _), row in zip(dom.column(key), dom.rows):
        x = float(v) if v not in (None, "") else math.nan
        values.append((x, int(row["attrs"]["data-index"])))
    present = [v for v in values if not math.isnan(v[0])]
    assert all(math.isnan(v[0]) for v in values[len(present):]), f"missing values not last: {values}"
    sign = 1 if direction == "asc" else -1
    assert present == sorted(present, key=lambda v: (sign * v[0], v[1])), f"{key} {direction}: {values}"
    return dom


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory) -> Path:
    tests = dopt_bin().parent / "dopt_tests"
    if not tests.is_file():
        tests = REPO_ROOT / "build" / "dopt_tests"
    if not tests.is_file():
        _require(f"{tests} not built (configure with -DDOPT_BUILD_TESTS=ON)")
    out = tmp_path_factory.mktemp("report") / "sample report.html"  # a space: the file URL must quote it
    proc = subprocess.run([str(tests), "--gtest_filter=AnalysisReport.WritesSample"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "DOPT_REPORT_SAMPLE_OUT": str(out)})
    assert proc.returncode == 0, describe(proc)
    assert out.is_file(), f"{tests} wrote no sample report (is AnalysisReport.WritesSample in it?)"
    return out


def test_console_errors_are_seen(chromium, tmp_path):
    """The detector itself: a page that throws and logs is caught (were Chromium's log format to
    change, the checks above would pass vacuously)."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><body><script>console.error('boom');</script>"
                    "<script>notDefined();</script></body></html>")
    _, console = load_page(chromium, page, tmp_path / "profile")
    assert len(console) == 2, console
    assert any("Uncaught ReferenceError" in line for line in console), console


def test_sample_report_loads_cleanly(chromium, sample_page, tmp_path):
    dom = check_page(chromium, sample_page, tmp_path / "profile", expected_rows=SAMPLE_LAYERS)
    # Names round-trip through the escaping; the rows start worst first.
    assert [r["attrs"]["data-name"] for r in dom.rows] == SAMPLE_WORST_FIRST
    assert [r["attrs"]["data-risk"] for r in dom.rows].count("1") == 2
    assert dom.svg_count("histogram") == SAMPLE_LAYERS
    assert dom.svg_count("weight-ranges") == SAMPLE_LAYERS


@pytest.mark.parametrize("key,direction", [("sqnr_db", "desc"), ("sqnr_db_accumulated", "asc"),
                                           ("cosine_accumulated", "desc"), ("max_pair_sum", "desc"),
                                           ("index", "asc")])
def test_sample_report_sorts(chromium, sample_page, tmp_path, key, direction):
    dom = check_sorted(chromium, sample_page, tmp_path / "profile", key, direction)
    assert sorted(r["attrs"]["data-name"] for r in dom.rows) == sorted(SAMPLE_WORST_FIRST)


def test_sample_report_sorts_text_column(chromium, sample_page, tmp_path):
    dom_text, console = load_page(chromium, sample_page, tmp_path / "profile", "#sort=op_type:desc")
    assert console == []
    dom = Dom(dom_text)
    ops = [text for _, text in dom.column("op_type")]
    assert ops == sorted(ops, reverse=True)  # plain ASCII op names: localeCompare agrees


def _analyze_report(tmp_path: Path) -> Path:
    """`dopt analyze --report` on the shared SqueezeNet; skipped when this dopt has no analyze
    command with --report yet, or the model or images are absent."""
    dopt = dopt_bin()
    if not dopt.is_file():
        pytest.skip(f"{dopt} not built")
    # Without the subcommand, `dopt analyze --help` prints the main help (exit 0 too).
    helped = subprocess.run([str(dopt), "analyze", "--help"], capture_output=True, text=True, timeout=60)
    text = helped.stdout + helped.stderr
    if helped.returncode != 0 or not re.search(r"Usage: \S*dopt analyze\b", text) or "--report" not in text:
        pytest.skip("this dopt has no `analyze --report`")
    model = SHARED_MODELS / "squeezenet1.0_fp16.onnx"
    images_src = SHARED_MODELS.parents[1] / "images" / "imagenet-sample"
    if not model.is_file() or not images_src.is_dir():
        pytest.skip(f"shared test data missing: {model}, {images_src}")
    images = tmp_path / "images"
    images.mkdir()
    for p in sorted(images_src.glob("*.JPEG"))[:4]:
        shutil.copy(p, images / p.name)
    conf = tmp_path / "config.prototxt"
    conf.write_text('''strategy: "Quant_INT8-8"
preprocess_parameter { input_type: IMAGE image_format: BGR mean_value: 127 mean_value: 127 mean_value: 127
                       standard_deviation: 128 input_file_path: "images/" }
calibration_method: "kl"
''')
    report = tmp_path / "squeezenet report.html"
    proc = run_dopt(dopt, "analyze", "--framework", "5", "--model", model, "--cal_conf", conf,
                    "--report", report, cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    assert report.is_file(), describe(proc)
    return report


def test_analyze_report_loads_cleanly(chromium, tmp_path):
    report = _analyze_report(tmp_path)
    dom = check_page(chromium, report, tmp_path / "profile")
    assert len(dom.rows) >= 20, "SqueezeNet has 26 convolutions"
    assert dom.svg_count("histogram") >= 1
    assert dom.svg_count("weight-ranges") >= 1
    check_sorted(chromium, report, tmp_path / "profile", "sqnr_db_accumulated", "asc")
