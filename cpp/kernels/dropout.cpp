// Inverted dropout: per-call constants, ISA choice and threading. The mask
// comes from a counter-based hash of (seed, element index) (dropout_simd.cpp),
// so any thread can draw any element's bits without shared state.
#include <algorithm>

#include "dropout_kernels.h"
#include "ranvier/dropout.h"
#include "ranvier/runtime.h"

namespace ranvier::cpu {

namespace {

// Elements per thread below which waking another thread costs more than it saves.
constexpr std::int64_t kGrain = 1 << 15;

float keep_scale(double rate) { return static_cast<float>(1.0 / (1.0 - rate)); }

}  // namespace

void dropout(float* y, std::uint8_t* mask, const float* x, std::int64_t n, double rate, std::uint64_t seed) {
  const DropoutKernels& k = RANVIER_ISA_TABLE(dropout_kernels);
  const auto threshold = static_cast<std::uint32_t>(rate * 4294967296.0);
  const float scale = keep_scale(rate);
  // Threads take whole pairs: one hash serves elements 2p and 2p + 1.
  parallel_for((n + 1) / 2, kGrain / 2, [&](std::int64_t p0, std::int64_t p1) {
    k.forward(y, mask, x, 2 * p0, std::min(2 * p1, n), seed, threshold, scale);
  });
}

void dropout_backward(float* dx, const float* dy, const std::uint8_t* mask, std::int64_t n, double rate) {
  const DropoutKernels& k = RANVIER_ISA_TABLE(dropout_kernels);
  const float scale = keep_scale(rate);
  parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    k.backward(dx + begin, dy + begin, mask + begin, end - begin, scale);
  });
}

}  // namespace ranvier::cpu
