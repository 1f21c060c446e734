// Softmax, log-softmax and softmax cross-entropy rows on the GPU: the
// formulas of cpp/kernels/softmax_simd.cpp, one thread group per row (see
// row_reduce.cuh). Every row is shifted by its maximum first, so exp never
// overflows and any finite logits (±1e4 included) give finite results; a NaN
// in a row reaches every result of the row through the sum of exponentials.
#include <math_constants.h>

#include "ranvier_cuda/losses.h"
#include "ranvier_cuda/row_reduce.cuh"
#include "ranvier_cuda/softmax.h"

namespace ranvier::cuda {

namespace {

// The maximum of row x (n), and sum_j e^(x_j - max), over the group.
template <int kGroup>
__device__ float row_max(const float* x, std::int64_t n) {
  using Group = RowGroup<kGroup>;
  float m = -CUDART_INF_F;
  for (std::int64_t i = Group::lane(); i < n; i += kGroup) m = fmaxf(m, x[i]);
  return Group::reduce(m, MaxOp{});
}

template <int kGroup>
__device__ float sum_exp(const float* x, float m, std::int64_t n) {
  using Group = RowGroup<kGroup>;
  float s = 0.0f;
  for (std::int64_t i = Group::lane(); i < n; i += kGroup) s += expf(x[i] - m);
  return Group::reduce(s, SumOp{});
}

// x (rows, n) -> y (rows, n): softmax, or log-softmax when kLog. Each thread
// writes only the elements it read, so y may alias x.
template <int kGroup, bool kLog>
__global__ void __launch_bounds__(kRowBlock)
    softmax_kernel(float* y, const float* x, std::int64_t rows, std::int64_t n) {
  using Group = RowGroup<kGroup>;
  for (std::int64_t r = Group::first_row(); r < rows; r += Group::row_step()) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    const float m = row_max<kGroup>(xr, n);
    const float s = sum_exp<kGroup>(xr, m, n);
    if constexpr (kLog) {
      const float lse = m + logf(s);
      for (std::int64_t i = Group::lane(); i < n; i += kGroup) yr[i] = xr[i] - lse;
    } else {
      const float inv = 1.0f / s;
      for (std::int64_t i = Group::lane(); i < n; i += kGroup) yr[i] = expf(xr[i] - m) * inv;
    }
  }
}

// dy, y (rows, n) -> dx (rows, n): y (dy - sum(dy y)) for softmax, dy -
// exp(y) sum(dy) for log-softmax (kLog).
template <int kGroup, bool kLog>
__global__ void __launch_bounds__(kRowBlock)
    softmax_backward_kernel(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n) {
  using Group = RowGroup<kGroup>;
  for (std::int64_t r = Group::first_row(); r < rows; r += Group::row_step()) {
    const float* dyr = dy + r * n;
    const float* yr = y + r * n;
    float* dxr = dx + r * n;
    float acc = 0.0f;
    for (std::int64_t i = Group::lane(); i < n; i += kGroup) acc = kLog ? acc + dyr[i] : fmaf(dyr[i], yr[i], acc);
    const float d = Group::reduce(acc, SumOp{});
    for (std::int64_t i = Group::lane(); i < n; i += kGroup)
      dxr[i] = kLog ? fmaf(-expf(yr[i]), d, dyr[i]) : yr[i] * (dyr[i] - d);
  }
}

// The label of row r when it is a valid class index; otherwise -1 after
// recording the row in bad_label (the smallest such row wins).
__device__ std::int64_t checked_label(const std::int64_t* index, std::int64_t r, std::int64_t c,
                                      unsigned long long* bad_label, bool leader) {
  const std::int64_t label = index[r];
  if (label >= 0 && label < c) return label;
  if (leader) atomicMin(bad_label, static_cast<unsigned long long>(r));
  return -1;
}

// logits (rows, c), labels -> loss (rows,): lse - sum_j t_j x_j, written as
// log(s) + (m - x_label) for a class index, and as sum_j t_j (m - x_j) +
// log(s) sum_j t_j for probabilities (s = sum_j e^(x_j - m)), so that no two
// numbers the size of the logits cancel. A bad label gives NaN.
template <int kGroup>
__global__ void __launch_bounds__(kRowBlock)
    cross_entropy_kernel(float* loss, const float* logits, Labels labels, std::int64_t rows, std::int64_t c,
                         unsigned long long* bad_label) {
  using Group = RowGroup<kGroup>;
  const bool leader = Group::lane() == 0;
  for (std::int64_t r = Group::first_row(); r < rows; r += Group::row_step()) {
    const float* xr = logits + r * c;
    const float m = row_max<kGroup>(xr, c);
    if (labels.index != nullptr) {
      const float s = sum_exp<kGroup>(xr, m, c);
      const std::int64_t label = checked_label(labels.index, r, c, bad_label, leader);
      if (leader) loss[r] = label < 0 ? CUDART_NAN_F : logf(s) + (m - xr[label]);
      continue;
    }
    const float* t = labels.prob + r * c;
    float s = 0.0f, t_sum = 0.0f, t_gap = 0.0f;
    for (std::int64_t i = Group::lane(); i < c; i += kGroup) {
      s += expf(xr[i] - m);
      t_sum += t[i];
      t_gap = fmaf(t[i], m - xr[i], t_gap);
    }
    s = Group::reduce(s, SumOp{});
    t_sum = Group::reduce(t_sum, SumOp{});
    t_gap = Group::reduce(t_gap, SumOp{});
    if (leader) loss[r] = t_gap + logf(s) * t_sum;
  }
}

// -> dlogits (rows, c) = (softmax(x) sum_j t_j - t) * g, g = scale * dloss_r
// (scale when dloss is null). A bad label gives a NaN row.
template <int kGroup>
__global__ void __launch_bounds__(kRowBlock)
    cross_entropy_backward_kernel(float* dlogits, const float* logits, Labels labels, const float* dloss, float scale,
                                  std::int64_t rows, std::int64_t c, unsigned long long* bad_label) {
  using Group = RowGroup<kGroup>;
  for (std::int64_t r = Group::first_row(); r < rows; r += Group::row_step()) {
    const float* xr = logits + r * c;
    float* dr = dlogits + r * c;
    const float g = dloss != nullptr ? scale * dloss[r] : scale;
    const float m = row_max<kGroup>(xr, c);
    const float s = sum_exp<kGroup>(xr, m, c);
    if (labels.index != nullptr) {
      const std::int64_t label = checked_label(labels.index, r, c, bad_label, Group::lane() == 0);
      const float p = label < 0 ? CUDART_NAN_F : g / s;
      for (std::int64_t i = Group::lane(); i < c; i += kGroup) dr[i] = expf(xr[i] - m) * p - (i == label ? g : 0.0f);
      continue;
    }
    const float* t = labels.prob + r * c;
    float t_sum = 0.0f;
    for (std::int64_t i = Group::lane(); i < c; i += kGroup) t_sum += t[i];
    const float p = g * Group::reduce(t_sum, SumOp{}) / s;
    for (std::int64_t i = Group::lane(); i < c; i += kGroup) dr[i] = fmaf(-t[i], g, expf(xr[i] - m) * p);
  }
}

template <bool kLog>
cudaError_t rows_forward(float* y, const float* x, std::int64_t rows, std::int64_t n, cudaStream_t stream) {
  return launch_row_groups(rows, n, [&](auto group, unsigned blocks) {
    softmax_kernel<decltype(group)::value, kLog><<<blocks, kRowBlock, 0, stream>>>(y, x, rows, n);
    return cudaGetLastError();
  });
}

template <bool kLog>
cudaError_t rows_backward(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n,
                          cudaStream_t stream) {
  return launch_row_groups(rows, n, [&](auto group, unsigned blocks) {
    softmax_backward_kernel<decltype(group)::value, kLog><<<blocks, kRowBlock, 0, stream>>>(dx, dy, y, rows, n);
    return cudaGetLastError();
  });
}

}  // namespace

cudaError_t softmax(float* y, const float* x, std::int64_t rows, std::int64_t n, cudaStream_t stream) {
  return rows_forward<false>(y, x, rows, n, stream);
}

cudaError_t log_softmax(float* y, const float* x, std::int64_t rows, std::int64_t n, cudaStream_t stream) {
  return rows_forward<true>(y, x, rows, n, stream);
}

cudaError_t softmax_backward(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n,
                             cudaStream_t stream) {
  return rows_backward<false>(dx, dy, y, rows, n, stream);
}

cudaError_t log_softmax_backward(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n,
                                 cudaStream_t stream) {
  return rows_backward<true>(dx, dy, y, rows, n, stream);
}

cudaError_t softmax_cross_entropy(float* loss, const float* logits, Labels labels, std::int64_t n, std::int64_t c,
                                  Reduction reduction, float* row_losses, unsigned long long* bad_label,
                                  cudaStream_t stream) {
  cudaError_t err = cudaMemsetAsync(bad_label, 0xff, sizeof(*bad_label), stream);
  if (err != cudaSuccess) return err;
  float* out = reduction == Reduction::none ? loss : row_losses;
  err = launch_row_groups(n, c, [&](auto group, unsigned blocks) {
    cross_entropy_kernel<decltype(group)::value>
        <<<blocks, kRowBlock, 0, stream>>>(out, logits, labels, n, c, bad_label);
    return cudaGetLastError();
  });
  if (err != cudaSuccess) return err;
  return reduce_losses(loss, row_losses, n, reduction, stream);
}

cudaError_t softmax_cross_entropy_backward(float* dlogits, const float* logits, Labels labels, const float* dloss,
                                           float scale, std::int64_t n, std::int64_t c, unsigned long long* bad_label,
                                           cudaStream_t stream) {
  const cudaError_t err = cudaMemsetAsync(bad_label, 0xff, sizeof(*bad_label), stream);
  if (err != cudaSuccess) return err;
  return launch_row_groups(n, c, [&](auto group, unsigned blocks) {
    cross_entropy_backward_kernel<decltype(group)::value>
        <<<blocks, kRowBlock, 0, stream>>>(dlogits, logits, labels, dloss, scale, n, c, bad_label);
    return cudaGetLastError();
  });
}

cudaError_t find_bad_label(const unsigned long long* bad_label, const std::int64_t* labels, bool* found,
                           std::int64_t* row, std::int64_t* label, cudaStream_t stream) {
  unsigned long long first = kNoBadLabel;
  cudaError_t err = cudaMemcpyAsync(&first, bad_label, sizeof(first), cudaMemcpyDeviceToHost, stream);
  if (err == cudaSuccess) err = cudaStreamSynchronize(stream);
  if (err != cudaSuccess) return err;
  *found = first != kNoBadLabel;
  if (!*found) return cudaSuccess;
  *row = static_cast<std::int64_t>(first);
  err = cudaMemcpyAsync(label, labels + first, sizeof(*label), cudaMemcpyDeviceToHost, stream);
  return err == cudaSuccess ? cudaStreamSynchronize(stream) : err;
}

}  // namespace ranvier::cuda
