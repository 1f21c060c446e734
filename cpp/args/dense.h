// Arguments of matmul, linear and linear_backward (ranvier.ops.dense).
//
// matmul follows NumPy's rules (1-D operands, broadcast batch axes) and reads
// its operands in place with their strides; linear takes x (..., in) as
// (rows, in) rows, w (in, out), b (out,).
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "checks.h"

namespace ranvier::args {

// ---- matmul ------------------------------------------------------------------

// An operand as NumPy's matmul sees it: transposed when asked, a vector
// promoted to a (1, k) row (a) or a (k, 1) column (b); strides in elements.
// Fixed arrays, not vectors: a small product's call costs about as much as
// its arithmetic, and NumPy and CuPy arrays have at most 64 axes.
struct MatmulOperand {
  static constexpr int kMaxRank = 64;
  int rank;
  std::int64_t shape[kMaxRank], strides[kMaxRank];
  const float* data;
  Dims dims() const { return Dims(shape, shape + rank); }
};

template <class A>
void matmul_operand(const char* op, const char* name, const A& a, bool transpose, bool is_left, MatmulOperand* o) {
  if (a.ndim() > MatmulOperand::kMaxRank) fail(op, std::string(name) + " has more than 64 axes");
  o->data = a.template data<float>();
  o->rank = a.ndim();
  for (int i = 0; i < o->rank; ++i) o->shape[i] = a.shape(i), o->strides[i] = elem_stride(op, name, a, i);
  const int r = o->rank;
  if (r == 1) {  // NumPy's a[None, :] and b[:, None]: the new axis has stride 0
    const int old = is_left ? 1 : 0;
    o->shape[old] = o->shape[0], o->strides[old] = o->strides[0];
    o->shape[1 - old] = 1, o->strides[1 - old] = 0;
    o->rank = 2;
  } else if (transpose) {
    std::swap(o->shape[r - 2], o->shape[r - 1]);
    std::swap(o->strides[r - 2], o->strides[r - 1]);
  }
}

// The broadcast batch as `outer` products (any strides, looped over) of
// `inner` matrices each (one stride per operand, so one kernel call).
template <class A>
struct MatmulArgs {
  A a, b;
  std::int64_t m, n, k;
  Dims out_dims;                   // NumPy's result shape
  cpu::MatrixView a_view, b_view;  // the first matrix of each
  Dims outer, a_outer, b_outer;    // outer axes: sizes and strides
  std::int64_t inner, a_inner, b_inner;
  bool empty_batch;
};

template <class A>
MatmulArgs<A> matmul_args(const char* op, py::handle a_obj, py::handle b_obj, bool transpose_a, bool transpose_b) {
  MatmulArgs<A> p{A::read(op, "a", a_obj), A::read(op, "b", b_obj)};
  require_float32(op, "a", p.a);
  require_float32(op, "b", p.b);
  if (p.a.ndim() == 0 || p.b.ndim() == 0)
    fail(op, "operands must have at least one axis, got a " + shape_str(p.a) + " and b " + shape_str(p.b));
  MatmulOperand a, b;
  matmul_operand(op, "a", p.a, transpose_a, true, &a);
  matmul_operand(op, "b", p.b, transpose_b, false, &b);
  const int ra = a.rank, rb = b.rank;
  p.m = a.shape[ra - 2], p.k = a.shape[ra - 1], p.n = b.shape[rb - 1];
  if (b.shape[rb - 2] != p.k)
    fail(op, "inner dimensions differ: a is " + dims_str(a.dims()) + " (k=" + std::to_string(p.k) + "), b is " +
                 dims_str(b.dims()) + " (k=" + std::to_string(b.shape[rb - 2]) + ")");
  p.a_view = {a.data, a.strides[ra - 2], a.strides[ra - 1]};
  p.b_view = {b.data, b.strides[rb - 2], b.strides[rb - 1]};

  // Broadcast the batch axes (right-aligned, stride 0 where an operand has 1).
  const int batch = std::max(ra, rb) - 2;
  std::int64_t sizes[MatmulOperand::kMaxRank], sa[MatmulOperand::kMaxRank], sb[MatmulOperand::kMaxRank];
  p.out_dims.reserve(batch + 2);
  for (int i = 0; i < batch; ++i) {
    const int ia = i + ra - 2 - batch, ib = i + rb - 2 - batch;
    const std::int64_t da = ia >= 0 ? a.shape[ia] : 1, db = ib >= 0 ? b.shape[ib] : 1;
    if (da != db && da != 1 && db != 1)
      fail(op, "batch axes do not broadcast: a is " + dims_str(a.dims()) + ", b is " + dims_str(b.dims()));
    sizes[i] = da == 1 ? db : da;
    sa[i] = da != 1 ? a.strides[ia] : 0;
    sb[i] = db != 1 ? b.strides[ib] : 0;
    p.out_dims.push_back(sizes[i]);
  }
  if (p.a.ndim() > 1) p.out_dims.push_back(p.m);  // less the axis of a vector operand
  if (p.b.ndim() > 1) p.out_dims.push_back(p.n);

  // Collapse the batch from the right while both operands keep one stride.
  p.empty_batch = false;
  p.inner = 1, p.a_inner = 0, p.b_inner = 0;
  int i = batch - 1;
  for (bool first = true; i >= 0; --i) {
    if (sizes[i] == 0) p.empty_batch = true;
    if (sizes[i] == 1) continue;
    if (first) {
      p.a_inner = sa[i], p.b_inner = sb[i], first = false;
    } else if (sa[i] != p.a_inner * p.inner || sb[i] != p.b_inner * p.inner) {
      break;
    }
    p.inner *= sizes[i];
  }
  for (int j = 0; j <= i; ++j) {
    if (sizes[j] == 0) p.empty_batch = true;
    if (sizes[j] == 1) continue;
    p.outer.push_back(sizes[j]);
    p.a_outer.push_back(sa[j]);
    p.b_outer.push_back(sb[j]);
  }
  return p;
}

// call(c, a, a_batch_stride, b, b_batch_stride, count) once per outer index:
// the kernel's batched product over the inner matrices. c (..., m, n) dense.
template <class A, class Call>
void for_each_batch(const MatmulArgs<A>& p, float* c, Call call) {
  if (p.empty_batch) return;
  Dims index(p.outer.size(), 0);
  const std::int64_t c_step = p.inner * p.m * p.n;
  for (;;) {
    cpu::MatrixView a = p.a_view, b = p.b_view;
    for (std::size_t d = 0; d < index.size(); ++d) a.data += index[d] * p.a_outer[d], b.data += index[d] * p.b_outer[d];
    call(c, a, p.a_inner, b, p.b_inner, p.inner);
    c += c_step;
    std::ptrdiff_t d = static_cast<std::ptrdiff_t>(index.size()) - 1;
    for (; d >= 0 && ++index[d] == p.outer[d]; --d) index[d] = 0;
    if (d < 0) return;
  }
}

// ---- linear ------------------------------------------------------------------

template <class A>
struct LinearArgs {
  Activation act;
  A x, w;
  std::optional<A> b;
  std::int64_t rows, in, out;
  cpu::MatrixView x_view, w_view;  // any strides
  const float* bias;               // dense, or null
  Dims y_dims;                     // x's leading axes, then out
};

// x (..., in) as (rows, in): its leading axes merged in place when their
// strides allow it (as NumPy's reshape does), else copied dense once.
template <class A>
cpu::MatrixView rows_view(const char* op, const char* name, A& x) {
  if (x.ndim() == 2) return matrix_view(op, name, x);
  const int last = x.ndim() - 1;
  const std::int64_t col = elem_stride(op, name, x, last);
  std::int64_t row = x.shape(last) * col, span = 1;
  for (int i = last - 1; i >= 0; --i) {
    if (x.shape(i) == 1) continue;
    const std::int64_t s = elem_stride(op, name, x, i);
    if (span == 1) {
      row = s;
    } else if (s != row * span) {
      dense(x);
      return {x.template data<float>(), x.shape(last), 1};
    }
    span *= x.shape(i);
  }
  return {x.template data<float>(), row, col};
}

template <class A>
LinearArgs<A> linear_args(const char* op, py::handle x_obj, py::handle w_obj, py::handle b_obj, py::handle act_obj) {
  const Activation act = activation(op, act_obj);
  LinearArgs<A> a{act, A::read(op, "x", x_obj), A::read(op, "w", w_obj), read_optional<A>(op, "b", b_obj)};
  require_float32(op, "x", a.x);
  if (a.x.ndim() < 1) fail(op, "x must be (..., in) float32, got " + describe(a.x));
  require_float32(op, "w", a.w, "(in, out)", {2});
  if (a.b) require_float32(op, "b", *a.b, "(out,)", {1});
  a.in = a.w.shape(0), a.out = a.w.shape(1);
  const std::int64_t features = a.x.shape(a.x.ndim() - 1);
  if (features != a.in)
    fail(op, "x has " + std::to_string(features) + " features on its last axis but w is " + shape_str(a.w) +
                 " (expects in=" + std::to_string(a.in) + ")");
  if (a.b && a.b->shape(0) != a.out)
    fail(op, "b must be (" + std::to_string(a.out) + ",) to match w " + shape_str(a.w) + ", got " + shape_str(*a.b));
  a.y_dims = dims(a.x);
  a.y_dims.back() = a.out;
  a.rows = 1;
  for (int i = 0; i < a.x.ndim() - 1; ++i) a.rows *= a.x.shape(i);
  a.x_view = rows_view(op, "x", a.x);
  a.w_view = matrix_view(op, "w", a.w);
  a.bias = dense(a.b);
  return a;
}

// linear's arguments, dy dense and the array the activation's derivative
// needs: z (the pre-activation) where derivative_needs_input (gelu, silu, softplus, softsign), else y.
// need_dx false: no dx is computed (the input is data, not a weight's output).
template <class A>
struct LinearBackwardArgs : LinearArgs<A> {
  std::optional<A> dy, saved;
  const float* dy_data;
  const float* saved_data;  // null without an activation
  bool need_dx;
};

template <class A>
LinearBackwardArgs<A> linear_backward_args(const char* op, py::handle dy_obj, py::handle x_obj, py::handle w_obj,
                                           py::handle act_obj, py::handle y_obj, py::handle z_obj,
                                           py::handle need_dx_obj) {
  LinearBackwardArgs<A> a{linear_args<A>(op, x_obj, w_obj, py::none(), act_obj)};
  a.need_dx = flag(op, "need_dx", need_dx_obj);
  const Activation act = a.act;
  a.dy = A::read(op, "dy", dy_obj);
  require_float32(op, "dy", *a.dy);
  if (!has_dims(*a.dy, a.y_dims))
    fail(op, "dy must be " + dims_str(a.y_dims) + " float32 to match x and w, got " + describe(*a.dy));
  a.dy_data = dense(*a.dy);
  a.saved = saved_for_backward<A>(op, act, y_obj, z_obj, a.y_dims);
  a.saved_data = data_or_null(a.saved);
  return a;
}

}  // namespace ranvier::args
