// LSTM, GRU and SimpleRNN over whole sequences: the GEMMs and the order of the
// steps are those of cpp/kernels/rnn.cpp; the element-wise math of a step
// (that of cpp/kernels/rnn_simd.cpp) runs as one thread per (batch row, unit).
//
// Arrays (B,T,X) are batch-major, so the rows of step t form a strided
// matrix: row b starts at t*X + b*T*X (row stride T*X), which the GEMM reads
// in place. Its output is contiguous, so each step's recurrent product goes
// to a (B, G*U) scratch that the step's element-wise kernel adds.
#include "ranvier_cuda/gemm.h"
#include "ranvier_cuda/launch.cuh"
#include "ranvier_cuda/reduce.h"
#include "ranvier_cuda/rnn.h"

namespace ranvier::cuda {

namespace {

__device__ __forceinline__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

// The cell state entering step t of batch row b, unit j: c_{t-1}, c0 or 0.
__device__ __forceinline__ float previous_cell(const float* c, const float* c0, std::int64_t b, std::int64_t t,
                                               std::int64_t steps, std::int64_t units, std::int64_t j) {
  if (t > 0) return c[(b * steps + t - 1) * units + j];
  return c0 != nullptr ? c0[b * units + j] : 0.0f;
}

// One LSTM step, one thread per (b, j) of (B, U): gates (B,T,4U) holds the
// input projections [z_i z_f z_c z_o] of step t (bias included); z (B,4U) the
// recurrent product, or null at t = 0 without h0. Writes the activations
// [i f g o] over them, and c, h (B,T,U) of step t.
__global__ void lstm_cell_kernel(float* gates, float* c, float* h, const float* z, const float* c0, std::int64_t t,
                                 std::int64_t batch, std::int64_t steps, std::int64_t units) {
  const std::int64_t n = batch * units;
  for (std::int64_t e = grid_start<std::int64_t>(); e < n; e += grid_stride<std::int64_t>()) {
    const std::int64_t b = e / units, j = e % units, row = b * steps + t;
    float* g = gates + row * 4 * units;
    const float* zr = z != nullptr ? z + b * 4 * units : nullptr;
    float pre[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) pre[q] = g[q * units + j] + (zr != nullptr ? zr[q * units + j] : 0.0f);
    const float i = sigmoid(pre[0]), f = sigmoid(pre[1]), gg = tanhf(pre[2]), o = sigmoid(pre[3]);
    const float ct = fmaf(f, previous_cell(c, c0, b, t, steps, units, j), i * gg);
    g[j] = i;
    g[units + j] = f;
    g[2 * units + j] = gg;
    g[3 * units + j] = o;
    c[row * units + j] = ct;
    h[row * units + j] = o * tanhf(ct);
  }
}

// One LSTM step back, one thread per (b, j): dh_next (B,U) is the gradient
// reaching h_t through the recurrence, dh (B,T,U) or null that of the output;
// dc (B,U) in: the gradient reaching c_t from step t+1, out: that reaching
// c_{t-1}. -> dgates (B,T,4U) rows of step t: the gradient of [z_i z_f z_c z_o].
__global__ void lstm_cell_backward_kernel(float* dgates, float* dc, const float* dh_next, const float* dh,
                                          const float* gates, const float* c, const float* c0, std::int64_t t,
                                          std::int64_t batch, std::int64_t steps, std::int64_t units) {
  const std::int64_t n = batch * units;
  for (std::int64_t e = grid_start<std::int64_t>(); e < n; e += grid_stride<std::int64_t>()) {
    const std::int64_t b = e / units, j = e % units, row = b * steps + t;
    const float* g = gates + row * 4 * units;
    const float i = g[j], f = g[units + j], gg = g[2 * units + j], o = g[3 * units + j];
    const float dhv = dh_next[e] + (dh != nullptr ? dh[row * units + j] : 0.0f);
    const float tc = tanhf(c[row * units + j]);
    // dL/dc_t: from step t+1 and through h_t = o * tanh(c_t)
    const float dct = fmaf(dhv * o, 1.0f - tc * tc, dc[e]);
    const float cp = previous_cell(c, c0, b, t, steps, units, j);
    float* dg = dgates + row * 4 * units;
    dg[j] = dct * gg * i * (1.0f - i);
    dg[units + j] = dct * cp * f * (1.0f - f);
    dg[2 * units + j] = dct * i * (1.0f - gg * gg);
    dg[3 * units + j] = dhv * tc * o * (1.0f - o);
    dc[e] = dct * f;
  }
}

// One GRU step, one thread per (b, j) of (B, U): zx (B,T,3U) holds the input
// projections [xz xr xh] (bias[0] included); zh (B,3U) the recurrent product
// h_{t-1} @ recurrent_kernel, or null at t = 0 without h0 (a zero state takes
// no part); recurrent_bias (3U) = bias[1]. Writes gates (B,T,4U) [z r hh hn]
// and h (B,T,U) of step t.
__global__ void gru_cell_kernel(float* gates, float* h, const float* zx, const float* zh, const float* recurrent_bias,
                                const float* h0, std::int64_t t, std::int64_t batch, std::int64_t steps,
                                std::int64_t units) {
  const std::int64_t n = batch * units;
  for (std::int64_t e = grid_start<std::int64_t>(); e < n; e += grid_stride<std::int64_t>()) {
    const std::int64_t b = e / units, j = e % units, row = b * steps + t;
    const float* x3 = zx + row * 3 * units;
    const float* h3 = zh != nullptr ? zh + b * 3 * units : nullptr;
    float hz[3];
#pragma unroll
    for (int q = 0; q < 3; ++q) hz[q] = recurrent_bias[q * units + j] + (h3 != nullptr ? h3[q * units + j] : 0.0f);
    const float z = sigmoid(x3[j] + hz[0]), r = sigmoid(x3[units + j] + hz[1]);
    const float hh = tanhf(fmaf(r, hz[2], x3[2 * units + j]));
    float* g = gates + row * 4 * units;
    g[j] = z;
    g[units + j] = r;
    g[2 * units + j] = hh;
    g[3 * units + j] = hz[2];
    // z * h_{t-1} + (1 - z) * hh; without h_{t-1} its term is skipped, not multiplied.
    const bool has_prev = t > 0 || h0 != nullptr;
    const float hp = t > 0 ? h[(row - 1) * units + j] : (h0 != nullptr ? h0[e] : 0.0f);
    h[row * units + j] = has_prev ? fmaf(z, hp, (1.0f - z) * hh) : (1.0f - z) * hh;
  }
}

// One GRU step back, one thread per (b, j): dh_carry (B,U) in: the direct
// part z * dh of the gradient reaching h_t from step t+1, out: that of h_{t-1};
// dh_product (B,U) or null: its part through recurrent_kernel; dh (B,T,U) or
// null that of the output. -> rows of step t of dz_input (B,T,3U)
// [dz dr dxh], the gradient of [xz xr xh], and dz_recurrent (B,T,3U)
// [dz dr dxh*r], that of [hz hr hn].
__global__ void gru_cell_backward_kernel(float* dz_input, float* dz_recurrent, float* dh_carry, const float* dh_product,
                                         const float* dh, const float* gates, const float* h, const float* h0,
                                         std::int64_t t, std::int64_t batch, std::int64_t steps, std::int64_t units) {
  const std::int64_t n = batch * units;
  for (std::int64_t e = grid_start<std::int64_t>(); e < n; e += grid_stride<std::int64_t>()) {
    const std::int64_t b = e / units, j = e % units, row = b * steps + t;
    const float* g = gates + row * 4 * units;
    const float z = g[j], r = g[units + j], hh = g[2 * units + j], hn = g[3 * units + j];
    const float d =
        dh_carry[e] + (dh_product != nullptr ? dh_product[e] : 0.0f) + (dh != nullptr ? dh[row * units + j] : 0.0f);
    const float hp = t > 0 ? h[(row - 1) * units + j] : (h0 != nullptr ? h0[e] : 0.0f);
    const float dxh = d * (1.0f - z) * (1.0f - hh * hh);
    const float dzv = d * (hp - hh) * z * (1.0f - z);
    const float dr = dxh * hn * r * (1.0f - r);
    float* di = dz_input + row * 3 * units;
    float* dr3 = dz_recurrent + row * 3 * units;
    di[j] = dr3[j] = dzv;
    di[units + j] = dr3[units + j] = dr;
    di[2 * units + j] = dxh;
    dr3[2 * units + j] = dxh * r;
    dh_carry[e] = d * z;
  }
}

// a (n) += b (n).
__global__ void add_kernel(float* a, const float* b, std::int64_t n) {
  for (std::int64_t e = grid_start<std::int64_t>(); e < n; e += grid_stride<std::int64_t>()) a[e] += b[e];
}

// One SimpleRNN step: h (B,T,U) rows of step t hold the input projections;
// they become tanh(projection + z), z (B,U) the recurrent product or null.
__global__ void tanh_step_kernel(float* h, const float* z, std::int64_t t, std::int64_t batch, std::int64_t steps,
                                 std::int64_t units) {
  const std::int64_t n = batch * units;
  for (std::int64_t e = grid_start<std::int64_t>(); e < n; e += grid_stride<std::int64_t>()) {
    const std::int64_t b = e / units, j = e % units;
    float* hv = h + (b * steps + t) * units + j;
    *hv = tanhf(*hv + (z != nullptr ? z[e] : 0.0f));
  }
}

// One SimpleRNN step back: dz (B,T,U) rows of step t = (dh_next + dh) * (1 - h^2).
__global__ void tanh_cell_backward_kernel(float* dz, const float* dh_next, const float* dh, const float* h,
                                          std::int64_t t, std::int64_t batch, std::int64_t steps, std::int64_t units) {
  const std::int64_t n = batch * units;
  for (std::int64_t e = grid_start<std::int64_t>(); e < n; e += grid_stride<std::int64_t>()) {
    const std::int64_t b = e / units, j = e % units, at = (b * steps + t) * units + j;
    const float dhv = dh_next[e] + (dh != nullptr ? dh[at] : 0.0f);
    dz[at] = dhv * (1.0f - h[at] * h[at]);
  }
}

// hprev (B,T,U): row (b,t) = h_{t-1} of row b, h0 (or zeros) at t = 0 — the
// left operand of drecurrent_kernel = hprev^T @ dz as one GEMM over all steps.
__global__ void shift_states_kernel(float* hprev, const float* h, const float* h0, std::int64_t batch,
                                    std::int64_t steps, std::int64_t units) {
  const std::int64_t n = batch * steps * units;
  for (std::int64_t e = grid_start<std::int64_t>(); e < n; e += grid_stride<std::int64_t>()) {
    const std::int64_t t = e / units % steps;
    if (t > 0) {
      hprev[e] = h[e - units];
    } else {
      hprev[e] = h0 != nullptr ? h0[e / (steps * units) * units + e % units] : 0.0f;
    }
  }
}

// Runs an element-wise kernel over n elements (none when n is 0).
template <class... Params, class... Args>
cudaError_t launch(void (*kernel)(Params...), std::int64_t n, cudaStream_t stream, Args... args) {
  if (n == 0) return cudaSuccess;
  kernel<<<grid_for(n), kBlock, 0, stream>>>(args...);
  return cudaGetLastError();
}

// dst (n) = src, or zeros when src is null.
cudaError_t copy_or_zero(float* dst, const float* src, std::int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(float);
  if (src != nullptr) return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream);
  return cudaMemsetAsync(dst, 0, bytes, stream);
}

// The state entering step t as a (B,U) view: h0 (or null) at t = 0, else the
// rows of step t-1 of the h sequence.
MatrixView previous_state(const float* seq, const float* initial, std::int64_t t, std::int64_t steps,
                          std::int64_t units) {
  if (t == 0) return {initial, units, 1};
  return {seq + (t - 1) * units, steps * units, 1};
}

// z (B, G*U) = h_prev (B,U) @ recurrent_kernel (U, G*U).
cudaError_t recurrent_product(float* z, MatrixView h_prev, MatrixView recurrent_kernel, std::int64_t batch,
                              std::int64_t units, std::int64_t gate_units, cudaStream_t stream) {
  return gemm({z, h_prev, 0, recurrent_kernel, 0, 1, batch, gate_units, units, {}}, stream);
}

// dh_next (B,U) = dz rows of step t (B, G*U) @ recurrent_kernel^T (G*U, U).
cudaError_t state_gradient(float* dh_next, const float* dz, MatrixView recurrent_kernel, std::int64_t t,
                           std::int64_t batch, std::int64_t steps, std::int64_t units, std::int64_t gate_units,
                           cudaStream_t stream) {
  const MatrixView dz_t = {dz + t * gate_units, steps * gate_units, 1};
  return gemm({dh_next, dz_t, 0, recurrent_kernel.transposed(), 0, 1, batch, units, gate_units, {}}, stream);
}

// The weight and input gradients once dz (B*T, G*U), the gradient of the
// pre-activations of every step, is known; hprev (B*T, U) from shift_states.
// The input projection is a dense layer over all B*T rows, so its part is
// linear_backward.
cudaError_t weight_gradients(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, const float* dz,
                             const float* hprev, const float* x, MatrixView kernel, std::int64_t rows,
                             std::int64_t features, std::int64_t units, std::int64_t gate_units, cudaStream_t stream) {
  cudaError_t err = linear_backward(dx, dkernel, dbias, nullptr, dz, nullptr, {x, features, 1}, kernel, rows, features,
                                    gate_units, Activation::none, stream);
  if (err != cudaSuccess) return err;
  // hprev^T (U, rows) @ dz (rows, G*U) -> drecurrent_kernel (U, G*U)
  return gemm({drecurrent_kernel,
               MatrixView{hprev, units, 1}.transposed(),
               0,
               {dz, gate_units, 1},
               0,
               1,
               units,
               gate_units,
               rows,
               {}},
              stream);
}

}  // namespace

#define RANVIER_TRY(call)                 \
  do {                                    \
    const cudaError_t err_ = (call);      \
    if (err_ != cudaSuccess) return err_; \
  } while (0)

// *z = h_{t-1} @ recurrent_kernel (B, width) in step_scratch, or null at the
// first step without h0 (the term is zero then).
cudaError_t recurrent_term(const float** z, float* step_scratch, const float* h, const float* h0,
                           MatrixView recurrent_kernel, std::int64_t t, std::int64_t batch, std::int64_t steps,
                           std::int64_t units, std::int64_t width, cudaStream_t stream) {
  const MatrixView h_prev = previous_state(h, h0, t, steps, units);
  *z = nullptr;
  if (h_prev.data == nullptr) return cudaSuccess;
  *z = step_scratch;
  return recurrent_product(step_scratch, h_prev, recurrent_kernel, batch, units, width, stream);
}

cudaError_t lstm(float* h, float* c, float* gates, float* step_scratch, const float* x, MatrixView kernel,
                 MatrixView recurrent_kernel, const float* bias, const float* h0, const float* c0, std::int64_t batch,
                 std::int64_t steps, std::int64_t features, std::int64_t units, cudaStream_t stream) {
  const std::int64_t g4 = 4 * units;
  // x (B*T, F) @ kernel + bias -> gates (B*T, 4U)
  RANVIER_TRY(linear(gates, {x, features, 1}, kernel, bias, batch * steps, features, g4, Activation::none, stream));
  for (std::int64_t t = 0; t < steps; ++t) {
    const float* z = nullptr;
    RANVIER_TRY(recurrent_term(&z, step_scratch, h, h0, recurrent_kernel, t, batch, steps, units, g4, stream));
    RANVIER_TRY(launch(lstm_cell_kernel, batch * units, stream, gates, c, h, z, c0, t, batch, steps, units));
  }
  return cudaSuccess;
}

cudaError_t lstm_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0, float* dc0,
                          float* scratch, const float* dh, const float* dh_T, const float* dc_T, const float* x,
                          MatrixView kernel, MatrixView recurrent_kernel, const float* h, const float* c,
                          const float* gates, const float* h0, const float* c0, std::int64_t batch, std::int64_t steps,
                          std::int64_t features, std::int64_t units, cudaStream_t stream) {
  const std::int64_t g4 = 4 * units, rows = batch * steps;
  float* dgates = scratch;             // (B,T,4U)
  float* hprev = scratch + rows * g4;  // (B,T,U)
  // dh0 and dc0 carry the gradients reaching h_t and c_t from step t+1 while
  // the loop runs, and hold those of the initial state when it ends.
  RANVIER_TRY(copy_or_zero(dh0, dh_T, batch * units, stream));
  RANVIER_TRY(copy_or_zero(dc0, dc_T, batch * units, stream));
  for (std::int64_t t = steps - 1; t >= 0; --t) {
    RANVIER_TRY(launch(lstm_cell_backward_kernel, batch * units, stream, dgates, dc0, dh0, dh, gates, c, c0, t, batch,
                       steps, units));
    RANVIER_TRY(state_gradient(dh0, dgates, recurrent_kernel, t, batch, steps, units, g4, stream));
  }
  RANVIER_TRY(launch(shift_states_kernel, rows * units, stream, hprev, h, h0, batch, steps, units));
  return weight_gradients(dx, dkernel, drecurrent_kernel, dbias, dgates, hprev, x, kernel, rows, features, units, g4,
                          stream);
}

cudaError_t gru(float* h, float* gates, float* scratch, const float* x, MatrixView kernel, MatrixView recurrent_kernel,
                const float* bias, const float* h0, std::int64_t batch, std::int64_t steps, std::int64_t features,
                std::int64_t units, cudaStream_t stream) {
  const std::int64_t g3 = 3 * units;
  float* zx = scratch;                            // (B,T,3U)
  float* step_scratch = zx + batch * steps * g3;  // (B,3U)
  // x (B*T, F) @ kernel + bias[0] -> zx (B*T, 3U)
  RANVIER_TRY(linear(zx, {x, features, 1}, kernel, bias, batch * steps, features, g3, Activation::none, stream));
  for (std::int64_t t = 0; t < steps; ++t) {
    const float* z = nullptr;
    RANVIER_TRY(recurrent_term(&z, step_scratch, h, h0, recurrent_kernel, t, batch, steps, units, g3, stream));
    RANVIER_TRY(launch(gru_cell_kernel, batch * units, stream, gates, h, zx, z, bias + g3, h0, t, batch, steps, units));
  }
  return cudaSuccess;
}

cudaError_t gru_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0, float* scratch,
                         const float* dh, const float* dh_T, const float* x, MatrixView kernel,
                         MatrixView recurrent_kernel, const float* h, const float* gates, const float* h0,
                         std::int64_t batch, std::int64_t steps, std::int64_t features, std::int64_t units,
                         cudaStream_t stream) {
  const std::int64_t g3 = 3 * units, rows = batch * steps;
  float* dz_input = scratch;                   // (B,T,3U)
  float* dz_recurrent = dz_input + rows * g3;  // (B,T,3U)
  float* hprev = dz_recurrent + rows * g3;     // (B,T,U)
  float* dh_product = hprev + rows * units;    // (B,U)
  // dh0 carries the direct part of the gradient reaching h_t, dh_product its
  // part through recurrent_kernel (none before the last step); their sum is
  // that of h0 at the end.
  RANVIER_TRY(copy_or_zero(dh0, dh_T, batch * units, stream));
  for (std::int64_t t = steps - 1; t >= 0; --t) {
    RANVIER_TRY(launch(gru_cell_backward_kernel, batch * units, stream, dz_input, dz_recurrent, dh0,
                       t < steps - 1 ? static_cast<const float*>(dh_product) : nullptr, dh, gates, h, h0, t, batch,
                       steps, units));
    RANVIER_TRY(state_gradient(dh_product, dz_recurrent, recurrent_kernel, t, batch, steps, units, g3, stream));
  }
  RANVIER_TRY(launch(add_kernel, batch * units, stream, dh0, static_cast<const float*>(dh_product), batch * units));
  RANVIER_TRY(launch(shift_states_kernel, rows * units, stream, hprev, h, h0, batch, steps, units));
  // dx, dkernel, dbias[0] from dz_input; drecurrent_kernel from dz_recurrent,
  // then dbias[1], its column sums.
  RANVIER_TRY(linear_backward(dx, dkernel, dbias, nullptr, dz_input, nullptr, {x, features, 1}, kernel, rows, features,
                              g3, Activation::none, stream));
  // hprev^T (U, rows) @ dz_recurrent (rows, 3U) -> drecurrent_kernel (U, 3U)
  RANVIER_TRY(gemm({drecurrent_kernel,
                    MatrixView{hprev, units, 1}.transposed(),
                    0,
                    {dz_recurrent, g3, 1},
                    0,
                    1,
                    units,
                    g3,
                    rows,
                    {}},
                   stream));
  return column_sum(dbias + g3, dz_recurrent, rows, g3, stream);
}

cudaError_t simple_rnn(float* h, float* step_scratch, const float* x, MatrixView kernel, MatrixView recurrent_kernel,
                       const float* bias, const float* h0, std::int64_t batch, std::int64_t steps,
                       std::int64_t features, std::int64_t units, cudaStream_t stream) {
  // h first holds the input projections; each step turns its rows into
  // tanh(projection + h_{t-1} @ recurrent_kernel) in place.
  RANVIER_TRY(linear(h, {x, features, 1}, kernel, bias, batch * steps, features, units, Activation::none, stream));
  for (std::int64_t t = 0; t < steps; ++t) {
    const float* z = nullptr;
    RANVIER_TRY(recurrent_term(&z, step_scratch, h, h0, recurrent_kernel, t, batch, steps, units, units, stream));
    RANVIER_TRY(launch(tanh_step_kernel, batch * units, stream, h, z, t, batch, steps, units));
  }
  return cudaSuccess;
}

cudaError_t simple_rnn_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0,
                                float* scratch, const float* dh, const float* dh_T, const float* x, MatrixView kernel,
                                MatrixView recurrent_kernel, const float* h, const float* h0, std::int64_t batch,
                                std::int64_t steps, std::int64_t features, std::int64_t units, cudaStream_t stream) {
  const std::int64_t rows = batch * steps;
  float* dz = scratch;                    // (B,T,U)
  float* hprev = scratch + rows * units;  // (B,T,U)
  // dh0 carries the gradient reaching h_t from step t+1 (see lstm_backward).
  RANVIER_TRY(copy_or_zero(dh0, dh_T, batch * units, stream));
  for (std::int64_t t = steps - 1; t >= 0; --t) {
    RANVIER_TRY(launch(tanh_cell_backward_kernel, batch * units, stream, dz, dh0, dh, h, t, batch, steps, units));
    RANVIER_TRY(state_gradient(dh0, dz, recurrent_kernel, t, batch, steps, units, units, stream));
  }
  RANVIER_TRY(launch(shift_states_kernel, rows * units, stream, hprev, h, h0, batch, steps, units));
  return weight_gradients(dx, dkernel, drecurrent_kernel, dbias, dz, hprev, x, kernel, rows, features, units, units,
                          stream);
}

#undef RANVIER_TRY

}  // namespace ranvier::cuda
