// dopt_image_codec.so: plain JPEG and 8-bit PNG files without OpenCV's imgcodecs (whose ~140
// shared libraries cost 45 MiB resident), behind the C interface of data/image_codec.h.
//
// The pixels are OpenCV's: libjpeg-turbo and libpng are the libraries cv::imdecode decodes
// these formats with, called with the same settings (JPEG: default IDCT and upsampling, output
// BGR; PNG: png_set_bgr or png_set_gray_to_rgb, interlace handling). A file that would need
// more of OpenCV's own handling is declined (DOPT_IMAGE_DECLINED) and goes to the OpenCV codec:
// a JPEG whose first APP1 block this file does not follow to an orientation (OpenCV turns the
// image by an EXIF orientation from 2 to 8; so does this file, with the same cv::flip and
// cv::transpose calls); CMYK/YCCK JPEG; a JPEG without Huffman tables
// (Motion-JPEG frames); PNG with a palette, transparency, alpha, an eXIf chunk or not 8 bits
// deep; any warning or error from the library (OpenCV decides what a damaged file gives); other
// formats; images above 64 Mpixel. tests/unit/image_codec_test.cc checks the pixels against
// cv::imdecode on the shared images.
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

// jpeglib.h needs FILE and size_t first.
#include <jpeglib.h>
#include <png.h>

#include "data/codec/finish_image.h"
#include "data/image_codec.h"

namespace {

// Larger images go to the OpenCV codec, which reads them up to its own limits
// (CV_IO_MAX_IMAGE_WIDTH 2^20, CV_IO_MAX_IMAGE_PIXELS 2^30): here at most 64 Mpixel (192 MB).
constexpr unsigned long kMaxSide = 1ul << 20, kMaxPixels = 1ul << 26;

bool Fits(unsigned long w, unsigned long h) { return w > 0 && h > 0 && w <= kMaxSide && h <= kMaxSide && w * h <= kMaxPixels; }

// ---- JPEG ----

struct JpegErrors {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  bool warned;
};

void JpegErrorExit(j_common_ptr c) { std::longjmp(reinterpret_cast<JpegErrors*>(c->err)->jump, 1); }
void JpegEmit(j_common_ptr c, int level) {
  if (level < 0) reinterpret_cast<JpegErrors*>(c->err)->warned = true;  // a warning: corrupt data
}
void JpegQuiet(j_common_ptr) {}

// The orientation tag (0x0112) of IFD0 in an APP1 "Exif" block: 1 when there is none; -1 when
// the block cannot be read or holds the tag twice with different values.
int ExifOrientation(const unsigned char* p, size_t n) {
  if (n < 6 + 8 || std::memcmp(p, "Exif\0\0", 6) != 0) return -1;
  p += 6, n -= 6;  // the TIFF header
  const bool le = p[0] == 'I' && p[1] == 'I', be = p[0] == 'M' && p[1] == 'M';
  if (!le && !be) return -1;
  auto u16 = [&](size_t at) { return le ? (unsigned)(p[at] | p[at + 1] << 8) : (unsigned)(p[at] << 8 | p[at + 1]); };
  auto u32 = [&](size_t at) {
    return le ? (size_t)p[at] | (size_t)p[at + 1] << 8 | (size_t)p[at + 2] << 16 | (size_t)p[at + 3] << 24
              : (size_t)p[at] << 24 | (size_t)p[at + 1] << 16 | (size_t)p[at + 2] << 8 | (size_t)p[at + 3];
  };
  if (u16(2) != 42) return -1;
  const size_t ifd = u32(4);
  if (ifd > n || n - ifd < 2) return -1;
  const size_t entries = u16(ifd);
  if ((n - ifd - 2) / 12 < entries) return -1;
  int orientation = 1;
  bool found = false;
  for (size_t e = 0; e < entries; ++e) {
    const size_t at = ifd + 2 + 12 * e;
    if (u16(at) != 0x0112) continue;
    if (u16(at + 2) != 3 || u32(at + 4) != 1) return -1;  // one SHORT, as the standard has it
    const int value = (int)u16(at + 8);
    if (found && value != orientation) return -1;  // which one OpenCV takes is not this file's business
    found = true;
    orientation = value;
  }
  return orientation;
}

// OpenCV 4.6 reads the orientation from the first APP1 block, whatever it holds, as a TIFF
// structure from its 7th byte, and turns the image for orientations 2 to 8 (it leaves 1, and
// values outside the standard's 1 to 8: 0 is common). Returns 1 (leave the image) for no APP1
// block, a first one without TIFF's mark 42 at bytes 9-10 in either byte order (OpenCV finds no
// tags there: an XMP block, "http://ns.adobe.com/xap/1.0/"), or an orientation outside 2..8;
// the orientation 2..8 of an Exif block this reader follows; -1 (decline) for anything else.
int JpegOrientation(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
    if (m->marker != JPEG_APP0 + 1) continue;
    const unsigned char* d = m->data;
    if (m->data_length >= 10 && !(d[8] == 0x2A && d[9] == 0) && !(d[8] == 0 && d[9] == 0x2A)) return 1;
    const int orientation = ExifOrientation(m->data, m->data_length);
    if (orientation < 0) return -1;
    return orientation >= 2 && orientation <= 8 ? orientation : 1;
  }
  return 1;
}

// OpenCV 4.6's ExifTransform (imgcodecs, loadsave.cpp): 2 mirror, 3 turn 180, 4 flip upside down;
// 5-8 transpose first, then as 1-4.
void ApplyOrientation(int orientation, cv::Mat* img) {
  if (orientation >= 5) cv::transpose(*img, *img);
  switch (orientation) {
    case 2: case 6: cv::flip(*img, *img, 1); break;
    case 3: case 7: cv::flip(*img, *img, -1); break;
    case 4: case 8: cv::flip(*img, *img, 0); break;
    default: break;
  }
}

// No object with a destructor begins its life between setjmp and a longjmp (`bgr` is the
// caller's); an allocation that throws still destroys the decoder.
int DecodeJpeg(const unsigned char* data, size_t size, cv::Mat* bgr) {
  jpeg_decompress_struct cinfo{};
  JpegErrors errors{};
  cinfo.err = jpeg_std_error(&errors.pub);
  errors.pub.error_exit = JpegErrorExit;
  errors.pub.emit_message = JpegEmit;
  errors.pub.output_message = JpegQuiet;
  errors.warned = false;
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&cinfo);  // safe on a half-created decoder (its memory manager is null or whole)
    return DOPT_IMAGE_DECLINED;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header(&cinfo, TRUE);
  const bool no_tables = !cinfo.ac_huff_tbl_ptrs[0] && !cinfo.ac_huff_tbl_ptrs[1] && !cinfo.dc_huff_tbl_ptrs[0] &&
                         !cinfo.dc_huff_tbl_ptrs[1];
  const int orientation = JpegOrientation(cinfo);
  if (orientation < 0 || (cinfo.num_components != 1 && cinfo.num_components != 3) || no_tables ||
      !Fits(cinfo.image_width, cinfo.image_height) || errors.warned) {
    jpeg_destroy_decompress(&cinfo);
    return DOPT_IMAGE_DECLINED;
  }
  cinfo.out_color_space = JCS_EXT_BGR;
  cinfo.out_color_components = 3;
  jpeg_start_decompress(&cinfo);
  bool allocated = true;
  try {
    bgr->create((int)cinfo.output_height, (int)cinfo.output_width, CV_8UC3);
  } catch (...) {
    allocated = false;
  }
  if (!allocated) {
    jpeg_destroy_decompress(&cinfo);
    return DOPT_IMAGE_DECLINED;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = bgr->ptr<unsigned char>((int)cinfo.output_scanline);
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  const bool warned = errors.warned;
  jpeg_destroy_decompress(&cinfo);
  if (warned) return DOPT_IMAGE_DECLINED;
  ApplyOrientation(orientation, bgr);
  return DOPT_IMAGE_OK;
}

// ---- PNG ----

struct PngInput {
  const unsigned char* data;
  size_t size, pos;
  bool warned;
};

void PngRead(png_structp png, png_bytep out, png_size_t n) {
  auto* in = static_cast<PngInput*>(png_get_io_ptr(png));
  if (n > in->size - in->pos) png_error(png, "truncated");
  std::memcpy(out, in->data + in->pos, n);
  in->pos += n;
}
void PngError(png_structp png, png_const_charp) { png_longjmp(png, 1); }
void PngWarning(png_structp png, png_const_charp) { static_cast<PngInput*>(png_get_error_ptr(png))->warned = true; }

// OpenCV 4.6 also turns a PNG by the orientation in an eXIf chunk: a PNG with one is declined.
int DecodePng(const unsigned char* data, size_t size, cv::Mat* bgr) {
  PngInput in{data, size, 0, false};
  std::vector<png_bytep> rows;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &in, PngError, PngWarning);
  if (!png) return DOPT_IMAGE_DECLINED;
  png_infop info = png_create_info_struct(png), end = png_create_info_struct(png);
  if (!info || !end) {
    png_destroy_read_struct(&png, info ? &info : nullptr, end ? &end : nullptr);
    return DOPT_IMAGE_DECLINED;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, &end);
    return DOPT_IMAGE_DECLINED;
  }
  png_set_read_fn(png, &in, PngRead);
  png_read_info(png, info);
  png_uint_32 w = 0, h = 0;
  int depth = 0, color = 0;
  png_get_IHDR(png, info, &w, &h, &depth, &color, nullptr, nullptr, nullptr);
  if (depth != 8 || (color != PNG_COLOR_TYPE_RGB && color != PNG_COLOR_TYPE_GRAY) ||
      png_get_valid(png, info, PNG_INFO_tRNS | PNG_INFO_eXIf) || !Fits(w, h) || in.warned) {
    png_destroy_read_struct(&png, &info, &end);
    return DOPT_IMAGE_DECLINED;
  }
  if (color == PNG_COLOR_TYPE_RGB) {
    png_set_bgr(png);
  } else {
    png_set_gray_to_rgb(png);
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  bool allocated = true;
  try {
    bgr->create((int)h, (int)w, CV_8UC3);
    rows.resize(h);
  } catch (...) {
    allocated = false;
  }
  if (!allocated) {
    png_destroy_read_struct(&png, &info, &end);
    return DOPT_IMAGE_DECLINED;
  }
  for (png_uint_32 y = 0; y < h; ++y) rows[y] = bgr->ptr<unsigned char>((int)y);
  png_read_image(png, rows.data());
  png_read_end(png, end);
  const bool declined = in.warned || png_get_valid(png, end, PNG_INFO_eXIf);
  png_destroy_read_struct(&png, &info, &end);
  return declined ? DOPT_IMAGE_DECLINED : DOPT_IMAGE_OK;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int dopt_image_decode_v1(const void* bytes, size_t size,
                                                                            int channels, int height, int width,
                                                                            int rgb, unsigned char* out, char* err,
                                                                            size_t err_size) {
  if (err_size > 0) err[0] = 0;
  if (channels != 1 && channels != 3) {
    if (err_size > 0) std::snprintf(err, err_size, "images need 1 or 3 channels");
    return DOPT_IMAGE_ERROR;
  }
  const auto* data = static_cast<const unsigned char*>(bytes);
  static const unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  try {
    cv::Mat bgr;
    int rc = DOPT_IMAGE_DECLINED;
    if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) {
      rc = DecodeJpeg(data, size, &bgr);
    } else if (size >= 8 && std::memcmp(data, kPng, 8) == 0) {
      rc = DecodePng(data, size, &bgr);
    }
    if (rc != DOPT_IMAGE_OK) return rc;
    dopt_codec::FinishImage(bgr, channels, height, width, rgb, out);
    return DOPT_IMAGE_OK;
  } catch (...) {  // nothing may cross the C interface; OpenCV's codec reports it its own way
    return DOPT_IMAGE_DECLINED;
  }
}
