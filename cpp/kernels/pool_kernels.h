// Per-ISA entry points of the pooling family (see pool_simd.cpp). Each works
// on a range [begin, end) of rows so that pool.cpp can split the work among
// threads: output rows n * HO + oh for the forward passes and the arg-max,
// input rows n * H + ih for the backward passes (each thread then owns the dx
// rows it writes, even where windows overlap).
#pragma once

#include <cstdint>

#include "isa_table.h"
#include "ranvier/pool.h"

namespace ranvier::cpu {

struct PoolKernels {
  void (*max_forward)(float* y, const float* x, const Pool2d& p, std::int64_t begin, std::int64_t end);
  void (*avg_forward)(float* y, const float* x, const Pool2d& p, std::int64_t begin, std::int64_t end);
  // arg (N,HO,WO,C): for each window and channel, the row-major offset in the
  // window (kh * pool_w + kw) of its first maximum, as a float (exact: < 2^24).
  void (*argmax)(float* arg, const float* x, const Pool2d& p, std::int64_t begin, std::int64_t end);
  void (*max_backward)(float* dx, const float* dy, const float* arg, const Pool2d& p, std::int64_t begin,
                       std::int64_t end);
  void (*avg_backward)(float* dx, const float* dy, const Pool2d& p, std::int64_t begin, std::int64_t end);
  // The backward passes when windows tile the image (stride == pool size, at
  // least one output): one pass over output rows [begin, end), which write
  // every dx element of their windows' input rows.
  void (*max_backward_tiled)(float* dx, const float* dy, const float* x, const Pool2d& p, std::int64_t begin,
                             std::int64_t end);
  void (*avg_backward_tiled)(float* dx, const float* dy, const Pool2d& p, std::int64_t begin, std::int64_t end);
  // Global max pooling of one image x (S,C) at channels [c0, c1): best (C,)
  // gets the maxima; the backward writes dx (S,C) from dy (C,), best (the
  // maxima) and `left` (C,) as its running scratch.
  void (*global_max)(float* best, const float* x, std::int64_t positions, std::int64_t c, std::int64_t c0,
                     std::int64_t c1);
  void (*global_max_backward)(float* dx, const float* dy, const float* x, const float* best, float* left,
                              std::int64_t positions, std::int64_t c, std::int64_t c0, std::int64_t c1);
};

RANVIER_DECLARE_ISA_TABLE(PoolKernels, pool_kernels)

}  // namespace ranvier::cpu
