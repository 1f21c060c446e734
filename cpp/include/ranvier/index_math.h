// Integer helpers shared by the CPU and CUDA kernels.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define RANVIER_HOST_DEVICE __host__ __device__
#else
#define RANVIER_HOST_DEVICE
#endif

namespace ranvier {

// a / b rounded up, for a >= 0 and b > 0.
RANVIER_HOST_DEVICE constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace ranvier
