// A fixed-size pool for intra-op parallelism. The calling thread takes part in the work.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dopt {

class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);  // total threads including the caller; <= 0 = all cores
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return num_threads_; }
  // Calls fn(begin, end) over [0, n) split into contiguous chunks of at least `grain` items.
  // Chunks are fixed by (n, grain, num_threads) so results never depend on timing.
  void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  static int DefaultThreads();

 private:
  void WorkerLoop();
  // Claims and runs chunks of the job published as generation `gen` until none is left.
  void RunChunks(uint64_t gen);

  int num_threads_;
  std::vector<std::thread> workers_;
  // A job is published as one word: generation (high 32 bits), next unclaimed chunk (next 16),
  // chunk count (low 16). Every thread, the caller included, claims chunks with a
  // compare-and-swap on it, so a worker the OS has not scheduled yet delays nobody: the others
  // take its chunks (the chunks themselves are fixed, so results never depend on who runs
  // them). Workers spin briefly on the word before sleeping on the condition variable, so the
  // back-to-back parallel regions of a forward pass do not pay a wake-up each.
  std::mutex mu_;
  std::condition_variable cv_work_, cv_done_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;  // read only after a claim
  int64_t job_n_ = 0, job_chunk_ = 0;
  std::atomic<uint64_t> word_{0};
  std::atomic<int64_t> done_{0};  // chunks of the current job finished
  std::atomic<bool> stop_{false};
};

}  // namespace dopt
