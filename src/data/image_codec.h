// The image codec modules, loaded by the data layer when an IMAGE folder is opened
// (DecodeAndPreprocessImage). OpenCV's imgcodecs links about 140 shared libraries (GDAL, GDCM,
// OpenEXR, x265, ...) that cost 45 MiB of resident memory; so the dopt executable links no
// OpenCV, and image decoding lives in two modules:
//
//   dopt_image_codec.so         plain JPEG and 8-bit PNG files, decoded with libjpeg-turbo and
//                               libpng exactly as OpenCV's own decoders call them (same pixels),
//                               resized with OpenCV's imgproc; declines every other file.
//   dopt_image_codec_opencv.so  everything OpenCV's imgcodecs reads (cv::imdecode, including its
//                               EXIF orientation); loaded only when the plain codec declines.
//
// Both are found in the first of: $DOPT_IMAGE_CODEC_DIR; the folder of the executable (a build
// tree); <folder of the executable>/../lib/dopt (`cmake --install`, `pip install .`).
//
// A plain C interface, so nothing C++ crosses the dlopen boundary.
#pragma once

#include <stddef.h>

#define DOPT_IMAGE_CODEC_FILE "dopt_image_codec.so"
#define DOPT_IMAGE_CODEC_OPENCV_FILE "dopt_image_codec_opencv.so"
#define DOPT_IMAGE_CODEC_SYMBOL "dopt_image_decode_v1"

// dopt_image_decode_v1's results.
#define DOPT_IMAGE_OK 0
#define DOPT_IMAGE_ERROR 1      // not decodable; `err` says why
#define DOPT_IMAGE_DECLINED 2   // the plain codec does not read this file: ask the OpenCV codec

extern "C" {
// Decodes a whole image file (`bytes`, `size`) as 8-bit BGR (16-bit files are scaled down),
// converts it to grey (BT.601) when channels == 1, resizes it bilinearly to height x width when
// its size differs, swaps BGR to RGB when channels == 3 and rgb != 0, and writes height * width
// * channels bytes, HWC, to `out`. Returns DOPT_IMAGE_OK; DOPT_IMAGE_ERROR with a one-line cause
// in `err` (NUL-terminated, at most err_size bytes); or DOPT_IMAGE_DECLINED (plain codec only).
typedef int (*DoptImageDecodeFn)(const void* bytes, size_t size, int channels, int height, int width, int rgb,
                                 unsigned char* out, char* err, size_t err_size);
}
