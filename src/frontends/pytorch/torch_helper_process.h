// Runs dopt's PyTorch helper (python/dopt/torch_helper.py) as a subprocess. The helper is the
// one place dopt needs Python: the model is Python code. dopt never loads Python itself.
#pragma once

#include <string>
#include <vector>

#include "dopt/status.h"

namespace dopt {

// A fresh private folder under $TMPDIR (or /tmp), removed with everything in it on destruction.
class TempDir {
 public:
  static StatusOr<TempDir> Create();
  TempDir(TempDir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

// The helper script: $DOPT_TORCH_HELPER, else next to the executable (build tree or an installed
// wheel's site-packages), else the source tree dopt was built from.
StatusOr<std::string> FindTorchHelper();

// Runs `$DOPT_PYTHON (or python3) <helper> <args...>`. Lines the helper prints as
// "dopt: warning: ..." are passed on to dopt's stderr. A failure becomes one error whose text is
// the helper's "dopt-helper: error: ..." line (or the last line it printed).
Status RunTorchHelper(const std::vector<std::string>& args, const std::string& work_dir);

}  // namespace dopt
