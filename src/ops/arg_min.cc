// ArgMin: the int64 index of the smallest element along `axis` (default 0), keepdims (default 1),
// select_last_index (default 0: the first of equal values). Float only (reduce_common.h).
#include "ops/reduce_common.h"

namespace dopt {

const OpDef& OpDef_ArgMin() {
  static const OpDef def{
      .name = "ArgMin",
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 1,
      .infer = arg_common::Infer,
      .run = arg_common::Run<false>,
      .upgrade = NoUpgradeNeeded("11: negative axis; 12: select_last_index (default 0: the first index, as before); 13: bfloat16").Since(1),
      .quant = NoQuantRole(),  // the output is indices, not values
  };
  return def;
}

}  // namespace dopt
