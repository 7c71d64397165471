// File helpers: whole-file reads with clear errors, and atomic writes (temp file + rename).
#pragma once

#include <string>

#include "common/limits.h"
#include "dopt/status.h"

namespace dopt {

StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes = kMaxFileBytes);
// Writes to a temp file next to `path`, then renames it over `path`. On failure nothing is
// left behind and an existing `path` is untouched.
Status WriteFileAtomic(const std::string& path, const std::string& bytes);
// True when `path` names a regular file (following links).
bool IsRegularFile(const std::string& path);
// True when both paths name the same existing file.
bool SameFile(const std::string& a, const std::string& b);
std::string DirName(const std::string& path);
std::string JoinPath(const std::string& dir, const std::string& name);
// The folder of the running executable (/proc/self/exe), or "" when it cannot be read.
std::string ExecutableDir();

}  // namespace dopt
