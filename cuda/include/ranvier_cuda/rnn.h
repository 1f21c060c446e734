// Recurrent layers over whole sequences on the GPU (Keras LSTM, GRU and
// SimpleRNN) and their backpropagation through time: the same operations,
// layouts and cache as ranvier/rnn.h (ranvier::cpu), plus scratch and the stream.
//
// Forward: the input projection of all B*T rows is one GEMM (cuda::linear);
// then each step is one GEMM h_{t-1} @ recurrent_kernel into scratch and one
// element-wise kernel that adds it and applies the gates. Backward: the
// recurrence in reverse, one element-wise kernel and one GEMM per step, then
// the weight and input gradients from three large GEMMs over all steps.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ranvier/gemm.h"

namespace ranvier::cuda {

using cpu::MatrixView;

// LSTM, gate order (i, f, c, o). x (B,T,F) contiguous, kernel (F,4U),
// recurrent_kernel (U,4U), bias (4U,); h0, c0 (B,U) or null for zeros;
// step_scratch (B,4U)
//   -> h (B,T,U), c (B,T,U), gates (B,T,4U) holding [i f g o] of every step.
cudaError_t lstm(float* h, float* c, float* gates, float* step_scratch, const float* x, MatrixView kernel,
                 MatrixView recurrent_kernel, const float* bias, const float* h0, const float* c0, std::int64_t batch,
                 std::int64_t steps, std::int64_t features, std::int64_t units, cudaStream_t stream);

// Backward of lstm. dh (B,T,U) or null, dh_T, dc_T (B,U) or null; h, c, gates
// from the forward with its x, kernel, recurrent_kernel, h0, c0;
// scratch (B*T*5U)
//   -> dx (B,T,F), dkernel (F,4U), drecurrent_kernel (U,4U), dbias (4U,),
//      dh0 (B,U), dc0 (B,U), all contiguous and all written.
cudaError_t lstm_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0, float* dc0,
                          float* scratch, const float* dh, const float* dh_T, const float* dc_T, const float* x,
                          MatrixView kernel, MatrixView recurrent_kernel, const float* h, const float* c,
                          const float* gates, const float* h0, const float* c0, std::int64_t batch, std::int64_t steps,
                          std::int64_t features, std::int64_t units, cudaStream_t stream);

// GRU, reset_after=True, gate order (z, r, h). x (B,T,F) contiguous, kernel
// (F,3U), recurrent_kernel (U,3U), bias (2,3U) contiguous; h0 (B,U) or null;
// scratch (B*T*3U + B*3U) -> h (B,T,U), gates (B,T,4U) [z r hh hn].
cudaError_t gru(float* h, float* gates, float* scratch, const float* x, MatrixView kernel, MatrixView recurrent_kernel,
                const float* bias, const float* h0, std::int64_t batch, std::int64_t steps, std::int64_t features,
                std::int64_t units, cudaStream_t stream);

// Backward of gru. dh (B,T,U) or null, dh_T (B,U) or null; h, gates from the
// forward with its x, kernel, recurrent_kernel, h0; scratch (B*T*7U + B*U)
//   -> dx (B,T,F), dkernel (F,3U), drecurrent_kernel (U,3U), dbias (2,3U), dh0 (B,U).
cudaError_t gru_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0, float* scratch,
                         const float* dh, const float* dh_T, const float* x, MatrixView kernel,
                         MatrixView recurrent_kernel, const float* h, const float* gates, const float* h0,
                         std::int64_t batch, std::int64_t steps, std::int64_t features, std::int64_t units,
                         cudaStream_t stream);

// SimpleRNN with tanh. x (B,T,F) contiguous, kernel (F,U), recurrent_kernel
// (U,U), bias (U,); h0 (B,U) or null; step_scratch (B,U) -> h (B,T,U).
cudaError_t simple_rnn(float* h, float* step_scratch, const float* x, MatrixView kernel, MatrixView recurrent_kernel,
                       const float* bias, const float* h0, std::int64_t batch, std::int64_t steps,
                       std::int64_t features, std::int64_t units, cudaStream_t stream);

// Backward of simple_rnn. dh (B,T,U) or null, dh_T (B,U) or null; h from the
// forward with its x, kernel, recurrent_kernel, h0; scratch (B*T*2U)
//   -> dx (B,T,F), dkernel (F,U), drecurrent_kernel (U,U), dbias (U,), dh0 (B,U).
cudaError_t simple_rnn_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0,
                                float* scratch, const float* dh, const float* dh_T, const float* x, MatrixView kernel,
                                MatrixView recurrent_kernel, const float* h, const float* h0, std::int64_t batch,
                                std::int64_t steps, std::int64_t features, std::int64_t units, cudaStream_t stream);

}  // namespace ranvier::cuda
