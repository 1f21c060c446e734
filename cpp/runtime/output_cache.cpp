// The cache of large output buffers behind take_output_buffer (see runtime.h).
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "ranvier/runtime.h"

namespace ranvier {

namespace {

constexpr std::size_t kPage = 4096;
// Buffers of at least kHugeMinBytes are whole 2 MB pages, which Linux backs
// with huge pages on request (as NumPy asks for its arrays of 4 MB and more):
// 512 times fewer page faults at the first write, and fewer TLB misses at
// every pass over the buffer.
constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kHugeMinBytes = std::size_t{4} << 20;
constexpr std::size_t kDefaultLimitMb = 256;

std::size_t round_up(std::size_t bytes, std::size_t unit) { return (bytes + unit - 1) / unit * unit; }

// What a buffer for `bytes` really holds: whole pages, huge ones when large.
std::size_t buffer_bytes(std::size_t bytes) {
  return bytes >= kHugeMinBytes ? round_up(bytes, kHugePage) : round_up(bytes, kPage);
}

void* allocate(std::size_t bytes) {
  const bool huge = bytes >= kHugeMinBytes;
  void* data = std::aligned_alloc(huge ? kHugePage : kPage, bytes);
  if (data == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (huge) madvise(data, bytes, MADV_HUGEPAGE);  // a hint: failure leaves small pages
#endif
  return data;
}

std::size_t default_limit() {
  const char* env = std::getenv("RANVIER_OUTPUT_CACHE_MB");
  if (env != nullptr && *env >= '0' && *env <= '9') {  // strtoull would wrap "-5" around
    char* end = nullptr;
    const unsigned long long mb = std::strtoull(env, &end, 10);
    if (end != env && *end == '\0') return static_cast<std::size_t>(mb) << 20;
  }
  return kDefaultLimitMb << 20;
}

struct FreeBuffer {
  void* data;
  std::size_t bytes;  // buffer_bytes()
};

class OutputCache {
 public:
  void* take(std::size_t bytes) {
    bytes = buffer_bytes(bytes);
    {
      std::lock_guard<std::mutex> lock(mu_);
      // The most recently given back of this size: the likeliest to be in cache.
      for (auto it = free_.rbegin(); it != free_.rend(); ++it) {
        if (it->bytes == bytes) {
          void* data = it->data;
          held_ -= bytes;
          free_.erase(std::next(it).base());
          return data;
        }
      }
    }
    return allocate(bytes);
  }

  void give_back(void* data, std::size_t bytes) {
    bytes = buffer_bytes(bytes);
    std::vector<void*> evicted;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (bytes <= limit_) {
        free_.push_back({data, bytes});
        held_ += bytes;
        evicted = evict_over_limit();
      } else {  // could never be kept: the smaller buffers stay
        evicted.push_back(data);
      }
    }
    for (void* p : evicted) std::free(p);  // outside the lock: returning memory to the OS is slow
  }

  void set_limit(std::size_t bytes) {
    std::vector<void*> evicted;
    {
      std::lock_guard<std::mutex> lock(mu_);
      limit_ = bytes;
      evicted = evict_over_limit();
    }
    for (void* p : evicted) std::free(p);
  }

  std::size_t limit() {
    std::lock_guard<std::mutex> lock(mu_);
    return limit_;
  }

  std::size_t held() {
    std::lock_guard<std::mutex> lock(mu_);
    return held_;
  }

 private:
  // Removes the oldest buffers until at most limit_ bytes are held; returns them (caller holds mu_).
  std::vector<void*> evict_over_limit() {
    std::vector<void*> evicted;
    std::size_t oldest = 0;
    while (held_ > limit_) {
      evicted.push_back(free_[oldest].data);
      held_ -= free_[oldest].bytes;
      ++oldest;
    }
    free_.erase(free_.begin(), free_.begin() + static_cast<std::ptrdiff_t>(oldest));
    return evicted;
  }

  std::mutex mu_;
  std::vector<FreeBuffer> free_;  // oldest first
  std::size_t held_ = 0;
  std::size_t limit_ = default_limit();
};

// Never destroyed: arrays that outlive static destruction at exit still give
// their buffers back to it.
OutputCache& cache() {
  static OutputCache* instance = new OutputCache();
  return *instance;
}

}  // namespace

void* take_output_buffer(std::size_t bytes) { return cache().take(bytes); }
void give_back_output_buffer(void* buffer, std::size_t bytes) { cache().give_back(buffer, bytes); }
void set_output_cache_limit(std::size_t bytes) { cache().set_limit(bytes); }
std::size_t output_cache_limit() { return cache().limit(); }
std::size_t output_cache_held() { return cache().held(); }

}  // namespace ranvier
