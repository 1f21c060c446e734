// The thread pool behind parallel_for.
//
// Workers wait for a new "generation" of work, spinning briefly first so that
// back-to-back kernels do not pay a futex wake-up each. Chunks are claimed with
// one compare-and-swap on a word holding (generation, chunk count, next chunk):
// a worker that still holds an old generation can never claim a chunk of a
// newer job, nor read the newer job's chunk count as its own (which let a late
// worker run a chunk of the new job twice once a job had more chunks than the
// one before it).
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "ranvier/runtime.h"

namespace ranvier {

namespace {

using Fn = std::function<void(std::int64_t, std::int64_t)>;

thread_local bool t_inside_pool = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

int default_threads() {
  const char* env = std::getenv("OMP_NUM_THREADS");
  if (env != nullptr) {
    int n = std::atoi(env);  // "4,2" (nested lists) reads as 4, like OpenMP's outer level
    if (n > 0) return n;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

class ThreadPool {
 public:
  explicit ThreadPool(int threads) : threads_(threads) {
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
  }

  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }

  int threads() const { return threads_; }

  // Most chunks one job may have (the ticket's chunk fields are 20 bits).
  static constexpr std::int64_t kMaxChunks = (std::int64_t{1} << 20) - 1;

  // Runs `chunks` (<= kMaxChunks) calls of the job; returns when all have finished.
  void run(std::int64_t n, std::int64_t chunks, const Fn& fn) {
    fn_ = &fn;
    n_ = n;
    pending_.store(chunks, std::memory_order_relaxed);
    const std::uint32_t gen = (generation(ticket_.load(std::memory_order_relaxed)) + 1) & kGenerationMask;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ticket_.store((std::uint64_t{gen} << kGenerationShift) | (static_cast<std::uint64_t>(chunks) << kChunkBits),
                    std::memory_order_release);
    }
    wake_.notify_all();
    t_inside_pool = true;
    work_on(gen);
    t_inside_pool = false;
    for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
      if (spin < 20000) {
        cpu_relax();
      } else {
        std::unique_lock<std::mutex> lock(done_mu_);
        done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
      }
    }
  }

 private:
  // ticket_: generation (24 bits) | chunk count (20 bits) | next chunk (20 bits).
  static constexpr int kChunkBits = 20;
  static constexpr int kGenerationShift = 2 * kChunkBits;
  static constexpr std::uint64_t kChunkMask = (std::uint64_t{1} << kChunkBits) - 1;
  static constexpr std::uint32_t kGenerationMask = (1u << 24) - 1;
  static std::uint32_t generation(std::uint64_t t) { return static_cast<std::uint32_t>(t >> kGenerationShift); }

  // Claims the next chunk of generation `gen`; its index and the job's chunk count.
  bool claim(std::uint32_t gen, std::int64_t* chunk, std::int64_t* chunks) {
    std::uint64_t t = ticket_.load(std::memory_order_acquire);
    for (;;) {
      if (generation(t) != gen) return false;
      const std::int64_t c = static_cast<std::int64_t>(t & kChunkMask);
      const std::int64_t count = static_cast<std::int64_t>((t >> kChunkBits) & kChunkMask);
      if (c >= count) return false;
      if (ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) {
        *chunk = c;
        *chunks = count;
        return true;
      }
    }
  }

  void work_on(std::uint32_t gen) {
    std::int64_t c, chunks;
    while (claim(gen, &c, &chunks)) {
      std::int64_t begin = n_ * c / chunks, end = n_ * (c + 1) / chunks;
      (*fn_)(begin, end);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(done_mu_);
        done_.notify_all();
      }
    }
  }

  void worker_loop() {
    t_inside_pool = true;
    std::uint32_t seen = 0;
    for (;;) {
      auto current = [this] { return generation(ticket_.load(std::memory_order_acquire)); };
      for (int spin = 0; spin < 20000 && current() == seen; ++spin) cpu_relax();
      if (current() == seen) {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return stop_ || current() != seen; });
        if (stop_) return;
      }
      seen = current();
      work_on(seen);
    }
  }

  const int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::mutex done_mu_;
  std::condition_variable done_;
  const Fn* fn_ = nullptr;
  std::int64_t n_ = 0;
  std::atomic<std::int64_t> pending_{0};
  std::atomic<std::uint64_t> ticket_{0};
};

// Only one parallel region runs at a time; a second Python thread calling in
// meanwhile runs its kernel serially instead of waiting.
std::mutex g_pool_mu;
std::unique_ptr<ThreadPool> g_pool;
std::atomic<int> g_threads{0};

int configured_threads() {
  int n = g_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    int d = default_threads();
    g_threads.compare_exchange_strong(n, d);
    n = g_threads.load(std::memory_order_relaxed);
  }
  return n;
}

}  // namespace

// A forked child has none of the parent's worker threads: forget the pool
// (without joining threads that do not exist there) and build a new one lazily.
static void forget_pool_after_fork() {
  new (&g_pool_mu) std::mutex();
  g_pool.release();
}

[[maybe_unused]] const int g_atfork_registered = pthread_atfork(nullptr, nullptr, forget_pool_after_fork);

int num_threads() { return configured_threads(); }

void set_num_threads(int n) {
  std::lock_guard<std::mutex> lock(g_pool_mu);
  g_threads.store(std::max(1, n), std::memory_order_relaxed);
  g_pool.reset();
}

namespace {

// Runs fn over [0, n) in `chunks` chunks on the pool, or inline where the pool
// cannot be used (one chunk, a nested call, another region running).
void run_chunks(std::int64_t n, std::int64_t chunks, const Fn& fn) {
  if (chunks <= 1 || t_inside_pool) {
    fn(0, n);
    return;
  }
  std::unique_lock<std::mutex> lock(g_pool_mu, std::try_to_lock);
  if (!lock.owns_lock()) {
    fn(0, n);
    return;
  }
  int threads = configured_threads();
  if (!g_pool || g_pool->threads() != threads) g_pool = std::make_unique<ThreadPool>(threads);
  g_pool->run(n, std::min(chunks, ThreadPool::kMaxChunks), fn);
}

}  // namespace

void parallel_for(std::int64_t n, std::int64_t grain, const Fn& fn) {
  if (n <= 0) return;
  grain = std::max<std::int64_t>(1, grain);
  run_chunks(n, std::min<std::int64_t>(configured_threads(), (n + grain - 1) / grain), fn);
}

void parallel_tasks(std::int64_t tasks, std::int64_t grain, const std::function<void(std::int64_t)>& task) {
  if (tasks <= 0) return;
  const bool threaded = configured_threads() > 1 && tasks > std::max<std::int64_t>(1, grain);
  const std::int64_t chunks = threaded ? tasks : 1;
  run_chunks(tasks, chunks, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t t = begin; t < end; ++t) task(t);
  });
}

}  // namespace ranvier
