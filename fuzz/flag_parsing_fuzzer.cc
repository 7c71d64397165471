// --input_shape, --out_nodes and exclude_op list parsing, plus the "did you mean" helpers.
#include <string>
#include <vector>

#include "data/flag_parsing.h"
#include "fuzz_target.h"

DOPT_FUZZ_TARGET(flag_parsing) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto shapes = dopt::ParseInputShape(text);
  if (shapes.ok()) {
    for (const auto& e : *shapes)
      for (int64_t d : e.dims)
        DOPT_FUZZ_CHECK(d > 0);  // documented: all dims positive
  }
  auto nodes = dopt::ParseOutNodes(text);
  std::vector<std::string> ops = dopt::SplitExcludeOps({text});
  if (nodes.ok() && !nodes->empty() && size < 512) {
    (void)dopt::ClosestNames(nodes->front(), ops);
    (void)dopt::QuotedList(*nodes);
  }
  return 0;
}
