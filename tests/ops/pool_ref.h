// Naive pooling reference for the MaxPool / AveragePool tests (2-D).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace dopt {
namespace optest {

// mode 0 = max, 1 = avg excluding pads, 2 = avg including pads (not ceil overhang).
inline std::vector<float> RefPool2D(const float* x, int64_t planes, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                    int64_t KH, int64_t KW, int64_t SH, int64_t SW, int64_t DH, int64_t DW,
                                    int64_t PT, int64_t PL, int64_t PB, int64_t PR, int mode) {
  std::vector<float> y;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        float best = -std::numeric_limits<float>::infinity();
        double sum = 0;
        int64_t cnt = 0, cnt_pad = 0;
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw) {
            int64_t ih = oh * SH - PT + kh * DH, iw = ow * SW - PL + kw * DW;
            if (ih < H + PB && iw < W + PR && ih >= -PT && iw >= -PL) ++cnt_pad;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            float v = x[(p * H + ih) * W + iw];
            best = std::max(best, v);
            sum += v;
            ++cnt;
          }
        y.push_back(mode == 0 ? best : (float)(sum / (double)(mode == 1 ? cnt : cnt_pad)));
      }
  return y;
}

}  // namespace optest
}  // namespace dopt
