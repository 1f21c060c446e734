// Recurrent layers over whole sequences (Keras LSTM, GRU and SimpleRNN) and their
// backpropagation through time.
//
// Both forwards compute each step's pre-activations with two GEMMs (input and
// recurrent term) followed by the cell math. Both backwards run the steps in
// reverse, each giving the gradients of h_{t-1} and x_t, and accumulate the
// weight gradients as one product over all steps, a window of steps at a time.
#pragma once

#include <cstdint>

#include "ranvier/gemm.h"

namespace ranvier::cpu {

// LSTM, Keras layout and gate order (i, f, c, o), recurrent activation
// sigmoid and activation tanh:
//   z_t = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias   (B, 4U): [z_i z_f z_c z_o]
//   i, f, o = sigmoid(z_i, z_f, z_o);  g = tanh(z_c)
//   c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
// x (B,T,F) contiguous, kernel (F,4U), recurrent_kernel (U,4U), bias (4U,);
// h0, c0 (B,U) or null for zeros
//   -> h (B,T,U), c (B,T,U), gates (B,T,4U) holding [i f g o] of every step,
//      all contiguous. c and gates are what the backward needs.
void lstm(float* h, float* c, float* gates, const float* x, MatrixView kernel, MatrixView recurrent_kernel,
          const float* bias, const float* h0, const float* c0, std::int64_t batch, std::int64_t steps,
          std::int64_t features, std::int64_t units);

// Backward of lstm. dh (B,T,U) or null: gradient of the h sequence;
// dh_T, dc_T (B,U) or null: gradients of the final state; h, c, gates from
// the forward, with its x, kernel, recurrent_kernel, h0 and c0
//   -> dx (B,T,F), dkernel (F,4U), drecurrent_kernel (U,4U), dbias (4U,),
//      dh0 (B,U), dc0 (B,U), all contiguous and all written.
void lstm_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0, float* dc0,
                   const float* dh, const float* dh_T, const float* dc_T, const float* x, MatrixView kernel,
                   MatrixView recurrent_kernel, const float* h, const float* c, const float* gates, const float* h0,
                   const float* c0, std::int64_t batch, std::int64_t steps, std::int64_t features, std::int64_t units);

// GRU, Keras layout with reset_after=True and gate order (z, r, h),
// recurrent activation sigmoid and activation tanh:
//   [xz xr xh] = x_t @ kernel + bias[0];  [hz hr hn] = h_{t-1} @ recurrent_kernel + bias[1]
//   z = sigmoid(xz + hz);  r = sigmoid(xr + hr);  hh = tanh(xh + r * hn)
//   h_t = z * h_{t-1} + (1 - z) * hh
// x (B,T,F) contiguous, kernel (F,3U), recurrent_kernel (U,3U), bias (2,3U)
// contiguous; h0 (B,U) or null for zeros (then no h0 @ recurrent_kernel)
//   -> h (B,T,U), gates (B,T,4U) holding [z r hh hn] of every step, contiguous.
void gru(float* h, float* gates, const float* x, MatrixView kernel, MatrixView recurrent_kernel, const float* bias,
         const float* h0, std::int64_t batch, std::int64_t steps, std::int64_t features, std::int64_t units);

// Backward of gru. dh (B,T,U) or null, dh_T (B,U) or null; h, gates from the
// forward, with its x, kernel, recurrent_kernel and h0
//   -> dx (B,T,F), dkernel (F,3U), drecurrent_kernel (U,3U), dbias (2,3U),
//      dh0 (B,U), all contiguous and all written.
void gru_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0, const float* dh,
                  const float* dh_T, const float* x, MatrixView kernel, MatrixView recurrent_kernel, const float* h,
                  const float* gates, const float* h0, std::int64_t batch, std::int64_t steps, std::int64_t features,
                  std::int64_t units);

// Keras SimpleRNN with tanh: h_t = tanh(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias).
// x (B,T,F) contiguous, kernel (F,U), recurrent_kernel (U,U), bias (U,);
// h0 (B,U) or null for zeros -> h (B,T,U) contiguous (all the backward needs).
void simple_rnn(float* h, const float* x, MatrixView kernel, MatrixView recurrent_kernel, const float* bias,
                const float* h0, std::int64_t batch, std::int64_t steps, std::int64_t features, std::int64_t units);

// Backward of simple_rnn. dh (B,T,U) or null, dh_T (B,U) or null; h from the
// forward, with its x, kernel, recurrent_kernel and h0
//   -> dx (B,T,F), dkernel (F,U), drecurrent_kernel (U,U), dbias (U,), dh0 (B,U),
//      all contiguous and all written.
void simple_rnn_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0, const float* dh,
                         const float* dh_T, const float* x, MatrixView kernel, MatrixView recurrent_kernel,
                         const float* h, const float* h0, std::int64_t batch, std::int64_t steps, std::int64_t features,
                         std::int64_t units);

}  // namespace ranvier::cpu
