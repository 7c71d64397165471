// NumPy .npy files (format 1.0-3.0, little-endian, C order) to and from tensors.
#pragma once

#include <string>

#include "dopt/status.h"
#include "ir/tensor.h"

namespace dopt {

StatusOr<Tensor> ParseNpy(const std::string& bytes, const std::string& name);
StatusOr<Tensor> ReadNpy(const std::string& path);
std::string SerializeNpy(const Tensor& t);
Status WriteNpy(const std::string& path, const Tensor& t);

}  // namespace dopt
