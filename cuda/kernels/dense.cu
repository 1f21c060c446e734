// The dense layer on the GPU: forward is one GEMM with the bias and activation
// fused into its store; backward is the activation's derivative, two GEMMs and
// a column sum (the same steps as cpp/kernels/linear.cpp).
#include "ranvier_cuda/activation.h"
#include "ranvier_cuda/gemm.h"
#include "ranvier_cuda/reduce.h"

namespace ranvier::cuda {

cudaError_t matmul(float* c, MatrixView a, std::int64_t a_batch_stride, MatrixView b, std::int64_t b_batch_stride,
                   std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k, cudaStream_t stream) {
  return gemm({c, a, a_batch_stride, b, b_batch_stride, batch, m, n, k, Epilogue{}}, stream);
}

cudaError_t linear(float* y, MatrixView x, MatrixView w, const float* b, std::int64_t rows, std::int64_t in,
                   std::int64_t out, Activation act, cudaStream_t stream) {
  Epilogue epilogue;
  epilogue.bias = b;
  epilogue.act = act;
  // x (rows,in) @ w (in,out) -> y (rows,out)
  return gemm({y, x, 0, w, 0, 1, rows, out, in, epilogue}, stream);
}

cudaError_t linear_backward(float* dx, float* dw, float* db, float* dz_scratch, const float* dy, const float* saved,
                            MatrixView x, MatrixView w, std::int64_t rows, std::int64_t in, std::int64_t out,
                            Activation act, cudaStream_t stream) {
  if (dx == nullptr && dw == nullptr && db == nullptr) return cudaSuccess;
  const float* dz = dy;
  if (act != Activation::none) {
    // dy (rows,out), saved (rows,out) -> dz (rows,out)
    cudaError_t err = activation_backward(act, default_params(act), dz_scratch, dy, saved, rows * out, stream);
    if (err != cudaSuccess) return err;
    dz = dz_scratch;
  }
  const MatrixView dz_view = {dz, out, 1};
  if (dx != nullptr) {
    // dz (rows,out) @ w^T (out,in) -> dx (rows,in)
    cudaError_t err = gemm({dx, dz_view, 0, w.transposed(), 0, 1, rows, in, out, {}}, stream);
    if (err != cudaSuccess) return err;
  }
  if (dw != nullptr) {
    // x^T (in,rows) @ dz (rows,out) -> dw (in,out)
    cudaError_t err = gemm({dw, x.transposed(), 0, dz_view, 0, 1, in, out, rows, {}}, stream);
    if (err != cudaSuccess) return err;
  }
  if (db != nullptr) return column_sum(db, dz, rows, out, stream);  // dz (rows,out) -> db (out,)
  return cudaSuccess;
}

}  // namespace ranvier::cuda
