// Arguments of attention and attention_backward (ranvier.ops.attention).
//
// Layout (B, H, L, D): q (B, H, Lq, D), k (B, H, Lk, D), v (B, H, Lk, Dv).
// q, k, v, dout and out are read in place with any strides; the bool mask
// broadcasts to (B, H, Lq, Lk) through stride 0 on its broadcast axes, so it
// is never copied either.
#pragma once

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "checks.h"
#include "ranvier/attention.h"

namespace ranvier::args {

template <class A>
struct AttentionArgs {
  A q, k, v;
  std::optional<A> mask;
  cpu::AttentionShape shape;
  cpu::AttentionView qv, kv, vv;
  cpu::AttentionMask maskv;
};

// A (B, H, L, D) float32 array of any strides, read in place.
template <class A>
cpu::AttentionView attention_view(const char* op, const char* name, const A& a) {
  return {a.template data<float>(), elem_stride(op, name, a, 0), elem_stride(op, name, a, 1),
          elem_stride(op, name, a, 2), elem_stride(op, name, a, 3)};
}

template <class A>
A attention_input(const char* op, const char* name, py::handle obj, const char* layout, int rank) {
  A a = A::read(op, name, obj);
  require_float32(op, name, a, layout, {rank});
  return a;
}

// The mask's view broadcast to `want` = (B, H, Lq, Lk): its axes align to the
// right, and an axis of size 1 (or a missing one) repeats through stride 0.
template <class A>
cpu::AttentionMask attention_mask(const char* op, const A& m, const Dims& want) {
  if (m.dtype() != DType::bool_) type_fail(op, "mask must be a bool array (True = attend), got " + describe(m));
  bool fits = m.ndim() <= 4;
  std::int64_t strides[4] = {0, 0, 0, 0};  // bool is one byte: byte strides are element strides
  for (int i = 0; fits && i < m.ndim(); ++i) {
    const int axis = 4 - m.ndim() + i;
    fits = m.shape(i) == want[axis] || m.shape(i) == 1;
    if (m.shape(i) != 1) strides[axis] = m.stride(i);
  }
  if (!fits) fail(op, "mask must broadcast to (B, H, Lq, Lk) = " + dims_str(want) + ", got " + describe(m));
  return {m.template data<std::uint8_t>(), strides[0], strides[1], strides[2], strides[3]};
}

// None: 1 / sqrt(d); otherwise a real number > 0 that is finite as a float32
// (the kernels' precision: 1e300 would become inf, 1e-50 zero).
inline float attention_scale(const char* op, py::handle s, std::int64_t d) {
  if (s.is_none()) return static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  double x = 0.0;
  if (!real_value(s, &x)) type_fail(op, "scale must be None or a real number, got " + type_name(s));
  if (!(x > 0.0 && x <= std::numeric_limits<float>::max() && static_cast<float>(x) > 0.0f))
    fail(op, "scale must be a finite float32 > 0, got " + std::string(py::str(py::float_(x))));
  return static_cast<float>(x);
}

// q, k, v, mask and scale, checked to agree.
template <class A>
AttentionArgs<A> attention_args(const char* op, py::handle q_obj, py::handle k_obj, py::handle v_obj,
                                py::handle mask_obj, bool causal, py::handle scale) {
  AttentionArgs<A> a{attention_input<A>(op, "q", q_obj, "(B, H, Lq, D)", 4),
                     attention_input<A>(op, "k", k_obj, "(B, H, Lk, D)", 4),
                     attention_input<A>(op, "v", v_obj, "(B, H, Lk, Dv)", 4)};
  const A &q = a.q, &k = a.k, &v = a.v;
  if (k.shape(0) != q.shape(0) || k.shape(1) != q.shape(1) || v.shape(0) != q.shape(0) || v.shape(1) != q.shape(1))
    fail(op, "q, k and v must share (B, H), got q " + shape_str(q) + ", k " + shape_str(k) + ", v " + shape_str(v));
  const std::int64_t d = q.shape(3);
  if (k.shape(3) != d) fail(op, "k must have the head dim D=" + std::to_string(d) + " of q, got k " + shape_str(k));
  if (v.shape(2) != k.shape(2))
    fail(op, "v must have the length Lk=" + std::to_string(k.shape(2)) + " of k, got v " + shape_str(v));
  if (d == 0) fail(op, "q and k must have a head dim D >= 1, got q " + shape_str(q));
  a.shape = {q.shape(0), q.shape(1), q.shape(2), k.shape(2), d, v.shape(3), 0.0f, causal};
  a.mask = read_optional<A>(op, "mask", mask_obj);
  if (a.mask) a.maskv = attention_mask(op, *a.mask, {a.shape.batch, a.shape.heads, a.shape.lq, a.shape.lk});
  a.shape.scale = attention_scale(op, scale, d);
  a.qv = attention_view(op, "q", q);
  a.kv = attention_view(op, "k", k);
  a.vv = attention_view(op, "v", v);
  return a;
}

// dout, out (B, H, Lq, Dv) and lse (B, H, Lq) of the forward; lse made dense.
template <class A>
struct AttentionGrad {
  A dout, out, lse;
  cpu::AttentionView doutv, outv;
  const float* lse_data;
};

template <class A>
AttentionGrad<A> attention_grad(const char* op, py::handle dout_obj, py::handle out_obj, py::handle lse_obj,
                                const cpu::AttentionShape& s) {
  AttentionGrad<A> g{attention_input<A>(op, "dout", dout_obj, "(B, H, Lq, Dv)", 4),
                     attention_input<A>(op, "out", out_obj, "(B, H, Lq, Dv)", 4),
                     attention_input<A>(op, "lse", lse_obj, "(B, H, Lq)", 3)};
  const std::pair<const char*, const A*> arrays[] = {{"dout", &g.dout}, {"out", &g.out}, {"lse", &g.lse}};
  for (const auto& [name, x] : arrays) {
    Dims want{s.batch, s.heads, s.lq, s.dv};
    if (x == &g.lse) want.pop_back();
    if (!has_dims(*x, want))
      fail(op, std::string(name) + " must be " + dims_str(want) + " float32 to match q and v, got " + describe(*x));
  }
  g.doutv = attention_view(op, "dout", g.dout);
  g.outv = attention_view(op, "out", g.out);
  g.lse_data = dense(g.lse);
  return g;
}

}  // namespace ranvier::args
