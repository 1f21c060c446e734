// Pooling dispatch: ISA choice and threading over image rows.
#include <algorithm>

#include "pool_kernels.h"
#include "ranvier/runtime.h"

namespace ranvier::cpu {

namespace {

// Window elements per thread below which waking another thread costs more than it saves.
constexpr std::int64_t kGrain = 1 << 15;

// Rows per chunk for rows that each touch `pixels` windows of the pool's size.
std::int64_t grain_rows(const Pool2d& p, std::int64_t pixels) {
  return std::max<std::int64_t>(1, kGrain / std::max<std::int64_t>(1, pixels * p.c * p.pool_h * p.pool_w));
}

// Windows that tile the image: each input element is in at most one window.
bool windows_tile(const Pool2d& p) {
  return p.stride_h == p.pool_h && p.stride_w == p.pool_w && p.out_h > 0 && p.out_w > 0;
}

}  // namespace

void max_pool2d(float* y, const float* x, const Pool2d& p) {
  const PoolKernels& k = RANVIER_ISA_TABLE(pool_kernels);
  parallel_for(p.n * p.out_h, grain_rows(p, p.out_w),
               [&](std::int64_t begin, std::int64_t end) { k.max_forward(y, x, p, begin, end); });
}

void avg_pool2d(float* y, const float* x, const Pool2d& p) {
  const PoolKernels& k = RANVIER_ISA_TABLE(pool_kernels);
  parallel_for(p.n * p.out_h, grain_rows(p, p.out_w),
               [&](std::int64_t begin, std::int64_t end) { k.avg_forward(y, x, p, begin, end); });
}

// Windows that tile the image take one pass. Otherwise two: find each
// window's arg-max (threads over output rows), then gather the gradients into
// dx (threads over input rows), so that overlapping windows never have two
// threads adding into the same dx element.
void max_pool2d_backward(float* dx, const float* dy, const float* x, const Pool2d& p) {
  const PoolKernels& k = RANVIER_ISA_TABLE(pool_kernels);
  if (windows_tile(p)) {
    parallel_for(p.n * p.out_h, grain_rows(p, p.out_w),
                 [&](std::int64_t begin, std::int64_t end) { k.max_backward_tiled(dx, dy, x, p, begin, end); });
    return;
  }
  // Slot 6 of the calling thread; the workers only read it.
  float* arg = scratch(ScratchSlot::pool_softmax_losses, static_cast<std::size_t>(p.n * p.out_h * p.out_w * p.c));
  parallel_for(p.n * p.out_h, grain_rows(p, p.out_w),
               [&](std::int64_t begin, std::int64_t end) { k.argmax(arg, x, p, begin, end); });
  parallel_for(p.n * p.h, grain_rows(p, p.w),
               [&](std::int64_t begin, std::int64_t end) { k.max_backward(dx, dy, arg, p, begin, end); });
}

void avg_pool2d_backward(float* dx, const float* dy, const Pool2d& p) {
  const PoolKernels& k = RANVIER_ISA_TABLE(pool_kernels);
  if (windows_tile(p)) {
    parallel_for(p.n * p.out_h, grain_rows(p, p.out_w),
                 [&](std::int64_t begin, std::int64_t end) { k.avg_backward_tiled(dx, dy, p, begin, end); });
    return;
  }
  parallel_for(p.n * p.h, grain_rows(p, p.w),
               [&](std::int64_t begin, std::int64_t end) { k.avg_backward(dx, dy, p, begin, end); });
}

namespace {

// Channels per work item of the global pooling: items split images and
// channels, so that one large image still uses every thread.
constexpr std::int64_t kGlobalChannels = 256;

// Runs body(n, c0, c1) over images and channel chunks on the threads.
template <class Body>
void for_image_channels(std::int64_t n, std::int64_t positions, std::int64_t c, const Body& body) {
  const std::int64_t chunks = std::max<std::int64_t>(1, (c + kGlobalChannels - 1) / kGlobalChannels);
  const std::int64_t grain =
      std::max<std::int64_t>(1, kGrain / std::max<std::int64_t>(1, positions * std::min(c, kGlobalChannels)));
  parallel_for(n * chunks, grain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t image = item / chunks, c0 = item % chunks * kGlobalChannels;
      body(image, c0, std::min(c, c0 + kGlobalChannels));
    }
  });
}

}  // namespace

void global_max_pool(float* y, const float* x, std::int64_t n, std::int64_t positions, std::int64_t c) {
  const PoolKernels& k = RANVIER_ISA_TABLE(pool_kernels);
  for_image_channels(n, positions, c, [&](std::int64_t image, std::int64_t c0, std::int64_t c1) {
    k.global_max(y + image * c, x + image * positions * c, positions, c, c0, c1);
  });
}

// Two passes per chunk: its maxima, then each dy to the first element equal to
// its maximum (or NaN), with the running "not yet claimed" gradient in scratch.
void global_max_pool_backward(float* dx, const float* dy, const float* x, std::int64_t n, std::int64_t positions,
                              std::int64_t c) {
  const PoolKernels& k = RANVIER_ISA_TABLE(pool_kernels);
  float* best = scratch(ScratchSlot::pool_softmax_losses, static_cast<std::size_t>(2 * n * c));
  float* left = best + n * c;
  for_image_channels(n, positions, c, [&](std::int64_t image, std::int64_t c0, std::int64_t c1) {
    const float* x_image = x + image * positions * c;
    k.global_max(best + image * c, x_image, positions, c, c0, c1);
    k.global_max_backward(dx + image * positions * c, dy + image * c, x_image, best + image * c, left + image * c,
                          positions, c, c0, c1);
  });
}

}  // namespace ranvier::cpu
