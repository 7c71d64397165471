// dopt_image_codec_opencv.so: every format OpenCV's imgcodecs reads (cv::imdecode, with its EXIF
// orientation), behind the C interface of data/image_codec.h; asked when the plain codec
// (plain_image_codec.cc) declines a file. Built as its own module (CMakeLists.txt).
#include <cstdio>
#include <cstring>
#include <exception>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/codec/finish_image.h"
#include "data/image_codec.h"

namespace {

int Fail(char* err, size_t err_size, const char* cause, const char* detail = "") {
  if (err_size > 0) std::snprintf(err, err_size, "%s%s", cause, detail);
  return DOPT_IMAGE_ERROR;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int dopt_image_decode_v1(const void* bytes, size_t size,
                                                                            int channels, int height, int width,
                                                                            int rgb, unsigned char* out, char* err,
                                                                            size_t err_size) {
  static const bool quiet = [] {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
    return true;
  }();
  (void)quiet;
  if (channels != 1 && channels != 3) return Fail(err, err_size, "images need 1 or 3 channels");
  if (height <= 0 || width <= 0) return Fail(err, err_size, "image height and width must be positive");
  try {
    cv::Mat img;
    if (size > 0 && size <= (size_t)INT32_MAX) {
      cv::Mat buf(1, (int)size, CV_8UC1, const_cast<void*>(bytes));
      img = cv::imdecode(buf, cv::IMREAD_COLOR);
    }
    if (img.empty()) return Fail(err, err_size, "cannot decode image (corrupt or not an image)");
    dopt_codec::FinishImage(img, channels, height, width, rgb, out);
    return DOPT_IMAGE_OK;
  } catch (const cv::Exception& e) {
    return Fail(err, err_size, "cannot decode image: ", e.what());
  } catch (const std::exception& e) {
    return Fail(err, err_size, "cannot decode image: ", e.what());
  } catch (...) {  // nothing may cross the C interface
    return Fail(err, err_size, "cannot decode image: unknown error");
  }
}
