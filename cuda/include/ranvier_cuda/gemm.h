// Matrix multiplication and the dense layer on the GPU: the same operations
// and names as ranvier/gemm.h (ranvier::cpu), plus the stream to launch on.
// Every function only enqueues work and returns the launch's error code.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ranvier/activation.h"
#include "ranvier/gemm.h"

namespace ranvier::cuda {

// The CPU types describe device matrices just as well: data is a device
// pointer, strides are in elements and may be anything (0, negative, transposed).
using cpu::Epilogue;
using cpu::MatrixView;

// One batched GEMM call, with every size and stride spelled out.
// a (batch,m,k), b (batch,k,n) -> c (batch,m,n) contiguous:
//   c[t] = act(a[t] @ b[t] + bias)
// where item t of a starts at a.data + t * a_batch_stride (0 broadcasts).
struct GemmArgs {
  float* c;
  MatrixView a;
  std::int64_t a_batch_stride;
  MatrixView b;
  std::int64_t b_batch_stride;
  std::int64_t batch, m, n, k;
  Epilogue epilogue;
};

cudaError_t gemm(const GemmArgs& args, cudaStream_t stream);

// a (batch,m,k), b (batch,k,n) -> c (batch,m,n) contiguous: c[t] = a[t] @ b[t].
cudaError_t matmul(float* c, MatrixView a, std::int64_t a_batch_stride, MatrixView b, std::int64_t b_batch_stride,
                   std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k, cudaStream_t stream);

// x (rows,in), w (in,out), b (out,) or null -> y (rows,out) contiguous:
// y = act(x @ w + b), bias and activation fused into the GEMM's store.
cudaError_t linear(float* y, MatrixView x, MatrixView w, const float* b, std::int64_t rows, std::int64_t in,
                   std::int64_t out, Activation act, cudaStream_t stream);

// Backward of linear. dy (rows,out) contiguous; saved (rows,out) contiguous is
// y for relu/sigmoid/tanh, the pre-activation z for gelu, unused for none.
// -> dx (rows,in), dw (in,out), db (out,) contiguous; any may be null to skip it.
// dz_scratch (rows,out) holds act'(saved) * dy; the caller provides it (it may
// be null when act is none, where dz is dy itself).
cudaError_t linear_backward(float* dx, float* dw, float* db, float* dz_scratch, const float* dy, const float* saved,
                            MatrixView x, MatrixView w, std::int64_t rows, std::int64_t in, std::int64_t out,
                            Activation act, cudaStream_t stream);

}  // namespace ranvier::cuda
