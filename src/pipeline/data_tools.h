// The calibration-data tools: check-config (resolve a config.prototxt against a model and read
// every sample once), make-bin (write a 610/510 .bin from .npy arrays or an image folder) and
// inspect (a .bin's header and statistics, or a compress_conf's parameters). They print their
// report on stdout; errors come back as a Status naming the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dopt/status.h"

namespace dopt {

struct CheckConfigRequest {
  std::string cal_conf, model, input_shape, input_format = "NCHW", out_nodes;
  int framework = 0;
  int device_idx = -1;
  int64_t batch_size = 0;
};
struct MakeBinRequest {
  std::vector<std::string> npy;
  std::string images, image_shape, input_format = "NCHW", image_format = "BGR", mean, stdev, output;
  int magic = 610;
};

Status CheckConfig(const CheckConfigRequest& request);
Status MakeBin(const MakeBinRequest& request);
// `json`: a compress_conf as JSON.
Status Inspect(const std::string& path, bool json);

}  // namespace dopt
