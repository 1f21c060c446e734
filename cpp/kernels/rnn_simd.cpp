// Element-wise math of one recurrent step for one batch row, compiled once per ISA.
#include "rnn_kernels.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;

// n == kLanes for whole vectors, fewer for the tail; after inlining into the
// main loop the test folds away.
inline V load(const float* p, std::int64_t n) { return n == V::kLanes ? V::load(p) : V::load_partial(p, n); }
inline V load_or_zero(const float* p, std::int64_t n) { return p != nullptr ? load(p, n) : V::zero(); }
inline void store(V v, float* p, std::int64_t n) {
  if (n == V::kLanes) {
    v.store(p);
  } else {
    v.store_partial(p, n);
  }
}

// Calls body(j, n) over [0, units) in vectors of n lanes.
template <class Body>
inline void for_each_vector(std::int64_t units, Body body) {
  std::int64_t j = 0;
  for (; j + V::kLanes <= units; j += V::kLanes) body(j, V::kLanes);
  if (j < units) body(j, units - j);
}

void lstm_cell(float* gates, float* c, float* h, const float* z, const float* c_prev, std::int64_t units) {
  const float* zi = z;
  const float* zf = z + units;
  const float* zc = z + 2 * units;
  const float* zo = z + 3 * units;
  for_each_vector(units, [&](std::int64_t j, std::int64_t n) {
    V i = simd::sigmoid(load(zi + j, n)), f = simd::sigmoid(load(zf + j, n));
    V g = simd::tanh(load(zc + j, n)), o = simd::sigmoid(load(zo + j, n));
    V ct = fmadd(f, load_or_zero(c_prev ? c_prev + j : nullptr, n), i * g);
    store(i, gates + j, n);
    store(f, gates + units + j, n);
    store(g, gates + 2 * units + j, n);
    store(o, gates + 3 * units + j, n);
    store(ct, c + j, n);
    store(o * simd::tanh(ct), h + j, n);
  });
}

void lstm_cell_backward(float* dgates, float* dc, const float* dh_next, const float* dh_out, const float* gates,
                        const float* c, const float* c_prev, std::int64_t units) {
  const V one = V::set1(1.0f);
  for_each_vector(units, [&](std::int64_t j, std::int64_t n) {
    V i = load(gates + j, n), f = load(gates + units + j, n);
    V g = load(gates + 2 * units + j, n), o = load(gates + 3 * units + j, n);
    V dh = load(dh_next + j, n) + load_or_zero(dh_out ? dh_out + j : nullptr, n);
    V tc = simd::tanh(load(c + j, n));
    // dL/dc_t: from step t+1 and through h_t = o * tanh(c_t)
    V dct = fmadd(dh * o, fnmadd(tc, tc, one), load(dc + j, n));
    V cp = load_or_zero(c_prev ? c_prev + j : nullptr, n);
    store(dct * g * i * (one - i), dgates + j, n);
    store(dct * cp * f * (one - f), dgates + units + j, n);
    store(dct * i * fnmadd(g, g, one), dgates + 2 * units + j, n);
    store(dh * tc * o * (one - o), dgates + 3 * units + j, n);
    store(dct * f, dc + j, n);
  });
}

void gru_cell(float* gates, float* h, const float* zx, const float* zh, const float* recurrent_bias,
              const float* h_prev, std::int64_t units) {
  const float* hz = zh != nullptr ? zh : recurrent_bias;
  for_each_vector(units, [&](std::int64_t j, std::int64_t n) {
    V z = simd::sigmoid(load(zx + j, n) + load(hz + j, n));
    V r = simd::sigmoid(load(zx + units + j, n) + load(hz + units + j, n));
    V hn = load(hz + 2 * units + j, n);
    V hh = simd::tanh(fmadd(r, hn, load(zx + 2 * units + j, n)));
    store(z, gates + j, n);
    store(r, gates + units + j, n);
    store(hh, gates + 2 * units + j, n);
    store(hn, gates + 3 * units + j, n);
    // z * h_{t-1} + (1 - z) * hh; without h_{t-1} its term is skipped, not multiplied.
    V one_minus_z = V::set1(1.0f) - z;
    V out = h_prev != nullptr ? fmadd(z, load(h_prev + j, n), one_minus_z * hh) : one_minus_z * hh;
    store(out, h + j, n);
  });
}

void gru_cell_backward(float* dz, float* dh, const float* dh_out, const float* gates, const float* h_prev,
                       std::int64_t units) {
  const V one = V::set1(1.0f);
  for_each_vector(units, [&](std::int64_t j, std::int64_t n) {
    V z = load(gates + j, n), r = load(gates + units + j, n);
    V hh = load(gates + 2 * units + j, n), hn = load(gates + 3 * units + j, n);
    V d = load(dh + j, n) + load_or_zero(dh_out ? dh_out + j : nullptr, n);
    V hp = load_or_zero(h_prev ? h_prev + j : nullptr, n);
    V dxh = d * (one - z) * fnmadd(hh, hh, one);
    store(d * (hp - hh) * z * (one - z), dz + j, n);
    store(dxh * hn * r * (one - r), dz + units + j, n);
    store(dxh, dz + 2 * units + j, n);
    store(dxh * r, dz + 3 * units + j, n);
    store(d * z, dh + j, n);
  });
}

void tanh_cell_backward(float* dz, const float* dh_next, const float* dh_out, const float* h, std::int64_t units) {
  const V one = V::set1(1.0f);
  for_each_vector(units, [&](std::int64_t j, std::int64_t n) {
    V dh = load(dh_next + j, n) + load_or_zero(dh_out ? dh_out + j : nullptr, n);
    V hj = load(h + j, n);
    store(dh * fnmadd(hj, hj, one), dz + j, n);
  });
}

}  // namespace

extern const RnnKernels rnn_kernels = {lstm_cell, lstm_cell_backward, gru_cell, gru_cell_backward, tanh_cell_backward};

}  // namespace ranvier::cpu::RANVIER_ISA_NS
