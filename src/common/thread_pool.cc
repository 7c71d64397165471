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

namespace {
constexpr int kChunkBits = 16;
constexpr uint64_t kChunkMask = (uint64_t{1} << kChunkBits) - 1;
uint64_t GenOf(uint64_t w) { return w >> (2 * kChunkBits); }
uint64_t NextOf(uint64_t w) { return (w >> kChunkBits) & kChunkMask; }
uint64_t ChunksOf(uint64_t w) { return w & kChunkMask; }
}  // namespace

ThreadPool::ThreadPool(int num_threads) : num_threads_(num_threads <= 0 ? DefaultThreads() : num_threads) {
  // At most kChunkMask chunks per job: as many threads (ParallelFor makes one chunk per thread).
  num_threads_ = std::min<int>(num_threads_, (int)kChunkMask);
  for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  { std::lock_guard<std::mutex> lock(mu_); }
  cv_work_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::RunChunks(uint64_t gen) {
  uint64_t w = word_.load(std::memory_order_acquire);
  for (;;) {
    if (GenOf(w) != gen || NextOf(w) >= ChunksOf(w)) return;  // a newer job, or nothing left
    if (!word_.compare_exchange_weak(w, w + (uint64_t{1} << kChunkBits), std::memory_order_acq_rel,
                                     std::memory_order_acquire))
      continue;  // w reloaded
    // Claimed chunk c of job `gen`: that job cannot finish (nor a new one be published) before
    // this chunk is done, so its fields are stable.
    const int64_t c = (int64_t)NextOf(w), chunks = (int64_t)ChunksOf(w);
    const int64_t b = c * job_chunk_, e = std::min(job_n_, b + job_chunk_);
    (*job_)(b, e);
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) {
      { std::lock_guard<std::mutex> lock(mu_); }
      cv_done_.notify_one();
    }
    w = word_.load(std::memory_order_acquire);
  }
}

void ThreadPool::WorkerLoop() {
  uint64_t seen = 0;
  for (;;) {
    // Spin, then sleep, until a new generation (job) or stop.
    auto start = std::chrono::steady_clock::now();
    int polls = 0;
    while (GenOf(word_.load(std::memory_order_acquire)) == seen && !stop_.load(std::memory_order_acquire)) {
      DOPT_CPU_RELAX();
      if (++polls % 64 == 0 && std::chrono::steady_clock::now() - start > kSpin) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_work_.wait(lock, [&] {
          return stop_.load(std::memory_order_acquire) || GenOf(word_.load(std::memory_order_acquire)) != seen;
        });
      }
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = GenOf(word_.load(std::memory_order_acquire));
    RunChunks(seen);
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
  // The previous job is finished (every chunk done), so no thread reads these fields now.
  job_ = &fn;
  job_n_ = n;
  job_chunk_ = chunk;
  done_.store(0, std::memory_order_relaxed);
  const uint64_t gen = (GenOf(word_.load(std::memory_order_relaxed)) + 1) & 0xffffffffu;
  word_.store((gen << (2 * kChunkBits)) | (uint64_t)chunks, std::memory_order_release);  // publishes the job
  { std::lock_guard<std::mutex> lock(mu_); }  // no sleeper can miss the new generation
  cv_work_.notify_all();
  RunChunks(gen);
  auto start = std::chrono::steady_clock::now();
  int polls = 0;
  while (done_.load(std::memory_order_acquire) != chunks) {
    DOPT_CPU_RELAX();
    if (++polls % 64 == 0 && std::chrono::steady_clock::now() - start > kSpin) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_done_.wait(lock, [&] { return done_.load(std::memory_order_acquire) == chunks; });
    }
  }
}

}  // namespace dopt
