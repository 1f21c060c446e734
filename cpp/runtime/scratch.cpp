// Per-thread scratch buffers that grow on demand and are reused across calls.
#include <cstdlib>
#include <new>

#include "ranvier/runtime.h"

namespace ranvier {

namespace {

struct ScratchBuffer {
  float* data = nullptr;
  std::size_t capacity = 0;
  ~ScratchBuffer() { std::free(data); }
};

thread_local ScratchBuffer t_scratch[static_cast<int>(ScratchSlot::count)];

}  // namespace

float* scratch(ScratchSlot slot, std::size_t floats) {
  ScratchBuffer& buf = t_scratch[static_cast<int>(slot)];
  if (floats > buf.capacity) {
    // Grow by half again so a slowly growing sequence of sizes does not
    // reallocate every call; round to whole cache lines for aligned_alloc.
    std::size_t want = floats + floats / 2 + 16;
    std::size_t bytes = (want * sizeof(float) + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (p == nullptr) throw std::bad_alloc();
    std::free(buf.data);
    buf.data = static_cast<float*>(p);
    buf.capacity = bytes / sizeof(float);
  }
  return buf.data;
}

}  // namespace ranvier
