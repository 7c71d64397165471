// The steps after decoding, shared by both image codec modules (data/image_codec.h): 8-bit BGR in,
// grey / resized / RGB as asked, HWC bytes out. Header-only: each module compiles its own copy.
#pragma once

#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace dopt_codec {

inline void FinishImage(cv::Mat img, int channels, int height, int width, int rgb, unsigned char* out) {
  if (img.depth() != CV_8U) img.convertTo(img, CV_8U);  // 16-bit PNG/TIFF are scaled by imdecode already
  if (channels == 1) cv::cvtColor(img, img, cv::COLOR_BGR2GRAY);
  if (img.rows != height || img.cols != width) {
    cv::resize(img, img, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
  }
  if (channels == 3 && rgb) cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
  const size_t row_bytes = (size_t)width * (size_t)channels;
  for (int y = 0; y < height; ++y) std::memcpy(out + (size_t)y * row_bytes, img.ptr<unsigned char>(y), row_bytes);
}

}  // namespace dopt_codec
