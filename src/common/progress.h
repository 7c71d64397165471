// Progress reporting: a redrawn bar when the stream is a terminal, plain periodic lines
// otherwise (logs, CI). Not thread-safe; call from one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace dopt {

class Progress {
 public:
  // total <= 0: unknown total (counts only). `out` defaults to stderr.
  Progress(std::string label, int64_t total, std::FILE* out = stderr);
  // Forces the mode (tests); by default isatty(fileno(out)).
  void set_tty(bool tty) { tty_ = tty; }
  // Reports `done` items so far. Cheap when nothing needs printing.
  void Update(int64_t done);
  // Prints the final state (once). Without it (an error path) no final line is printed.
  void Finish();
  ~Progress();

 private:
  void Print(bool final);
  std::string label_;
  int64_t total_, done_ = 0, last_line_done_ = -1;
  std::FILE* out_;
  bool tty_ = false, finished_ = false, drawn_ = false;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace dopt
