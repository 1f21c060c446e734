// Matrix multiplication and the dense layer built on it.
#pragma once

#include <cstdint>

#include "ranvier/activation.h"

namespace ranvier::cpu {

// A read-only matrix with arbitrary strides (in elements): element (i, j) is
// data[i * row_stride + j * col_stride]. Transposes and NumPy views are just
// other strides, so the GEMM never needs a contiguous copy of its inputs.
struct MatrixView {
  const float* data;
  std::int64_t row_stride;
  std::int64_t col_stride;
  MatrixView transposed() const { return {data, col_stride, row_stride}; }
};

// Fused store applied to each output element: c = act(c + bias[j]).
struct Epilogue {
  const float* bias = nullptr;  // (n,) or null
  Activation act = Activation::none;
};

// a (m,k), b (k,n) -> c (m,n) row-major with leading dimension ldc:
//   c = act(a @ b + bias)           when accumulate is false
//   c = act(c + a @ b + bias)       when accumulate is true
void gemm(float* c, std::int64_t ldc, MatrixView a, MatrixView b, std::int64_t m, std::int64_t n, std::int64_t k,
          const Epilogue& epilogue = {}, bool accumulate = false);

// A right operand packed once for many products with it (a recurrent kernel
// used at every step, conv weights used for every block of pixels): the
// panels the micro-kernel streams, so gemm_packed_b skips packing B. The
// layout belongs to the ISA selected when packing: pack and use it within one
// kernel call.
std::int64_t packed_b_floats(std::int64_t k, std::int64_t n);
// b (k, n), any strides -> dst (packed_b_floats(k, n) floats).
void pack_b_for_gemm(float* dst, MatrixView b, std::int64_t k, std::int64_t n);
// gemm() with B already packed by pack_b_for_gemm(dst, b, k, n).
void gemm_packed_b(float* c, std::int64_t ldc, MatrixView a, const float* packed_b, std::int64_t m, std::int64_t n,
                   std::int64_t k, const Epilogue& epilogue = {}, bool accumulate = false);

// Batched: for each of `batch` items, c[t] = a[t] @ b[t], where item t of a
// starts at a.data + t * a_batch_stride (0 broadcasts one matrix to all).
// c (batch, m, n) contiguous.
void matmul(float* c, MatrixView a, std::int64_t a_batch_stride, MatrixView b, std::int64_t b_batch_stride,
            std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k);

// x (rows, in), w (in, out), b (out,) or null -> y (rows, out) contiguous:
// y = act(x @ w + b), bias and activation fused into the GEMM's store.
void linear(float* y, MatrixView x, MatrixView w, const float* b, std::int64_t rows, std::int64_t in, std::int64_t out,
            Activation act);

// Backward of linear. dy (rows, out) contiguous; `saved` (rows, out) contiguous
// is y for relu/sigmoid/tanh, the pre-activation z for gelu, unused for none.
// -> dx (rows, in), dw (in, out), db (out,) contiguous; any of them may be null
// to skip it.
void linear_backward(float* dx, float* dw, float* db, const float* dy, const float* saved, MatrixView x, MatrixView w,
                     std::int64_t rows, std::int64_t in, std::int64_t out, Activation act);

}  // namespace ranvier::cpu
