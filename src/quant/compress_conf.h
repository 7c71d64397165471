// The compress_conf file: a binary protobuf (schema: src/quant/proto/compress_conf.proto,
// documented in docs/compress_conf.md) carrying a QuantPlan to the NPU compiler.
#pragma once

#include <string>

#include "dopt/status.h"
#include "quant/quant_plan.h"

namespace dopt {

StatusOr<std::string> SerializeCompressConf(const QuantPlan& plan);
StatusOr<QuantPlan> ParseCompressConf(const std::string& bytes, const std::string& name);
StatusOr<QuantPlan> ReadCompressConf(const std::string& path);
// Human-readable text (json = false) or JSON (json = true), for `dopt inspect`.
std::string CompressConfToText(const QuantPlan& plan, bool json);

}  // namespace dopt
