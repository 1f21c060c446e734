// Pooling on the GPU: the steps of cpp/kernels/pool_simd.cpp, one thread per
// output element forward and one per input element backward. The backward
// passes gather (each dx element sums the windows that cover it, in output
// order), so they need no atomics and give the CPU's sums exactly; max-pool
// backward first records each window's arg-max, with the CPU's tie rule.
#include <algorithm>

#include "ranvier_cuda/launch.cuh"
#include "ranvier_cuda/pool.h"

namespace ranvier::cuda {

namespace {

// Pool2d in the kernels' index type I.
template <class I>
struct PoolIndex {
  I h, w, c, pool_h, pool_w, stride_h, stride_w, pad_top, pad_left, out_h, out_w;

  explicit PoolIndex(const Pool2d& p)
      : h(p.h),
        w(p.w),
        c(p.c),
        pool_h(p.pool_h),
        pool_w(p.pool_w),
        stride_h(p.stride_h),
        stride_w(p.stride_w),
        pad_top(p.pad_top),
        pad_left(p.pad_left),
        out_h(p.out_h),
        out_w(p.out_w) {}
};

// The part of window (oh, ow) inside the image: rows [h0, h1), columns
// [w0, w1). (top, left) is its unclipped corner, so element (ih, iw) has the
// offset (ih - top) * pool_w + (iw - left) in row-major window order.
template <class I>
struct Window {
  I top, left, h0, h1, w0, w1;

  __device__ Window(const PoolIndex<I>& p, I oh, I ow)
      : top(oh * p.stride_h - p.pad_top),
        left(ow * p.stride_w - p.pad_left),
        h0(top > 0 ? top : 0),
        h1(top + p.pool_h < p.h ? top + p.pool_h : p.h),
        w0(left > 0 ? left : 0),
        w1(left + p.pool_w < p.w ? left + p.pool_w : p.w) {}

  __device__ I count() const { return (h1 - h0) * (w1 - w0); }
  __device__ std::int32_t offset(I ih, I iw, I pool_w) const {
    return static_cast<std::int32_t>((ih - top) * pool_w + (iw - left));
  }
};

enum class PoolOut { max, mean, argmax };

// x (N,H,W,C) -> per output element (N,HO,WO,C): the window's maximum into y
// (max), its mean over the elements inside the image into y (mean), or the
// offset of its first maximum in row-major window order into arg (argmax).
template <class I, PoolOut kOut>
__global__ void pool_forward_kernel(float* y, std::int32_t* arg, const float* x, PoolIndex<I> p, I count) {
  for (I e = grid_start<I>(); e < count; e += grid_stride<I>()) {
    const I ch = e % p.c, pixel = e / p.c, ow = pixel % p.out_w, image_row = pixel / p.out_w;
    const I oh = image_row % p.out_h, n = image_row / p.out_h;
    const Window<I> win(p, oh, ow);
    const float* image = x + n * p.h * p.w * p.c + ch;
    if constexpr (kOut == PoolOut::mean) {
      float sum = 0.0f;
      for (I ih = win.h0; ih < win.h1; ++ih)
        for (I iw = win.w0; iw < win.w1; ++iw) sum += image[(ih * p.w + iw) * p.c];
      y[e] = sum * (1.0f / static_cast<float>(win.count()));
    } else {
      float best = image[(win.h0 * p.w + win.w0) * p.c];
      std::int32_t best_at = win.offset(win.h0, win.w0, p.pool_w);
      for (I ih = win.h0; ih < win.h1; ++ih)
        for (I iw = win.w0; iw < win.w1; ++iw) {
          const float v = image[(ih * p.w + iw) * p.c];
          // Strictly greater (a tie keeps the earlier element), or the first
          // NaN (NumPy's rule: a NaN is the maximum); nothing replaces a NaN.
          if (v > best || (v != v && best == best)) {
            best = v;
            best_at = win.offset(ih, iw, p.pool_w);
          }
        }
      if constexpr (kOut == PoolOut::max) {
        y[e] = best;
      } else {
        arg[e] = best_at;
      }
    }
  }
}

// dx (N,H,W,C) from dy (N,HO,WO,C): each dx element sums, over the windows
// that cover it in output order, dy where it is the window's arg-max (kMax),
// or dy / (elements of the window inside the image).
template <class I, bool kMax>
__global__ void pool_backward_kernel(float* dx, const float* dy, const std::int32_t* arg, PoolIndex<I> p, I count) {
  for (I e = grid_start<I>(); e < count; e += grid_stride<I>()) {
    const I ch = e % p.c, pixel = e / p.c, iw = pixel % p.w, image_row = pixel / p.w;
    const I ih = image_row % p.h, n = image_row / p.h;
    // Windows [o * stride - pad, + pool) that contain ih (and iw).
    const I oh0 = floor_div<I>(ih + p.pad_top - p.pool_h, p.stride_h) + 1;
    const I oh1 = floor_div<I>(ih + p.pad_top, p.stride_h);
    const I ow0 = floor_div<I>(iw + p.pad_left - p.pool_w, p.stride_w) + 1;
    const I ow1 = floor_div<I>(iw + p.pad_left, p.stride_w);
    float sum = 0.0f;
    for (I oh = oh0 > 0 ? oh0 : 0; oh <= oh1 && oh < p.out_h; ++oh) {
      for (I ow = ow0 > 0 ? ow0 : 0; ow <= ow1 && ow < p.out_w; ++ow) {
        const Window<I> win(p, oh, ow);
        const I out = ((n * p.out_h + oh) * p.out_w + ow) * p.c + ch;
        if constexpr (kMax) {
          if (arg[out] == win.offset(ih, iw, p.pool_w)) sum += dy[out];
        } else {
          sum += dy[out] * (1.0f / static_cast<float>(win.count()));
        }
      }
    }
    dx[e] = sum;
  }
}

// Whether every index of the pooling fits the 32-bit kernels. (The binding
// has checked that the last windows start inside the image, so none of these
// products overflows.)
bool small(const Pool2d& p) {
  const std::int64_t largest =
      std::max({p.n * p.h * p.w * p.c, p.n * p.out_h * p.out_w * p.c, p.h + p.pool_h, p.w + p.pool_w,
                (p.out_h - 1) * p.stride_h + p.pool_h, (p.out_w - 1) * p.stride_w + p.pool_w, p.stride_h, p.stride_w});
  return largest < kInt32Bound;
}

// Calls launch(I{}, grid) for `count` elements, with 32-bit indices I when p
// allows them; nothing for none.
template <class Launch>
cudaError_t launch_over(const Pool2d& p, std::int64_t count, Launch launch) {
  if (count == 0) return cudaSuccess;
  return with_index_type(small(p), [&](auto index) {
    launch(index, grid_for(count));
    return cudaGetLastError();
  });
}

template <PoolOut kOut>
cudaError_t pool_forward(float* y, std::int32_t* arg, const float* x, const Pool2d& p, cudaStream_t stream) {
  const std::int64_t count = p.n * p.out_h * p.out_w * p.c;
  return launch_over(p, count, [&](auto index, unsigned grid) {
    using I = decltype(index);
    pool_forward_kernel<I, kOut><<<grid, kBlock, 0, stream>>>(y, arg, x, PoolIndex<I>(p), static_cast<I>(count));
  });
}

template <bool kMax>
cudaError_t pool_backward(float* dx, const float* dy, const std::int32_t* arg, const Pool2d& p, cudaStream_t stream) {
  const std::int64_t count = p.n * p.h * p.w * p.c;
  return launch_over(p, count, [&](auto index, unsigned grid) {
    using I = decltype(index);
    pool_backward_kernel<I, kMax><<<grid, kBlock, 0, stream>>>(dx, dy, arg, PoolIndex<I>(p), static_cast<I>(count));
  });
}

// The position in [0, positions) of the first maximum of channel c of the
// image at x (S,C): the first NaN where there is one (np.argmax's rule).
__device__ std::int64_t first_max(const float* x, std::int64_t positions, std::int64_t c, std::int64_t channel) {
  std::int64_t at = 0;
  float best = x[channel];
  for (std::int64_t s = 1; s < positions && best == best; ++s) {
    const float v = x[s * c + channel];
    if (v != v || v > best) best = v, at = s;
  }
  return at;
}

// One thread per (n, c): y = x at the first maximum (the NaN, if any).
__global__ void global_max_kernel(float* y, const float* x, std::int64_t n, std::int64_t positions, std::int64_t c) {
  for (std::int64_t i = grid_start<std::int64_t>(); i < n * c; i += grid_stride<std::int64_t>()) {
    const float* image = x + i / c * positions * c;
    y[i] = image[first_max(image, positions, c, i % c) * c + i % c];
  }
}

// One thread per (n, c): finds the first maximum, then writes the channel's
// column of dx (neighbouring threads write neighbouring channels).
__global__ void global_max_backward_kernel(float* dx, const float* dy, const float* x, std::int64_t n,
                                           std::int64_t positions, std::int64_t c) {
  for (std::int64_t i = grid_start<std::int64_t>(); i < n * c; i += grid_stride<std::int64_t>()) {
    const std::int64_t image = i / c * positions * c, channel = i % c;
    const std::int64_t at = first_max(x + image, positions, c, channel);
    for (std::int64_t s = 0; s < positions; ++s) dx[image + s * c + channel] = s == at ? dy[i] : 0.0f;
  }
}

}  // namespace

cudaError_t max_pool2d(float* y, const float* x, const Pool2d& p, cudaStream_t stream) {
  return pool_forward<PoolOut::max>(y, nullptr, x, p, stream);
}

cudaError_t avg_pool2d(float* y, const float* x, const Pool2d& p, cudaStream_t stream) {
  return pool_forward<PoolOut::mean>(y, nullptr, x, p, stream);
}

cudaError_t max_pool2d_backward(float* dx, const float* dy, const float* x, const Pool2d& p, std::int32_t* arg,
                                cudaStream_t stream) {
  const cudaError_t err = pool_forward<PoolOut::argmax>(nullptr, arg, x, p, stream);
  return err == cudaSuccess ? pool_backward<true>(dx, dy, arg, p, stream) : err;
}

cudaError_t avg_pool2d_backward(float* dx, const float* dy, const Pool2d& p, cudaStream_t stream) {
  return pool_backward<false>(dx, dy, nullptr, p, stream);
}

cudaError_t global_max_pool(float* y, const float* x, std::int64_t n, std::int64_t positions, std::int64_t c,
                            cudaStream_t stream) {
  if (n * c == 0) return cudaSuccess;
  global_max_kernel<<<grid_for(n * c), kBlock, 0, stream>>>(y, x, n, positions, c);
  return cudaGetLastError();
}

cudaError_t global_max_pool_backward(float* dx, const float* dy, const float* x, std::int64_t n, std::int64_t positions,
                                     std::int64_t c, cudaStream_t stream) {
  if (n * c == 0) return cudaSuccess;
  global_max_backward_kernel<<<grid_for(n * c), kBlock, 0, stream>>>(dx, dy, x, n, positions, c);
  return cudaGetLastError();
}

}  // namespace ranvier::cuda
