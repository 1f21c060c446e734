// LSTM and SimpleRNN over whole sequences: the GEMMs, the order of the steps
// and the threading; the element-wise math of a step is in rnn_simd.cpp.
//
// Arrays (B,T,X) are batch-major, so the rows of step t form a strided matrix:
// row b starts at t*X + b*T*X (row stride T*X), and the GEMMs read and write
// them in place.
#include <algorithm>
#include <cstring>

#include "ranvier/rnn.h"
#include "ranvier/runtime.h"
#include "rnn_kernels.h"

namespace ranvier::cpu {

namespace {

// Values per thread below which the element-wise part of a step stays on one
// thread: a pool wake-up costs more than a few thousand exp evaluations.
constexpr std::int64_t kGrainValues = 1 << 14;
constexpr int kScratchSlot = 5;

std::int64_t row_grain(std::int64_t values_per_row) {
  return std::max<std::int64_t>(1, kGrainValues / std::max<std::int64_t>(1, values_per_row));
}

// The state entering step t as a (B,U) view: h0 (or null) at t = 0, else the
// rows of step t-1 of the h sequence.
MatrixView previous_state(const float* seq, const float* initial, std::int64_t t, std::int64_t steps,
                          std::int64_t units) {
  if (t == 0) return {initial, units, 1};
  return {seq + (t - 1) * units, steps * units, 1};
}

// hprev (B,T,U): row (b,t) = h_{t-1} of row b, h0 (or zeros) at t = 0 — the
// left operand of drecurrent_kernel = hprev^T @ dz as one GEMM over all steps.
void shift_states(float* hprev, const float* h, const float* h0, std::int64_t batch,
                  std::int64_t steps, std::int64_t units) {
  if (steps == 0) return;
  const std::size_t row_bytes = static_cast<std::size_t>(units) * sizeof(float);
  parallel_for(batch, row_grain(steps * units), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t b = begin; b < end; ++b) {
      float* dst = hprev + b * steps * units;
      if (h0 != nullptr) {
        std::memcpy(dst, h0 + b * units, row_bytes);
      } else {
        std::memset(dst, 0, row_bytes);
      }
      std::memcpy(dst + units, h + b * steps * units, (steps - 1) * row_bytes);
    }
  });
}

// dst (B,U) = src, or zeros when src is null.
void copy_or_zero(float* dst, const float* src, std::int64_t n) {
  if (src != nullptr) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float));
  } else {
    std::memset(dst, 0, static_cast<std::size_t>(n) * sizeof(float));
  }
}

// The weight and input gradients once dz (B*T, G*U), the gradient of the
// pre-activations of every step, is known. The input projection is a dense
// layer over all B*T rows, so its part is linear_backward.
void weight_gradients(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias,
                      const float* dz, const float* hprev, const float* x, MatrixView kernel,
                      std::int64_t rows, std::int64_t features, std::int64_t units,
                      std::int64_t gate_units) {
  linear_backward(dx, dkernel, dbias, dz, nullptr, {x, features, 1}, kernel, rows, features,
                  gate_units, Activation::none);
  gemm(drecurrent_kernel, gate_units, MatrixView{hprev, units, 1}.transposed(),
       {dz, gate_units, 1}, units, gate_units, rows);
}

}  // namespace

void lstm(float* h, float* c, float* gates, const float* x, MatrixView kernel,
          MatrixView recurrent_kernel, const float* bias, const float* h0, const float* c0,
          std::int64_t batch, std::int64_t steps, std::int64_t features, std::int64_t units) {
  const std::int64_t g4 = 4 * units;
  const RnnKernels& k = RANVIER_ISA_TABLE(rnn_kernels);
  linear(gates, {x, features, 1}, kernel, bias, batch * steps, features, g4, Activation::none);
  for (std::int64_t t = 0; t < steps; ++t) {
    const MatrixView h_prev = previous_state(h, h0, t, steps, units);
    if (h_prev.data != nullptr)
      gemm(gates + t * g4, steps * g4, h_prev, recurrent_kernel, batch, g4, units, {}, true);
    parallel_for(batch, row_grain(g4), [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t b = begin; b < end; ++b) {
        const std::int64_t row = b * steps + t;
        const float* c_prev = t > 0 ? c + (row - 1) * units : (c0 ? c0 + b * units : nullptr);
        k.lstm_cell(gates + row * g4, c + row * units, h + row * units, c_prev, units);
      }
    });
  }
}

void lstm_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0,
                   float* dc0, const float* dh, const float* dh_T, const float* dc_T,
                   const float* x, MatrixView kernel, MatrixView recurrent_kernel, const float* h,
                   const float* c, const float* gates, const float* h0, const float* c0,
                   std::int64_t batch, std::int64_t steps, std::int64_t features,
                   std::int64_t units) {
  const std::int64_t g4 = 4 * units, rows = batch * steps;
  const RnnKernels& k = RANVIER_ISA_TABLE(rnn_kernels);
  float* dgates = scratch(kScratchSlot, static_cast<std::size_t>(rows * (g4 + units)));
  float* hprev = dgates + rows * g4;
  // dh0 and dc0 carry the gradients reaching h_t and c_t from step t+1 while
  // the loop runs, and hold those of the initial state when it ends.
  copy_or_zero(dh0, dh_T, batch * units);
  copy_or_zero(dc0, dc_T, batch * units);
  for (std::int64_t t = steps - 1; t >= 0; --t) {
    parallel_for(batch, row_grain(g4), [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t b = begin; b < end; ++b) {
        const std::int64_t row = b * steps + t;
        const float* c_prev = t > 0 ? c + (row - 1) * units : (c0 ? c0 + b * units : nullptr);
        k.lstm_cell_backward(dgates + row * g4, dc0 + b * units, dh0 + b * units,
                             dh ? dh + row * units : nullptr, gates + row * g4, c + row * units,
                             c_prev, units);
      }
    });
    gemm(dh0, units, {dgates + t * g4, steps * g4, 1}, recurrent_kernel.transposed(), batch,
         units, g4);
  }
  shift_states(hprev, h, h0, batch, steps, units);
  weight_gradients(dx, dkernel, drecurrent_kernel, dbias, dgates, hprev, x, kernel, rows, features,
                   units, g4);
}

void simple_rnn(float* h, const float* x, MatrixView kernel, MatrixView recurrent_kernel,
                const float* bias, const float* h0, std::int64_t batch, std::int64_t steps,
                std::int64_t features, std::int64_t units) {
  // h first holds the input projections; each step then turns its rows into
  // tanh(projection + h_{t-1} @ recurrent_kernel) in place, the tanh fused
  // into the GEMM's store.
  linear(h, {x, features, 1}, kernel, bias, batch * steps, features, units, Activation::none);
  Epilogue tanh_store;
  tanh_store.act = Activation::tanh;
  for (std::int64_t t = 0; t < steps; ++t) {
    const MatrixView h_prev = previous_state(h, h0, t, steps, units);
    if (h_prev.data != nullptr) {
      gemm(h + t * units, steps * units, h_prev, recurrent_kernel, batch, units, units, tanh_store,
           true);
    } else {
      for (std::int64_t b = 0; b < batch; ++b) {
        float* row = h + (b * steps + t) * units;
        activation_forward(Activation::tanh, row, row, units);
      }
    }
  }
}

void simple_rnn_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias,
                         float* dh0, const float* dh, const float* dh_T, const float* x,
                         MatrixView kernel, MatrixView recurrent_kernel, const float* h,
                         const float* h0, std::int64_t batch, std::int64_t steps,
                         std::int64_t features, std::int64_t units) {
  const std::int64_t rows = batch * steps;
  const RnnKernels& k = RANVIER_ISA_TABLE(rnn_kernels);
  float* dz = scratch(kScratchSlot, static_cast<std::size_t>(2 * rows * units));
  float* hprev = dz + rows * units;
  // dh0 carries the gradient reaching h_t from step t+1 (see lstm_backward).
  copy_or_zero(dh0, dh_T, batch * units);
  for (std::int64_t t = steps - 1; t >= 0; --t) {
    parallel_for(batch, row_grain(units), [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t b = begin; b < end; ++b) {
        const std::int64_t row = b * steps + t;
        k.tanh_cell_backward(dz + row * units, dh0 + b * units, dh ? dh + row * units : nullptr,
                             h + row * units, units);
      }
    });
    gemm(dh0, units, {dz + t * units, steps * units, 1}, recurrent_kernel.transposed(), batch,
         units, units);
  }
  shift_states(hprev, h, h0, batch, steps, units);
  weight_gradients(dx, dkernel, drecurrent_kernel, dbias, dz, hprev, x, kernel, rows, features,
                   units, units);
}

}  // namespace ranvier::cpu
