// Losses on the GPU: the formulas of cpp/kernels/losses.cpp and
// losses_simd.cpp. Forward: one thread group per sample (row) sums its
// elements' losses (see row_reduce.cuh), then reduce_losses adds the rows in
// double, in a fixed order. Backward: one thread per element.
#include <math_constants.h>

#include "ranvier_cuda/launch.cuh"
#include "ranvier_cuda/losses.h"
#include "ranvier_cuda/row_reduce.cuh"

namespace ranvier::cuda {

namespace {

// Probabilities are clipped to [eps, 1 - eps] before the log (Keras).
constexpr float kEps = cpu::kProbabilityEpsilon;

// clamp(v, lo, hi) that keeps a NaN (fminf/fmaxf would drop it).
__device__ __forceinline__ float clip(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

// The squared error of one element.
struct SquaredError {
  __device__ float operator()(float p, float t) const {
    const float e = p - t;
    return e * e;
  }
};

// The binary cross-entropy of one element: from logits
// max(x,0) - x t + log1p(exp(-|x|)), stable for any x; from probabilities
// -(t log p' + (1-t) log q'), p' = clip(p), q' = clip(1 - p) (clipping 1 - p
// separately keeps log(1 - p) at log(eps), not at the log of 1 - float(1 - eps)).
struct BinaryCrossEntropy {
  bool from_logits;
  __device__ float operator()(float x, float t) const {
    if (from_logits) return (x > 0.0f ? x : 0.0f) - x * t + log1pf(expf(-fabsf(x)));
    const float p = clip(x, kEps, 1.0f - kEps), q = clip(1.0f - x, kEps, 1.0f - kEps);
    return -(t * logf(p) + (1.0f - t) * logf(q));
  }
};

// pred, target (rows, d) -> loss (rows,): the mean of element_loss over each row.
template <int kGroup, class ElementLoss>
__global__ void __launch_bounds__(kRowBlock)
    row_loss_kernel(float* loss, const float* pred, const float* target, std::int64_t rows, std::int64_t d,
                    ElementLoss element_loss) {
  using Group = RowGroup<kGroup>;
  for (std::int64_t r = Group::first_row(); r < rows; r += Group::row_step()) {
    const float* p = pred + r * d;
    const float* t = target + r * d;
    float sum = 0.0f;
    for (std::int64_t i = Group::lane(); i < d; i += kGroup) sum += element_loss(p[i], t[i]);
    sum = Group::reduce(sum, SumOp{});
    if (Group::lane() == 0) loss[r] = sum / static_cast<float>(d);
  }
}

// row_losses (rows,) -> loss[0]: their sum (or mean) in double; one block.
__global__ void __launch_bounds__(kRowBlock)
    reduce_losses_kernel(float* loss, const float* row_losses, std::int64_t rows, bool mean) {
  double total = 0.0;
  for (std::int64_t r = threadIdx.x; r < rows; r += kRowBlock) total += row_losses[r];
  total = RowGroup<kRowBlock>::reduce(total, SumOp{});
  if (threadIdx.x == 0) {
    if (mean) total = rows > 0 ? total / static_cast<double>(rows) : CUDART_NAN;
    loss[0] = static_cast<float>(total);
  }
}

// d loss / d pred of one element, before the row's factor.
struct SquaredErrorGrad {
  __device__ float operator()(float p, float t) const { return p - t; }
};

// d bce / d pred: sigmoid(x) - t from logits; from probabilities
// (p - t) / (p (1 - p)) where eps < p < 1 - eps, else 0 (the clip holds p
// there), and NaN for a NaN p.
struct BinaryCrossEntropyGrad {
  bool from_logits;
  __device__ float operator()(float p, float t) const {
    if (from_logits) return 1.0f / (1.0f + expf(-p)) - t;
    if (p != p) return p;
    return p > kEps && p < 1.0f - kEps ? (p - t) / (p * (1.0f - p)) : 0.0f;
  }
};

// dpred[i] = grad(pred[i], target[i]) * (row_factor * scale * dloss_r / d), r = i / d,
// dloss (rows,) or null (then dloss_r = 1).
template <class Grad>
__global__ void loss_backward_kernel(float* dpred, const float* pred, const float* target, const float* dloss,
                                     float scale, float row_factor, std::int64_t count, std::int64_t d, Grad grad) {
  for (std::int64_t i = grid_start<std::int64_t>(); i < count; i += grid_stride<std::int64_t>()) {
    const float g = dloss != nullptr ? scale * dloss[i / d] : scale;
    dpred[i] = grad(pred[i], target[i]) * (row_factor * g / static_cast<float>(d));
  }
}

template <class ElementLoss>
cudaError_t row_losses_then_reduce(float* loss, const float* pred, const float* target, std::int64_t n, std::int64_t d,
                                   Reduction reduction, float* row_losses, ElementLoss element_loss,
                                   cudaStream_t stream) {
  float* out = reduction == Reduction::none ? loss : row_losses;
  const cudaError_t err = launch_row_groups(n, d, [&](auto group, unsigned blocks) {
    row_loss_kernel<decltype(group)::value><<<blocks, kRowBlock, 0, stream>>>(out, pred, target, n, d, element_loss);
    return cudaGetLastError();
  });
  return err == cudaSuccess ? reduce_losses(loss, row_losses, n, reduction, stream) : err;
}

template <class Grad>
cudaError_t loss_backward(float* dpred, const float* pred, const float* target, const float* dloss, float scale,
                          float row_factor, std::int64_t n, std::int64_t d, Grad grad, cudaStream_t stream) {
  const std::int64_t count = n * d;
  if (count == 0) return cudaSuccess;
  loss_backward_kernel<<<grid_for(count), kBlock, 0, stream>>>(dpred, pred, target, dloss, scale, row_factor, count, d,
                                                               grad);
  return cudaGetLastError();
}

}  // namespace

cudaError_t reduce_losses(float* loss, const float* row_losses, std::int64_t rows, Reduction reduction,
                          cudaStream_t stream) {
  if (reduction == Reduction::none) return cudaSuccess;
  reduce_losses_kernel<<<1, kRowBlock, 0, stream>>>(loss, row_losses, rows, reduction == Reduction::mean);
  return cudaGetLastError();
}

cudaError_t mse(float* loss, const float* pred, const float* target, std::int64_t n, std::int64_t d,
                Reduction reduction, float* row_losses, cudaStream_t stream) {
  return row_losses_then_reduce(loss, pred, target, n, d, reduction, row_losses, SquaredError{}, stream);
}

cudaError_t mse_backward(float* dpred, const float* pred, const float* target, const float* dloss, float scale,
                         std::int64_t n, std::int64_t d, cudaStream_t stream) {
  return loss_backward(dpred, pred, target, dloss, scale, 2.0f, n, d, SquaredErrorGrad{}, stream);
}

cudaError_t binary_cross_entropy(float* loss, const float* pred, const float* target, std::int64_t n, std::int64_t d,
                                 bool from_logits, Reduction reduction, float* row_losses, cudaStream_t stream) {
  return row_losses_then_reduce(loss, pred, target, n, d, reduction, row_losses, BinaryCrossEntropy{from_logits},
                                stream);
}

cudaError_t binary_cross_entropy_backward(float* dpred, const float* pred, const float* target, const float* dloss,
                                          float scale, std::int64_t n, std::int64_t d, bool from_logits,
                                          cudaStream_t stream) {
  return loss_backward(dpred, pred, target, dloss, scale, 1.0f, n, d, BinaryCrossEntropyGrad{from_logits}, stream);
}

}  // namespace ranvier::cuda
