#include "common/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define DOPT_CPU_RELAX() _mm_pause()
#else
#define DOPT_CPU_RELAX() std::this_thread::yield()
#endif

namespace dopt {

namespace {
// How long an idle thread keeps polling before it sleeps (about the gap between two ops).
constexpr auto kSpin = std::chrono::microseconds(200);
}  // namespace

int ThreadPool::DefaultThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : (int)n;
}

ThreadPool::ThreadPool(int num_threads) : num_threads_(num_threads <= 0 ? DefaultThreads() : num_threads) {
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  { std::lock_guard<std::mutex> lock(mu_); }
  cv_work_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    // Spin, then sleep, until a new generation (job) or stop.
    auto start = std::chrono::steady_clock::now();
    int polls = 0;
    while (generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_acquire)) {
      DOPT_CPU_RELAX();
      if (++polls % 64 == 0 && std::chrono::steady_clock::now() - start > kSpin) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_work_.wait(lock, [&] {
          return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
        });
      }
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    const auto* job = job_;
    const int64_t n = job_n_, chunk = job_chunk_, chunks = job_chunks_;
    // Worker `index` takes chunks index, index + T, ...
    for (int64_t c = index; c < chunks; c += num_threads_) {
      int64_t b = c * chunk, e = std::min(n, b + chunk);
      (*job)(b, e);
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      { std::lock_guard<std::mutex> lock(mu_); }
      cv_done_.notify_one();
    }
  }
}

void ThreadPool::ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int64_t max_chunks = std::max<int64_t>(1, n / grain);
  int64_t chunks = std::min<int64_t>(max_chunks, num_threads_);
  if (chunks <= 1 || workers_.empty()) {
    fn(0, n);
    return;
  }
  int64_t chunk = (n + chunks - 1) / chunks;
  chunks = (n + chunk - 1) / chunk;
  job_ = &fn;
  job_n_ = n;
  job_chunk_ = chunk;
  job_chunks_ = chunks;
  pending_.store((int)workers_.size(), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);  // publishes the job fields
  { std::lock_guard<std::mutex> lock(mu_); }             // no sleeper can miss the new generation
  cv_work_.notify_all();
  for (int64_t c = 0; c < chunks; c += num_threads_) {
    int64_t b = c * chunk, e = std::min(n, b + chunk);
    fn(b, e);
  }
  auto start = std::chrono::steady_clock::now();
  int polls = 0;
  while (pending_.load(std::memory_order_acquire) != 0) {
    DOPT_CPU_RELAX();
    if (++polls % 64 == 0 && std::chrono::steady_clock::now() - start > kSpin) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
    }
  }
}

}  // namespace dopt
