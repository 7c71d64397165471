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
  void WorkerLoop(int index);

  int num_threads_;
  std::vector<std::thread> workers_;
  // Workers spin briefly on `generation_` before sleeping on the condition variable, so the
  // back-to-back parallel regions of a forward pass do not pay a wake-up each.
  std::mutex mu_;
  std::condition_variable cv_work_, cv_done_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t job_n_ = 0, job_chunk_ = 0, job_chunks_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace dopt
