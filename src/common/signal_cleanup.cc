#include "common/signal_cleanup.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <mutex>

namespace dopt {

namespace {

constexpr int kSlots = 32;
constexpr size_t kMaxPath = 4096;

// A slot is 0 (free), 1 (being written) or 2 (holds a path the handler may unlink).
std::atomic<int> g_state[kSlots];
char g_paths[kSlots][kMaxPath];
std::mutex g_mu;  // serialises Register/Unregister (never taken by the handler)

static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");

extern "C" void CleanupHandler(int sig) {
  for (int i = 0; i < kSlots; ++i) {
    if (g_state[i].load(std::memory_order_acquire) == 2) unlink(g_paths[i]);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

void InstallSignalCleanup() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = CleanupHandler;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&sa.sa_mask, sig);  // one handler at a time
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old;
    // Leave a signal ignored when it was ignored at start (e.g. SIGHUP under nohup).
    if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    sigaction(sig, &sa, nullptr);
  }
}

bool RegisterTempFile(const std::string& path) {
  if (path.size() >= kMaxPath) return false;
  std::lock_guard<std::mutex> lock(g_mu);
  for (int i = 0; i < kSlots; ++i) {
    if (g_state[i].load(std::memory_order_relaxed) != 0) continue;
    g_state[i].store(1, std::memory_order_relaxed);
    std::memcpy(g_paths[i], path.c_str(), path.size() + 1);
    g_state[i].store(2, std::memory_order_release);
    return true;
  }
  return false;
}

void UnregisterTempFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mu);
  for (int i = 0; i < kSlots; ++i) {
    if (g_state[i].load(std::memory_order_relaxed) == 2 && path == g_paths[i]) {
      g_state[i].store(0, std::memory_order_release);
      return;
    }
  }
}

}  // namespace dopt
