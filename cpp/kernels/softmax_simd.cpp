// Softmax, log-softmax and softmax cross-entropy rows, compiled once per ISA.
// Every row is shifted by its maximum first, so exp never overflows and any
// finite logits (±1e4 included) give finite results.
#include <cmath>
#include <limits>

#include "simd/blocks.h"
#include "simd/vec.h"
#include "softmax_kernels.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;
using simd::first_lanes;
using simd::for_blocks;
using simd::load_block;
using simd::store_block;

constexpr float kInf = std::numeric_limits<float>::infinity();

// e^d for d <= 0, NaN for NaN (a NaN in the row makes the row NaN, as in NumPy).
V exp_shifted(V d) { return simd::propagate_nan(d, simd::exp(d)); }

float row_max(const float* x, std::int64_t n) {
  V m = V::set1(-kInf);
  for_blocks<V>(n, [&](std::int64_t i, std::int64_t lanes) {
    m = max(m, first_lanes(load_block<V>(x + i, lanes), lanes, -kInf));
  });
  return reduce_max(m);
}

// sum_j e^(x_j - m); also stores the exponentials in e unless e is null.
float sum_exp(float* e, const float* x, float m, std::int64_t n) {
  const V vm = V::set1(m);
  V s = V::zero();
  for_blocks<V>(n, [&](std::int64_t i, std::int64_t lanes) {
    V v = exp_shifted(load_block<V>(x + i, lanes) - vm);
    if (e != nullptr) store_block(v, e + i, lanes);
    s = s + first_lanes(v, lanes, 0.0f);
  });
  return reduce_sum(s);
}

// y = a * scale + b, elementwise over n.
void scale_add(float* y, const float* a, float scale, float b, std::int64_t n) {
  const V vs = V::set1(scale), vb = V::set1(b);
  for_blocks<V>(n, [&](std::int64_t i, std::int64_t lanes) {
    store_block(fmadd(load_block<V>(a + i, lanes), vs, vb), y + i, lanes);
  });
}

void softmax(float* y, const float* x, std::int64_t rows, std::int64_t n) {
  for (std::int64_t r = 0; r < rows; ++r, x += n, y += n) {
    const float s = sum_exp(y, x, row_max(x, n), n);
    scale_add(y, y, 1.0f / s, 0.0f, n);
  }
}

void log_softmax(float* y, const float* x, std::int64_t rows, std::int64_t n) {
  for (std::int64_t r = 0; r < rows; ++r, x += n, y += n) {
    const float m = row_max(x, n);
    const float lse = m + std::log(sum_exp(nullptr, x, m, n));
    scale_add(y, x, 1.0f, -lse, n);
  }
}

void softmax_backward(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n) {
  for (std::int64_t r = 0; r < rows; ++r, dx += n, dy += n, y += n) {
    V dot = V::zero();  // zero-filled partial loads add nothing
    for_blocks<V>(n, [&](std::int64_t i, std::int64_t lanes) {
      dot = fmadd(load_block<V>(dy + i, lanes), load_block<V>(y + i, lanes), dot);
    });
    const V d = V::set1(reduce_sum(dot));
    for_blocks<V>(n, [&](std::int64_t i, std::int64_t lanes) {
      store_block(load_block<V>(y + i, lanes) * (load_block<V>(dy + i, lanes) - d), dx + i, lanes);
    });
  }
}

void log_softmax_backward(float* dx, const float* dy, const float* y, std::int64_t rows, std::int64_t n) {
  for (std::int64_t r = 0; r < rows; ++r, dx += n, dy += n, y += n) {
    V sum = V::zero();
    for_blocks<V>(n, [&](std::int64_t i, std::int64_t lanes) { sum = sum + load_block<V>(dy + i, lanes); });
    const V s = V::set1(reduce_sum(sum));
    for_blocks<V>(n, [&](std::int64_t i, std::int64_t lanes) {
      store_block(fnmadd(exp_shifted(load_block<V>(y + i, lanes)), s, load_block<V>(dy + i, lanes)), dx + i, lanes);
    });
  }
}

// loss_i = lse - sum_j t_j x_j, written as sum_j t_j (m - x_j) + log(s) sum_j t_j
// (s = sum_j e^(x_j - m)): every term keeps the size of the loss it adds to,
// instead of cancelling two numbers the size of the logits.
void cross_entropy(float* loss, const float* logits, Labels labels, std::int64_t rows, std::int64_t n) {
  for (std::int64_t r = 0; r < rows; ++r, logits += n) {
    const float m = row_max(logits, n);
    if (labels.index != nullptr) {
      loss[r] = std::log(sum_exp(nullptr, logits, m, n)) + (m - logits[labels.index[r]]);
      continue;
    }
    const float* t = labels.prob + r * n;
    const V vm = V::set1(m);
    V s = V::zero(), t_sum = V::zero(), t_gap = V::zero();
    for_blocks<V>(n, [&](std::int64_t i, std::int64_t lanes) {
      V x = load_block<V>(logits + i, lanes), tv = load_block<V>(t + i, lanes);
      s = s + first_lanes(exp_shifted(x - vm), lanes, 0.0f);
      t_sum = t_sum + tv;
      t_gap = fmadd(tv, vm - x, t_gap);
    });
    loss[r] = reduce_sum(t_gap) + std::log(reduce_sum(s)) * reduce_sum(t_sum);
  }
}

// dlogits = (softmax * sum(t) - t) * scale * dloss_r: the exponentials are
// stored in dlogits by the sum pass, then scaled in place.
void cross_entropy_backward(float* dlogits, const float* logits, Labels labels, const float* dloss, float scale,
                            std::int64_t rows, std::int64_t n) {
  for (std::int64_t r = 0; r < rows; ++r, logits += n, dlogits += n) {
    const float g = dloss != nullptr ? scale * dloss[r] : scale;
    const float s = sum_exp(dlogits, logits, row_max(logits, n), n);
    if (labels.index != nullptr) {
      scale_add(dlogits, dlogits, g / s, 0.0f, n);
      dlogits[labels.index[r]] -= g;
      continue;
    }
    const float* t = labels.prob + r * n;
    V t_sum = V::zero();
    for_blocks<V>(n, [&](std::int64_t i, std::int64_t lanes) { t_sum = t_sum + load_block<V>(t + i, lanes); });
    const V vp = V::set1(g * reduce_sum(t_sum) / s), vg = V::set1(g);
    for_blocks<V>(n, [&](std::int64_t i, std::int64_t lanes) {
      store_block(fnmadd(load_block<V>(t + i, lanes), vg, load_block<V>(dlogits + i, lanes) * vp), dlogits + i, lanes);
    });
  }
}

}  // namespace

extern const SoftmaxKernels softmax_kernels = {
    softmax, log_softmax, softmax_backward, log_softmax_backward, cross_entropy, cross_entropy_backward};

}  // namespace ranvier::cpu::RANVIER_ISA_NS
