// Per-ISA entry points of the rnn family (see rnn_simd.cpp): the element-wise
// math of one step for one batch row. The GEMMs around them are in rnn.cpp.
#pragma once

#include <cstdint>

#include "isa_table.h"

namespace ranvier::cpu {

struct RnnKernels {
  // z (4U): pre-activations [z_i z_f z_c z_o]; c_prev (U) or null for zeros
  // -> gates (4U), the activations [i f g o]; c (U), h (U).
  void (*lstm_cell)(float* gates, float* c, float* h, const float* z, const float* c_prev, std::int64_t units);
  // One step back. dh_out (U) or null: gradient of this step's output;
  // dh_next (U): gradient reaching h_t through the recurrence; dc (U) in: the
  // gradient reaching c_t from step t+1, out: that reaching c_{t-1}.
  // gates [i f g o] (4U), c (U), c_prev (U) or null -> dgates (4U), the
  // gradient of the pre-activations [z_i z_f z_c z_o].
  void (*lstm_cell_backward)(float* dgates, float* dc, const float* dh_next, const float* dh_out, const float* gates,
                             const float* c, const float* c_prev, std::int64_t units);
  // zx (3U): [xz xr xh], the input pre-activations with bias[0]; zh (3U):
  // [hz hr hn] with bias[1], or null when h_prev is (zero state: zh is
  // recurrent_bias (3U) then); h_prev (U) or null -> gates (4U) [z r hh hn], h (U).
  void (*gru_cell)(float* gates, float* h, const float* zx, const float* zh, const float* recurrent_bias,
                   const float* h_prev, std::int64_t units);
  // One GRU step back. dh (U) in: the gradient reaching h_t through the
  // recurrence, out: its direct part of that reaching h_{t-1}, z * dh_t;
  // dh_out (U) or null; gates [z r hh hn] (4U), h_prev (U) or null
  // -> dz (4U) [dz dr dxh dxh*r]: the gradients of the input pre-activations
  // [xz xr xh], then dxh*r that of hn.
  void (*gru_cell_backward)(float* dz, float* dh, const float* dh_out, const float* gates, const float* h_prev,
                            std::int64_t units);
  // dz (U) = (dh_out + dh_next) * (1 - h^2); dh_out (U) or null.
  void (*tanh_cell_backward)(float* dz, const float* dh_next, const float* dh_out, const float* h, std::int64_t units);
};

RANVIER_DECLARE_ISA_TABLE(RnnKernels, rnn_kernels)

}  // namespace ranvier::cpu
