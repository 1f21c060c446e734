// LSTM, GRU and SimpleRNN over whole sequences: the GEMMs, the order of the steps
// and the threading; the element-wise math of a step is in rnn_simd.cpp.
//
// Arrays (B,T,X) are batch-major, so the rows of step t form a strided matrix:
// row b starts at t*X + b*T*X (row stride T*X), and the GEMMs read and write
// them in place.
//
// Row b at step t needs only row b at step t-1, so each thread takes a block
// of batch rows through the sequence, its step GEMMs on one thread, with no
// barrier per step; each step's rows are still in cache for the cell math
// that follows the step's GEMMs. The matrices every step multiplies by are
// packed once per call. A row's arithmetic does not depend on the block it
// falls in, and the weight gradients sum their rows in one fixed order, so
// the results do not depend on the number of threads.
#include <algorithm>
#include <cstring>

#include "ranvier/rnn.h"
#include "ranvier/runtime.h"
#include "rnn_kernels.h"

namespace ranvier::cpu {

namespace {

constexpr ScratchSlot kScratchSlot = ScratchSlot::rnn;

// Batch rows per thread below which the recurrence runs on fewer threads: a
// thread's step GEMM costs a whole tile of rows (6 or 12) however few it
// has, so thinner blocks would add threads without shortening the step.
constexpr std::int64_t kMinRowsPerThread = 8;

// Rows (steps x batch) per window of the backward's weight gradients: one or
// two depth blocks of the GEMM, so a window's dz and inputs stay in L2.
constexpr std::int64_t kWindowRows = 192;

// Batch rows transposed at a time into the weight gradients' left operand.
constexpr std::int64_t kMaxRowsPerTranspose = 64;

// dst (n,) = src, or zeros when src is null.
void copy_or_zero(float* dst, const float* src, std::int64_t n) {
  if (src != nullptr) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(float));
  } else {
    std::memset(dst, 0, static_cast<std::size_t>(n) * sizeof(float));
  }
}

// Sizes of one call; `width` = G*U, the columns of the pre-activations
// (G = 4 gates for the LSTM, 1 for SimpleRNN).
struct Dims {
  std::int64_t batch, steps, features, units, width;
  // Columns of the left operand of the weight gradients: [x_t, h_{t-1}, 1].
  std::int64_t inputs() const { return features + units + 1; }
};

// The backward's dx_t = dz_t[:, :depth] @ kt, kt (depth, F) (kernel^T or part of it).
struct InputProduct {
  MatrixView kt;
  std::int64_t depth;
};

// One term of the backward's dh_{t-1}: dz_t[:, column : column + depth] @ rt,
// rt (depth, U) (recurrent_kernel^T or some of its rows).
struct StateProduct {
  std::int64_t column = 0, depth = 0;
  MatrixView rt = {nullptr, 0, 0};
};

// dh_{t-1} as the sum of `count` products, added to what the cell left in
// the carry when `accumulate` (the GRU's direct term z * dh_t), else replacing it.
struct StateProducts {
  StateProduct pieces[2];
  int count;
  bool accumulate;
};

// n floats rounded up to whole cache lines, so that what follows them in the
// same scratch buffer stays aligned.
std::int64_t whole_lines(std::int64_t n) { return (n + 15) / 16 * 16; }

// Floats of a packed right operand, in whole cache lines.
std::int64_t packed_floats(std::int64_t k, std::int64_t n) { return whole_lines(packed_b_floats(k, n)); }

// Threads that split a batch into blocks of rows: at least kMinRowsPerThread
// rows each, where the batch allows.
std::int64_t row_parts(std::int64_t batch) {
  return std::min<std::int64_t>(num_threads(), std::max<std::int64_t>(1, batch / kMinRowsPerThread));
}

// Runs body(p, b0, b1) for each part p of `parts`, in parallel: batch rows
// [b0, b1) are part p's share.
template <class Body>
void for_row_parts(std::int64_t batch, std::int64_t parts, Body body) {
  parallel_for(parts, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) body(p, batch * p / parts, batch * (p + 1) / parts);
  });
}

// Forward skeleton. For each block of rows, step by step:
//   z_t = act(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)
// (no recurrent term at t = 0 when h0 is null), then cell(z_row, b, t) on
// each row of the step while it is hot; the cells write h (B,T,U).
// z_t goes to the rows of z_seq (B,T,width) when given (SimpleRNN: h itself,
// the GEMM's store is the whole cell); otherwise z_t and a copy of h_t live
// in per-thread buffers of consecutive rows, which the GEMM reads and writes
// faster: rows of (B,T,X) arrays are T*X apart, so the GEMM's tiles of a
// dozen rows fall into a few cache sets.
template <class Cell>
void forward(const float* x, MatrixView kernel, MatrixView recurrent_kernel, const float* bias, float* h,
             const float* h0, Activation act, const Dims& d, float* z_seq, Cell cell) {
  const std::int64_t kernel_floats = packed_floats(d.features, d.width);
  const std::int64_t recurrent_floats = packed_floats(d.units, d.width);
  const std::int64_t z_floats = z_seq != nullptr ? 0 : whole_lines(d.batch * d.width);
  const std::int64_t h_floats = z_seq != nullptr ? 0 : d.batch * d.units;
  float* packed_kernel =
      scratch(kScratchSlot, static_cast<std::size_t>(kernel_floats + recurrent_floats + z_floats + h_floats));
  float* packed_recurrent = packed_kernel + kernel_floats;
  float* z_rows = packed_recurrent + recurrent_floats;
  float* h_rows = z_rows + z_floats;
  pack_b_for_gemm(packed_kernel, kernel, d.features, d.width);
  pack_b_for_gemm(packed_recurrent, recurrent_kernel, d.units, d.width);
  const std::size_t state_bytes = static_cast<std::size_t>(d.units) * sizeof(float);
  for_row_parts(d.batch, row_parts(d.batch), [&](std::int64_t, std::int64_t b0, std::int64_t b1) {
    const std::int64_t rows = b1 - b0;
    for (std::int64_t t = 0; t < d.steps; ++t) {
      float* z = z_seq != nullptr ? z_seq + (b0 * d.steps + t) * d.width : z_rows + b0 * d.width;
      const std::int64_t ldz = z_seq != nullptr ? d.steps * d.width : d.width;
      // h_{t-1}: h0 (null data for zeros) at t = 0, then rows of h or their copies
      MatrixView h_prev = {h0 != nullptr ? h0 + b0 * d.units : nullptr, d.units, 1};
      if (t > 0) {
        h_prev = z_seq != nullptr ? MatrixView{h + (b0 * d.steps + t - 1) * d.units, d.steps * d.units, 1}
                                  : MatrixView{h_rows + b0 * d.units, d.units, 1};
      }
      Epilogue input;
      input.bias = bias;
      if (h_prev.data == nullptr) input.act = act;
      gemm_packed_b(z, ldz, {x + (b0 * d.steps + t) * d.features, d.steps * d.features, 1}, packed_kernel, rows,
                    d.width, d.features, input);
      if (h_prev.data != nullptr) {
        Epilogue recurrent;
        recurrent.act = act;
        gemm_packed_b(z, ldz, h_prev, packed_recurrent, rows, d.width, d.units, recurrent, true);
      }
      for (std::int64_t b = b0; b < b1; ++b) {
        cell(z + (b - b0) * ldz, b, t);
        if (z_seq == nullptr) std::memcpy(h_rows + b * d.units, h + (b * d.steps + t) * d.units, state_bytes);
      }
    }
  });
}

// dst (cols, ld): columns [0, n) get the n source rows (cols floats each,
// null for zeros), transposed, 16 at a time so that each destination row is
// written in whole cache lines.
void transpose_rows(float* dst, std::int64_t ld, const float* const* src, std::int64_t n, std::int64_t cols) {
  constexpr std::int64_t kTile = 16;
  for (std::int64_t i0 = 0; i0 < n; i0 += kTile) {
    const std::int64_t m = std::min(kTile, n - i0);
    float* out = dst + i0;
    for (std::int64_t j = 0; j < cols; ++j, out += ld)
      for (std::int64_t i = 0; i < m; ++i) out[i] = src[i0 + i] != nullptr ? src[i0 + i][j] : 0.0f;
  }
}

// Backward skeleton. dh0 (B,U) carries the gradient reaching h_t from step
// t+1 while the steps run backwards (dh_T, or zeros, to start), and holds
// that of h0 at the end. At each step, cell(dz_row, b, t) turns it (with its
// own carries) into the row's dz, the gradient of the pre-activations; then
//   dh_{t-1} = dz_t @ recurrent_kernel^T,  dx_t = dz_t @ kernel^T
// (`state` and `input` say which columns of dz meet which weights) while dz_t
// is hot. The weight gradients are one product over all B*T rows,
//   dw = [x_t, h_{t-1}, 1]^T @ dz   ([dkernel; drecurrent_kernel; dbias] for
// the LSTM and SimpleRNN; unpack(dw) copies them out),
// accumulated window by window: a window is `window` steps of every batch
// row (about one GEMM depth block), and while the threads run the steps of
// window w, each also adds its share of the columns for window w-1. So dz
// never leaves the caches, and the sum runs over the rows in the same order
// whatever the number of threads. One parallel region per window.
template <class Cell, class Unpack>
void backward(float* dx, float* dh0, const float* dh_T, const float* x, const InputProduct& input,
              const StateProducts& state, const float* h, const float* h0, const Dims& d, Cell cell, Unpack unpack) {
  const std::int64_t inputs = d.inputs();
  copy_or_zero(dh0, dh_T, d.batch * d.units);
  const std::int64_t window = d.batch > 0 ? std::min(d.steps, std::max<std::int64_t>(1, kWindowRows / d.batch)) : 0;
  const std::int64_t windows = window > 0 ? (d.steps + window - 1) / window : 0;
  const std::int64_t window_rows = window * d.batch;
  const std::int64_t rt_floats = packed_floats(state.pieces[0].depth, d.units);
  const std::int64_t rt2_floats = state.count > 1 ? packed_floats(state.pieces[1].depth, d.units) : 0;
  const std::int64_t kt_floats = dx != nullptr ? packed_floats(input.depth, d.features) : 0;
  const std::int64_t dz_floats = whole_lines(window_rows * d.width);
  const std::int64_t xh_floats = whole_lines(inputs * window_rows);
  float* packed_rt = scratch(kScratchSlot, static_cast<std::size_t>(rt_floats + rt2_floats + kt_floats +
                                                                    2 * (dz_floats + xh_floats) + inputs * d.width));
  float* packed_rts[2] = {packed_rt, packed_rt + rt_floats};
  float* packed_kt = packed_rt + rt_floats + rt2_floats;
  // Two of each: window w is written while window w-1 is read.
  float* dz_buffers[2] = {packed_kt + kt_floats, packed_kt + kt_floats + dz_floats};
  float* xh_buffers[2] = {dz_buffers[1] + dz_floats, dz_buffers[1] + dz_floats + xh_floats};
  float* dw = xh_buffers[1] + xh_floats;
  // Packed once: every step multiplies by them.
  for (int i = 0; i < state.count; ++i)
    pack_b_for_gemm(packed_rts[i], state.pieces[i].rt, state.pieces[i].depth, d.units);
  if (dx != nullptr) pack_b_for_gemm(packed_kt, input.kt, input.depth, d.features);  // null: the input is data
  if (windows == 0) std::memset(dw, 0, static_cast<std::size_t>(inputs * d.width) * sizeof(float));

  // Window w holds steps [first(w), first(w) + window) clipped at 0, in
  // rows (step - first(w)) * B + b of its buffers.
  auto first = [&](std::int64_t w) { return std::max<std::int64_t>(0, d.steps - (w + 1) * window); };
  auto steps_of = [&](std::int64_t w) { return d.steps - w * window - first(w); };
  // The steps of window w for batch rows [b0, b1).
  auto run_steps = [&](std::int64_t w, std::int64_t b0, std::int64_t b1) {
    float* dz = dz_buffers[w % 2];
    float* xh = xh_buffers[w % 2];
    const std::int64_t rows = b1 - b0, t0 = first(w);
    const float* sources[2 * kMaxRowsPerTranspose];
    for (std::int64_t t = t0 + steps_of(w) - 1; t >= t0; --t) {
      const std::int64_t r0 = (t - t0) * d.batch + b0;
      for (std::int64_t b = b0; b < b1; ++b) cell(dz + (r0 + b - b0) * d.width, b, t);
      const MatrixView dz_t = {dz + r0 * d.width, d.width, 1};
      for (int i = 0; i < state.count; ++i) {
        const StateProduct& piece = state.pieces[i];
        gemm_packed_b(dh0 + b0 * d.units, d.units, {dz_t.data + piece.column, d.width, 1}, packed_rts[i], rows, d.units,
                      piece.depth, {}, state.accumulate || i > 0);
      }
      if (dx != nullptr)
        gemm_packed_b(dx + (b0 * d.steps + t) * d.features, d.steps * d.features, dz_t, packed_kt, rows, d.features,
                      input.depth);
      // Columns r0.. of [x_t, h_{t-1}, 1]^T, h_{-1} being h0 or zeros.
      for (std::int64_t c0 = 0; c0 < rows; c0 += kMaxRowsPerTranspose) {
        const std::int64_t n = std::min(kMaxRowsPerTranspose, rows - c0);
        for (std::int64_t i = 0; i < n; ++i) {
          const std::int64_t b = b0 + c0 + i, row = b * d.steps + t;
          sources[i] = x + row * d.features;
          sources[kMaxRowsPerTranspose + i] =
              t > 0 ? h + (row - 1) * d.units : (h0 != nullptr ? h0 + b * d.units : nullptr);
        }
        float* col = xh + r0 + c0;
        transpose_rows(col, window_rows, sources, n, d.features);
        transpose_rows(col + d.features * window_rows, window_rows, sources + kMaxRowsPerTranspose, n, d.units);
        for (std::int64_t i = 0; i < n; ++i) col[(inputs - 1) * window_rows + i] = 1.0f;
      }
    }
  };
  // Columns [c0, c1) of the weight gradients, window w's rows added.
  auto add_weights = [&](std::int64_t w, std::int64_t c0, std::int64_t c1) {
    gemm(dw + c0, d.width, {xh_buffers[w % 2], window_rows, 1}, {dz_buffers[w % 2] + c0, d.width, 1}, inputs, c1 - c0,
         steps_of(w) * d.batch, {}, w > 0);
  };
  const std::int64_t parts = row_parts(d.batch);
  // Part p's share of the weight gradients' columns, cut at multiples of 64
  // so that the shares are whole panels of the GEMM's micro-kernel (64
  // columns on AVX-512, 16 on AVX2).
  auto column = [&](std::int64_t p) { return std::min(d.width, (d.width * p / parts + 63) / 64 * 64); };
  for (std::int64_t w = 0; w <= windows; ++w) {
    for_row_parts(d.batch, parts, [&](std::int64_t p, std::int64_t b0, std::int64_t b1) {
      if (w < windows) run_steps(w, b0, b1);
      if (w > 0 && column(p) < column(p + 1)) add_weights(w - 1, column(p), column(p + 1));
    });
  }
  unpack(dw);
}

// The LSTM's and SimpleRNN's backward products: dx_t = dz_t @ kernel^T and
// dh_{t-1} = dz_t @ recurrent_kernel^T over all of dz's columns.
InputProduct whole_input(MatrixView kernel, const Dims& d) { return {kernel.transposed(), d.width}; }
StateProducts whole_state(MatrixView recurrent_kernel, const Dims& d) {
  return {{StateProduct{0, d.width, recurrent_kernel.transposed()}, StateProduct{}}, 1, false};
}

// dw (F+U+1, width) = [dkernel; drecurrent_kernel; dbias], copied out whole.
auto copy_weight_gradients(float* dkernel, float* drecurrent_kernel, float* dbias, const Dims& d) {
  return [=](const float* dw) {
    const std::size_t row_bytes = static_cast<std::size_t>(d.width) * sizeof(float);
    std::memcpy(dkernel, dw, d.features * row_bytes);
    std::memcpy(drecurrent_kernel, dw + d.features * d.width, d.units * row_bytes);
    std::memcpy(dbias, dw + (d.features + d.units) * d.width, row_bytes);
  };
}

// The GRU's forward: the skeleton above, except that the input and recurrent
// products stay apart (the reset gate scales the recurrent candidate term
// only), each with its own bias: zx_t = x_t @ kernel + bias[0] and
// zh_t = h_{t-1} @ recurrent_kernel + bias[1] (none at t = 0 without h0: the
// cell takes bias[1] itself), in per-thread buffers of consecutive rows.
void gru_forward(float* h, float* gates, const float* x, MatrixView kernel, MatrixView recurrent_kernel,
                 const float* bias, const float* h0, const Dims& d, const RnnKernels& k) {
  const std::int64_t cols = 3 * d.units;
  const std::int64_t kernel_floats = packed_floats(d.features, cols);
  const std::int64_t recurrent_floats = packed_floats(d.units, cols);
  const std::int64_t z_floats = whole_lines(d.batch * cols);
  float* packed_kernel = scratch(
      kScratchSlot, static_cast<std::size_t>(kernel_floats + recurrent_floats + 2 * z_floats + d.batch * d.units));
  float* packed_recurrent = packed_kernel + kernel_floats;
  float* zx_rows = packed_recurrent + recurrent_floats;
  float* zh_rows = zx_rows + z_floats;
  float* h_rows = zh_rows + z_floats;
  pack_b_for_gemm(packed_kernel, kernel, d.features, cols);
  pack_b_for_gemm(packed_recurrent, recurrent_kernel, d.units, cols);
  const float* recurrent_bias = bias + cols;
  const std::size_t state_bytes = static_cast<std::size_t>(d.units) * sizeof(float);
  for_row_parts(d.batch, row_parts(d.batch), [&](std::int64_t, std::int64_t b0, std::int64_t b1) {
    const std::int64_t rows = b1 - b0;
    float* zx = zx_rows + b0 * cols;
    float* zh = zh_rows + b0 * cols;
    for (std::int64_t t = 0; t < d.steps; ++t) {
      const float* h_prev = t > 0 ? h_rows + b0 * d.units : (h0 != nullptr ? h0 + b0 * d.units : nullptr);
      Epilogue input;
      input.bias = bias;
      gemm_packed_b(zx, cols, {x + (b0 * d.steps + t) * d.features, d.steps * d.features, 1}, packed_kernel, rows, cols,
                    d.features, input);
      if (h_prev != nullptr) {
        Epilogue recurrent;
        recurrent.bias = recurrent_bias;
        gemm_packed_b(zh, cols, {h_prev, d.units, 1}, packed_recurrent, rows, cols, d.units, recurrent);
      }
      for (std::int64_t b = b0; b < b1; ++b) {
        const std::int64_t row = b * d.steps + t, i = b - b0;
        k.gru_cell(gates + row * d.width, h + row * d.units, zx + i * cols, h_prev ? zh + i * cols : nullptr,
                   recurrent_bias, h_prev ? h_prev + i * d.units : nullptr, d.units);
      }
      for (std::int64_t b = b0; b < b1; ++b)
        std::memcpy(h_rows + b * d.units, h + (b * d.steps + t) * d.units, state_bytes);
    }
  });
}

}  // namespace

void gru(float* h, float* gates, const float* x, MatrixView kernel, MatrixView recurrent_kernel, const float* bias,
         const float* h0, std::int64_t batch, std::int64_t steps, std::int64_t features, std::int64_t units) {
  gru_forward(h, gates, x, kernel, recurrent_kernel, bias, h0, {batch, steps, features, units, 4 * units},
              RANVIER_ISA_TABLE(rnn_kernels));
}

void gru_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0, const float* dh,
                  const float* dh_T, const float* x, MatrixView kernel, MatrixView recurrent_kernel, const float* h,
                  const float* gates, const float* h0, std::int64_t batch, std::int64_t steps, std::int64_t features,
                  std::int64_t units) {
  // dz (B,T,4U) = [dz dr dxh dxh*r]: the first three meet kernel (the input
  // pre-activations), columns (z, r) and the last recurrent_kernel.
  const Dims d = {batch, steps, features, units, 4 * units};
  const RnnKernels& k = RANVIER_ISA_TABLE(rnn_kernels);
  const MatrixView rt = recurrent_kernel.transposed();
  const MatrixView rt_candidate = {rt.data + 2 * units * rt.row_stride, rt.row_stride, rt.col_stride};
  const StateProducts state = {{StateProduct{0, 2 * units, rt}, StateProduct{3 * units, units, rt_candidate}}, 2, true};
  backward(
      dx, dh0, dh_T, x, {kernel.transposed(), 3 * units}, state, h, h0, d,
      [&](float* dz, std::int64_t b, std::int64_t t) {
        const std::int64_t row = b * steps + t;
        const float* h_prev = t > 0 ? h + (row - 1) * units : (h0 ? h0 + b * units : nullptr);
        k.gru_cell_backward(dz, dh0 + b * units, dh ? dh + row * units : nullptr, gates + row * d.width, h_prev, units);
      },
      [&](const float* dw) {
        // dw (F+U+1, 4U): x^T meets the input columns, h^T the recurrent ones, 1 both.
        const std::int64_t cols = 3 * units;
        const std::size_t input_bytes = static_cast<std::size_t>(cols) * sizeof(float);
        const std::size_t gate_bytes = static_cast<std::size_t>(units) * sizeof(float);
        for (std::int64_t f = 0; f < features; ++f) std::memcpy(dkernel + f * cols, dw + f * d.width, input_bytes);
        auto recurrent_row = [&](float* dst, const float* src) {
          std::memcpy(dst, src, 2 * gate_bytes);
          std::memcpy(dst + 2 * units, src + 3 * units, gate_bytes);
        };
        for (std::int64_t u = 0; u < units; ++u)
          recurrent_row(drecurrent_kernel + u * cols, dw + (features + u) * d.width);
        const float* ones = dw + (features + units) * d.width;
        std::memcpy(dbias, ones, input_bytes);
        recurrent_row(dbias + cols, ones);
      });
}

void lstm(float* h, float* c, float* gates, const float* x, MatrixView kernel, MatrixView recurrent_kernel,
          const float* bias, const float* h0, const float* c0, std::int64_t batch, std::int64_t steps,
          std::int64_t features, std::int64_t units) {
  const Dims d = {batch, steps, features, units, 4 * units};
  const RnnKernels& k = RANVIER_ISA_TABLE(rnn_kernels);
  forward(x, kernel, recurrent_kernel, bias, h, h0, Activation::none, d, nullptr,
          [&](const float* z, std::int64_t b, std::int64_t t) {
            const std::int64_t row = b * steps + t;
            const float* c_prev = t > 0 ? c + (row - 1) * units : (c0 ? c0 + b * units : nullptr);
            k.lstm_cell(gates + row * d.width, c + row * units, h + row * units, z, c_prev, units);
          });
}

void lstm_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0, float* dc0,
                   const float* dh, const float* dh_T, const float* dc_T, const float* x, MatrixView kernel,
                   MatrixView recurrent_kernel, const float* h, const float* c, const float* gates, const float* h0,
                   const float* c0, std::int64_t batch, std::int64_t steps, std::int64_t features, std::int64_t units) {
  const Dims d = {batch, steps, features, units, 4 * units};
  const RnnKernels& k = RANVIER_ISA_TABLE(rnn_kernels);
  // dc0 carries the gradient reaching c_t from step t+1, as dh0 does for h_t.
  copy_or_zero(dc0, dc_T, batch * units);
  backward(
      dx, dh0, dh_T, x, whole_input(kernel, d), whole_state(recurrent_kernel, d), h, h0, d,
      [&](float* dz, std::int64_t b, std::int64_t t) {
        const std::int64_t row = b * steps + t;
        const float* c_prev = t > 0 ? c + (row - 1) * units : (c0 ? c0 + b * units : nullptr);
        k.lstm_cell_backward(dz, dc0 + b * units, dh0 + b * units, dh ? dh + row * units : nullptr,
                             gates + row * d.width, c + row * units, c_prev, units);
      },
      copy_weight_gradients(dkernel, drecurrent_kernel, dbias, d));
}

void simple_rnn(float* h, const float* x, MatrixView kernel, MatrixView recurrent_kernel, const float* bias,
                const float* h0, std::int64_t batch, std::int64_t steps, std::int64_t features, std::int64_t units) {
  // The tanh is fused into the store of the step's GEMM, which writes h in
  // place: no cell step.
  forward(x, kernel, recurrent_kernel, bias, h, h0, Activation::tanh, {batch, steps, features, units, units}, h,
          [](const float*, std::int64_t, std::int64_t) {});
}

void simple_rnn_backward(float* dx, float* dkernel, float* drecurrent_kernel, float* dbias, float* dh0, const float* dh,
                         const float* dh_T, const float* x, MatrixView kernel, MatrixView recurrent_kernel,
                         const float* h, const float* h0, std::int64_t batch, std::int64_t steps, std::int64_t features,
                         std::int64_t units) {
  const RnnKernels& k = RANVIER_ISA_TABLE(rnn_kernels);
  const Dims d = {batch, steps, features, units, units};
  backward(
      dx, dh0, dh_T, x, whole_input(kernel, d), whole_state(recurrent_kernel, d), h, h0, d,
      [&](float* dz, std::int64_t b, std::int64_t t) {
        const std::int64_t row = b * steps + t;
        k.tanh_cell_backward(dz, dh0 + b * units, dh ? dh + row * units : nullptr, h + row * units, units);
      },
      copy_weight_gradients(dkernel, drecurrent_kernel, dbias, d));
}

}  // namespace ranvier::cpu
