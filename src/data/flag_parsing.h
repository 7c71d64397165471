// Pure parsers for the original tool's flags and config lists: --input_shape, --out_nodes,
// exclude_op, plus "did you mean" suggestions. No model, file or CLI code here.
#pragma once

#include <string>
#include <vector>

#include "dopt/status.h"
#include "ir/tensor.h"

namespace dopt {

// Full-width '，' '；' '：' (and the ideographic space) to their ASCII forms.
std::string NormalizeFullWidthPunct(const std::string& s);
std::string TrimSpaces(const std::string& s);

struct InputShapeEntry {
  std::string name;
  Shape dims;  // all positive
};

// "in1: n,c,h,w; in2: ..." (ASCII or full-width punctuation, free spacing). The last ':' of an
// entry separates the name from the dims, so TF names like "x:0" work ("x:0: 1,224,224,3").
StatusOr<std::vector<InputShapeEntry>> ParseInputShape(const std::string& text);

// "a; b" -> {"a", "b"}. Empty entries are ignored; duplicates are an error.
StatusOr<std::vector<std::string>> ParseOutNodes(const std::string& text);

// exclude_op entries, each one name or several separated by ';' (ASCII or full-width), mixed
// freely: trimmed, empty parts dropped, duplicates dropped, first-seen order kept.
std::vector<std::string> SplitExcludeOps(const std::vector<std::string>& entries);

// Levenshtein distance over bytes.
size_t EditDistance(const std::string& a, const std::string& b);
// Up to `k` candidates closest to `name` (edit distance, ties by name), nearest first.
std::vector<std::string> ClosestNames(const std::string& name, const std::vector<std::string>& candidates,
                                      size_t k = 3);
// "'a', 'b', 'c'" — for messages.
std::string QuotedList(const std::vector<std::string>& names, size_t max_items = 10);

}  // namespace dopt
