#include "common/progress.h"

#include <unistd.h>

namespace dopt {

Progress::Progress(std::string label, int64_t total, std::FILE* out)
    : label_(std::move(label)), total_(total), out_(out ? out : stderr) {
  tty_ = isatty(fileno(out_)) != 0;
  start_ = last_print_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  // Not finished: an error is on its way. End a half-drawn bar so the message gets its own line.
  if (!finished_ && tty_ && drawn_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
}

void Progress::Update(int64_t done) {
  done_ = done;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_print_).count();
  if (tty_) {
    int pct = total_ > 0 ? (int)(100 * done_ / total_) : -1;
    if (pct != last_percent_ || since > 0.5) Print(false);
  } else {
    // A line at every 10% step, or every 10 s when the total is unknown.
    int step = total_ > 0 ? (int)(10 * done_ / total_) : -1;
    if ((total_ > 0 && step != last_percent_) || (total_ <= 0 && since >= 10)) Print(false);
  }
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  Print(true);
}

void Progress::Print(bool final) {
  auto now = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(now - start_).count();
  last_print_ = now;
  if (tty_) {
    char line[256];
    if (total_ > 0) {
      const int width = 30;
      int pct = (int)(100 * done_ / total_);
      int fill = (int)(width * done_ / total_);
      std::string bar(fill, '#');
      bar += std::string(width - fill, '.');
      std::snprintf(line, sizeof(line), "\r%s [%s] %3d%% %lld/%lld %.1fs", label_.c_str(), bar.c_str(), pct,
                    (long long)done_, (long long)total_, secs);
      last_percent_ = pct;
    } else {
      std::snprintf(line, sizeof(line), "\r%s %lld %.1fs", label_.c_str(), (long long)done_, secs);
    }
    std::fputs(line, out_);
    drawn_ = true;
    if (final) std::fputc('\n', out_);
  } else {
    if (!final && done_ == last_line_done_) return;
    if (final && done_ == last_line_done_) return;
    if (total_ > 0) {
      last_percent_ = (int)(10 * done_ / total_);
      std::fprintf(out_, "%s: %lld/%lld (%d%%) %.1fs\n", label_.c_str(), (long long)done_, (long long)total_,
                   (int)(100 * done_ / total_), secs);
    } else {
      std::fprintf(out_, "%s: %lld %.1fs\n", label_.c_str(), (long long)done_, secs);
    }
    last_line_done_ = done_;
  }
  std::fflush(out_);
}

}  // namespace dopt
