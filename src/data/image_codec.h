// The image codec module: dopt_image_codec.so, loaded by the data layer on the first image it
// decodes (DecodeAndPreprocessImage). OpenCV's imgcodecs links about 140 shared libraries
// (GDAL, GDCM, OpenEXR, x265, ...) that cost 45 MiB of resident memory at start-up, which a job
// on .bin / .npy data never needs; so the dopt executable links no OpenCV and this module does.
//
// The module is found at (first hit): $DOPT_IMAGE_CODEC; <folder of the executable>/
// dopt_image_codec.so (a build tree); <folder of the executable>/../lib/dopt/
// dopt_image_codec.so (`cmake --install`, `pip install .`).
//
// A plain C interface, so nothing C++ crosses the dlopen boundary.
#pragma once

#include <stddef.h>

#define DOPT_IMAGE_CODEC_FILE "dopt_image_codec.so"
#define DOPT_IMAGE_CODEC_SYMBOL "dopt_image_decode_v1"

extern "C" {
// Decodes a whole image file (`bytes`, `size`) as 8-bit BGR (16-bit files are scaled down),
// converts it to grey (BT.601) when channels == 1, resizes it bilinearly to height x width when
// its size differs, swaps BGR to RGB when channels == 3 and rgb != 0, and writes height * width
// * channels bytes, HWC, to `out`. Returns 0; or non-zero with a one-line cause in `err`
// (always NUL-terminated, at most err_size bytes).
typedef int (*DoptImageDecodeFn)(const void* bytes, size_t size, int channels, int height, int width, int rgb,
                                 unsigned char* out, char* err, size_t err_size);
}
