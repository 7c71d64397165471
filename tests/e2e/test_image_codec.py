"""Image decoding lives in a module, dopt_image_codec.so, that dopt loads on the first image
(src/data/image_codec.h): the executable links no OpenCV, whose codecs pull in ~140 shared
libraries (45 MiB resident) that a job on .bin / .npy data never needs.

These tests check that the executable really links no OpenCV, that the module is found both in
a build tree and in an installed tree (`cmake --install`, which is also the wheel's layout), and
that a missing or wrong module is one clear error, with nothing written.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import describe

def linked_libraries(binary: Path) -> dict[str, str]:
    """ldd's list: library name -> resolved path ("" for the vDSO and the loader)."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    libs = {}
    for line in out.splitlines():
        parts = line.split()
        if parts:
            libs[parts[0]] = parts[2] if len(parts) > 3 and parts[1] == "=>" else ""
    return libs


@pytest.fixture()
def images(tmp_path) -> Path:
    """Three small images written with numpy only: a binary PGM and two PPMs (no codec needed
    to make them, so the test does not depend on the module it checks)."""
    d = tmp_path / "imgs"
    d.mkdir()
    rng = np.random.default_rng(5)
    for i in range(2):
        px = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
        (d / f"c{i}.ppm").write_bytes(b"P6\n16 12\n255\n" + px.tobytes())
    g = rng.integers(0, 256, size=(12, 16), dtype=np.uint8)
    (d / "g.pgm").write_bytes(b"P5\n16 12\n255\n" + g.tobytes())
    return d


def make_bin(dopt: Path, images: Path, out: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(dopt), "make-bin", "--images", str(images), "--image_shape", "3,8,8",
                           "--output", str(out)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_the_executable_links_no_opencv(dopt):
    libs = linked_libraries(dopt)
    assert libs, "ldd listed nothing"
    opencv = [l for l in libs if "opencv" in l]
    assert not opencv, f"{dopt} links {opencv}: image decoding belongs in dopt_image_codec.so"
    assert len(libs) < 40, f"{dopt} links {len(libs)} libraries: {libs}"


def test_the_codec_module_is_next_to_the_build_tree_executable(dopt):
    module = dopt.parent / "dopt_image_codec.so"
    assert module.is_file(), f"{module} was not built"
    assert any("opencv_imgcodecs" in l for l in linked_libraries(module))


def test_images_decode_through_the_module(dopt, images, tmp_path):
    out = tmp_path / "x.bin"
    p = make_bin(dopt, images, out)
    assert p.returncode == 0, describe(p)
    data = np.fromfile(out, dtype="<i4", count=6)
    assert list(data) == [610, 4, 3, 3, 8, 8], data
    x = np.fromfile(out, dtype="<f4", offset=24).reshape(3, 3, 8, 8)
    # the grey image was expanded to three equal channels; the colour ones were not
    names = sorted(os.listdir(images))
    g = x[names.index("g.pgm")]
    assert np.array_equal(g[0], g[1]) and np.array_equal(g[1], g[2])
    c = x[names.index("c0.ppm")]
    assert not np.array_equal(c[0], c[2])
    assert 0 <= x.min() and x.max() <= 255 and x.std() > 10


@pytest.mark.parametrize("case", ["missing", "not_a_codec"])
def test_a_missing_or_wrong_module_is_one_error(dopt, images, tmp_path, case):
    if case == "missing":
        path = tmp_path / "none.so"
        want = f"DOPT_IMAGE_CODEC={path} does not name a file (it should be dopt's dopt_image_codec.so)"
    else:
        path = Path(linked_libraries(dopt)["libc.so.6"])  # loads fine, but is no codec
        want = f"{path} is not dopt's image codec module (no dopt_image_decode_v1)"
    out = tmp_path / "x.bin"
    p = make_bin(dopt, images, out, env={"DOPT_IMAGE_CODEC": str(path)})
    assert p.returncode == 2, describe(p)
    errors = [l for l in p.stderr.splitlines() if not l.startswith("dopt: warning:")]
    assert errors == [f"dopt: error: input 'images': {want}"], p.stderr
    assert "skipping" not in p.stderr  # one error, not a warning per image
    assert not out.exists()


def test_an_executable_without_its_module_says_where_it_looked(dopt, images, tmp_path):
    lone = tmp_path / "bin" / "dopt"
    lone.parent.mkdir()
    shutil.copy2(dopt, lone)
    out = tmp_path / "x.bin"
    env = {k: v for k, v in os.environ.items() if k != "DOPT_IMAGE_CODEC"}
    p = subprocess.run([str(lone), "make-bin", "--images", str(images), "--image_shape", "3,8,8", "--output", str(out)],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 2, describe(p)
    want = (f"dopt: error: input 'images': decoding images needs the module dopt_image_codec.so, which was not found "
            f"(looked in: {lone.parent}/dopt_image_codec.so, {lone.parent}/../lib/dopt/dopt_image_codec.so); "
            "set DOPT_IMAGE_CODEC to its path")
    assert p.stderr.strip().splitlines() == [want], p.stderr
    assert not out.exists()


def test_an_installed_tree_finds_its_module(dopt, images, tmp_path):
    """`cmake --install` lays out <prefix>/bin/dopt and <prefix>/lib/dopt/dopt_image_codec.so,
    as `pip install .` does (pyproject.toml roots the install prefix at the environment)."""
    build = dopt.parent
    if not (build / "cmake_install.cmake").is_file():
        pytest.skip(f"{dopt} is not in a CMake build folder")
    prefix = tmp_path / "prefix"
    p = subprocess.run(["cmake", "--install", str(build), "--prefix", str(prefix)], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, describe(p)
    installed = prefix / "bin" / "dopt"
    assert (prefix / "lib" / "dopt" / "dopt_image_codec.so").is_file()
    env = {k: v for k, v in os.environ.items() if k != "DOPT_IMAGE_CODEC"}
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    p = subprocess.run([str(installed), "make-bin", "--images", str(images), "--image_shape", "3,8,8", "--output", str(a)],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, describe(p)
    p = make_bin(dopt, images, b, env={})
    assert p.returncode == 0, describe(p)
    assert a.read_bytes() == b.read_bytes()
