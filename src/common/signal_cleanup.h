// Temp files that must not outlive an interrupted run. WriteFileAtomic and BinWriter register
// their temp file while it exists; the handler installed by InstallSignalCleanup (SIGINT,
// SIGTERM, SIGHUP) unlinks every registered path, then re-raises the signal with its default
// action, so the process still dies of the signal (exit status 128 + signo in a shell).
// The handler only calls async-signal-safe functions (unlink, signal, raise).
#pragma once

#include <string>

namespace dopt {

void InstallSignalCleanup();

// Registers `path` for removal on a signal; false when every slot is taken or the path is
// too long (the file then simply is not cleaned up on a signal).
bool RegisterTempFile(const std::string& path);
void UnregisterTempFile(const std::string& path);

// Registers a path for its lifetime.
class ScopedTempFileRegistration {
 public:
  explicit ScopedTempFileRegistration(std::string path) : path_(std::move(path)) { RegisterTempFile(path_); }
  ~ScopedTempFileRegistration() { UnregisterTempFile(path_); }
  ScopedTempFileRegistration(const ScopedTempFileRegistration&) = delete;
  ScopedTempFileRegistration& operator=(const ScopedTempFileRegistration&) = delete;

 private:
  std::string path_;
};

}  // namespace dopt
