"""Image decoding lives in two modules that dopt loads when an IMAGE folder is opened
(src/data/image_codec.h): dopt_image_codec.so (plain JPEG / PNG with libjpeg-turbo and libpng)
and dopt_image_codec_opencv.so (everything else, with OpenCV's imgcodecs, whose ~140 shared
libraries cost 45 MiB resident). The executable links no OpenCV.

These tests check that the executable really links no OpenCV, that the modules are found both
in a build tree and in an installed tree (`cmake --install`, which is also the wheel's layout),
that the OpenCV codec is loaded only for a file the plain one declines, and that a missing or
wrong module is one clear error, with nothing written.
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


def test_the_codec_modules_are_next_to_the_build_tree_executable(dopt):
    plain, full = dopt.parent / "dopt_image_codec.so", dopt.parent / "dopt_image_codec_opencv.so"
    assert plain.is_file() and full.is_file(), f"{plain} / {full} not built"
    assert not any("imgcodecs" in l for l in linked_libraries(plain)), "the plain codec must not link imgcodecs"
    assert any("libjpeg" in l for l in linked_libraries(plain))
    assert any("opencv_imgcodecs" in l for l in linked_libraries(full))


def loaded_codecs(dopt: Path, images: Path, out: Path) -> set[str]:
    """The codec modules a make-bin run loads (the dynamic loader's own log)."""
    p = subprocess.run([str(dopt), "make-bin", "--images", str(images), "--image_shape", "3,8,8", "--output", str(out)],
                       capture_output=True, text=True, timeout=120, env={**os.environ, "LD_DEBUG": "files"})
    assert p.returncode == 0, describe(p)
    return {name for name in ("dopt_image_codec.so", "dopt_image_codec_opencv.so", "libopencv_imgcodecs")
            if any(name in l and "dynamically loaded" in l or name in l and "needed by" in l
                   for l in p.stderr.splitlines())}


def test_the_opencv_codec_loads_only_for_a_file_the_plain_one_declines(dopt, tmp_path):
    rng = np.random.default_rng(3)
    png = tmp_path / "png"
    png.mkdir()
    # A minimal 8-bit grey PNG, written with zlib: the plain codec reads it.
    import struct
    import zlib
    px = rng.integers(0, 256, size=(6, 7), dtype=np.uint8)
    raw = b"".join(b"\0" + row.tobytes() for row in px)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    (png / "g.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 7, 6, 8, 0, 0, 0, 0))
                                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    assert loaded_codecs(dopt, png, tmp_path / "a.bin") == {"dopt_image_codec.so"}
    ppm = tmp_path / "ppm"
    ppm.mkdir()
    (ppm / "c.ppm").write_bytes(b"P6\n7 6\n255\n" + rng.integers(0, 256, size=(6, 7, 3), dtype=np.uint8).tobytes())
    assert loaded_codecs(dopt, ppm, tmp_path / "b.bin") == {"dopt_image_codec.so", "dopt_image_codec_opencv.so",
                                                            "libopencv_imgcodecs"}


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


@pytest.mark.parametrize("case", ["not_a_folder", "empty_folder", "not_a_codec"])
def test_a_missing_or_wrong_module_is_one_error(dopt, images, tmp_path, case):
    folder = tmp_path / "codecs"
    if case == "not_a_folder":
        want = f"DOPT_IMAGE_CODEC_DIR={folder} is not a folder (it should hold dopt's dopt_image_codec.so and dopt_image_codec_opencv.so)"
    elif case == "empty_folder":
        folder.mkdir()
        want = (f"decoding images needs the module dopt_image_codec.so, which was not found (looked in: "
                f"{folder}/dopt_image_codec.so); set DOPT_IMAGE_CODEC_DIR to its folder")
    else:
        folder.mkdir()
        shutil.copy2(linked_libraries(dopt)["libc.so.6"], folder / "dopt_image_codec.so")  # loads fine, but is no codec
        want = f"{folder}/dopt_image_codec.so is not one of dopt's image codec modules (no dopt_image_decode_v1)"
    out = tmp_path / "x.bin"
    p = make_bin(dopt, images, out, env={"DOPT_IMAGE_CODEC_DIR": str(folder)})
    assert p.returncode == 2, describe(p)
    errors = [l for l in p.stderr.splitlines() if not l.startswith("dopt: warning:")]
    assert errors == [f"dopt: error: input 'images': {want}"], p.stderr
    assert "skipping" not in p.stderr  # one error, not a warning per image
    assert not out.exists()


def test_a_missing_opencv_codec_is_one_error_before_any_image(dopt, images, tmp_path):
    folder = tmp_path / "codecs"
    folder.mkdir()
    shutil.copy2(dopt.parent / "dopt_image_codec.so", folder)
    out = tmp_path / "x.bin"
    p = make_bin(dopt, images, out, env={"DOPT_IMAGE_CODEC_DIR": str(folder)})
    assert p.returncode == 2, describe(p)
    assert p.stderr.strip().splitlines() == [
        f"dopt: error: input 'images': decoding images needs the module dopt_image_codec_opencv.so, which was not found "
        f"(looked in: {folder}/dopt_image_codec_opencv.so); set DOPT_IMAGE_CODEC_DIR to its folder"], p.stderr
    assert not out.exists()


def test_an_executable_without_its_module_says_where_it_looked(dopt, images, tmp_path):
    lone = tmp_path / "bin" / "dopt"
    lone.parent.mkdir()
    shutil.copy2(dopt, lone)
    out = tmp_path / "x.bin"
    env = {k: v for k, v in os.environ.items() if k != "DOPT_IMAGE_CODEC_DIR"}
    p = subprocess.run([str(lone), "make-bin", "--images", str(images), "--image_shape", "3,8,8", "--output", str(out)],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 2, describe(p)
    want = (f"dopt: error: input 'images': decoding images needs the module dopt_image_codec.so, which was not found "
            f"(looked in: {lone.parent}/dopt_image_codec.so, {lone.parent}/../lib/dopt/dopt_image_codec.so); "
            "set DOPT_IMAGE_CODEC_DIR to its folder")
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
    assert (prefix / "lib" / "dopt" / "dopt_image_codec_opencv.so").is_file()
    env = {k: v for k, v in os.environ.items() if k != "DOPT_IMAGE_CODEC_DIR"}
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    p = subprocess.run([str(installed), "make-bin", "--images", str(images), "--image_shape", "3,8,8", "--output", str(a)],
                       capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, describe(p)
    p = make_bin(dopt, images, b, env={})
    assert p.returncode == 0, describe(p)
    assert a.read_bytes() == b.read_bytes()


def test_an_opencv_codec_that_does_not_load_is_one_error(dopt, images, tmp_path):
    """Present (so opening the folder succeeds) but not loadable: the first file the plain codec
    declines (a PPM here) ends the run with one error naming it, not a warning per file."""
    folder = tmp_path / "codecs"
    folder.mkdir()
    shutil.copy2(dopt.parent / "dopt_image_codec.so", folder)
    shutil.copy2(linked_libraries(dopt)["libc.so.6"], folder / "dopt_image_codec_opencv.so")
    out = tmp_path / "x.bin"
    p = make_bin(dopt, images, out, env={"DOPT_IMAGE_CODEC_DIR": str(folder)})
    assert p.returncode == 2, describe(p)
    first = sorted(f for f in os.listdir(images))[0]
    assert p.stderr.strip().splitlines() == [
        f"dopt: error: input 'images': {folder}/dopt_image_codec_opencv.so is not one of dopt's image codec modules "
        f"(no dopt_image_decode_v1) (needed for {images}/{first})"], p.stderr
    assert not out.exists()
