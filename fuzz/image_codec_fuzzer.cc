// The plain image codec (dopt_image_codec.so, src/data/codec/plain_image_codec.cc): any bytes
// (JPEG and PNG headers, EXIF blocks, damaged data) are read or declined, never a crash, a leak
// or a longjmp past live objects. The module is loaded from the build folder: next to the
// executable (dopt_tests) or one folder up (build-fuzz/fuzz/<target>).
#include <dlfcn.h>

#include <string>

#include "common/file_util.h"
#include "data/image_codec.h"
#include "fuzz_target.h"

namespace {

DoptImageDecodeFn PlainCodec() {
  for (const char* rel : {"", "../"}) {
    std::string path = dopt::JoinPath(dopt::ExecutableDir(), std::string(rel) + DOPT_IMAGE_CODEC_FILE);
    if (void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      return reinterpret_cast<DoptImageDecodeFn>(dlsym(h, DOPT_IMAGE_CODEC_SYMBOL));
    }
  }
  return nullptr;
}

}  // namespace

DOPT_FUZZ_TARGET(image_codec) {
  static const DoptImageDecodeFn decode = PlainCodec();
  DOPT_FUZZ_CHECK(decode != nullptr);
  unsigned char out[6 * 5 * 3];
  char err[64];
  for (int channels : {1, 3}) {
    int rc = decode(data, size, channels, 6, 5, channels == 3, out, err, sizeof(err));
    DOPT_FUZZ_CHECK(rc == DOPT_IMAGE_OK || rc == DOPT_IMAGE_DECLINED);
  }
  return 0;
}
