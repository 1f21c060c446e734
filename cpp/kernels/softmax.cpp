// Softmax family dispatch: ISA choice and threading over rows.
#include "loss_reduction.h"
#include "ranvier/runtime.h"
#include "softmax_kernels.h"

namespace ranvier::cpu {

namespace {

// The labels of rows [begin, ...) of a (N, c) problem.
Labels labels_from(Labels labels, std::int64_t begin, std::int64_t c) {
  if (labels.index != nullptr) labels.index += begin;
  if (labels.prob != nullptr) labels.prob += begin * c;
  return labels;
}

}  // namespace

void softmax(float* y, const float* x, std::int64_t rows, std::int64_t n) {
  const SoftmaxKernels& k = RANVIER_ISA_TABLE(softmax_kernels);
  parallel_for(rows, row_grain(n),
               [&](std::int64_t begin, std::int64_t end) { k.softmax(y + begin * n, x + begin * n, end - begin, n); });
}

void log_softmax(float* y, const float* x, std::int64_t rows, std::int64_t n) {
  const SoftmaxKernels& k = RANVIER_ISA_TABLE(softmax_kernels);
  parallel_for(rows, row_grain(n), [&](std::int64_t begin, std::int64_t end) {
    k.log_softmax(y + begin * n, x + begin * n, end - begin, n);
  });
}

void softmax_backward(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n) {
  const SoftmaxKernels& k = RANVIER_ISA_TABLE(softmax_kernels);
  parallel_for(rows, row_grain(n), [&](std::int64_t begin, std::int64_t end) {
    k.softmax_backward(dx + begin * n, dy + begin * n, y + begin * n, end - begin, n);
  });
}

void log_softmax_backward(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n) {
  const SoftmaxKernels& k = RANVIER_ISA_TABLE(softmax_kernels);
  parallel_for(rows, row_grain(n), [&](std::int64_t begin, std::int64_t end) {
    k.log_softmax_backward(dx + begin * n, dy + begin * n, y + begin * n, end - begin, n);
  });
}

void softmax_cross_entropy(float* loss, const float* logits, Labels labels, std::int64_t n, std::int64_t c,
                           Reduction reduction) {
  const SoftmaxKernels& k = RANVIER_ISA_TABLE(softmax_kernels);
  reduce_row_losses(loss, reduction, n, row_grain(c), [&](float* out, std::int64_t begin, std::int64_t end) {
    k.cross_entropy(out + begin, logits + begin * c, labels_from(labels, begin, c), end - begin, c);
  });
}

void softmax_cross_entropy_backward(float* dlogits, const float* logits, Labels labels, const float* dloss, float scale,
                                    std::int64_t n, std::int64_t c) {
  const SoftmaxKernels& k = RANVIER_ISA_TABLE(softmax_kernels);
  parallel_for(n, row_grain(c), [&](std::int64_t begin, std::int64_t end) {
    k.cross_entropy_backward(dlogits + begin * c, logits + begin * c, labels_from(labels, begin, c),
                             dloss != nullptr ? dloss + begin : nullptr, scale, end - begin, c);
  });
}

}  // namespace ranvier::cpu
