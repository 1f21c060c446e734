// Arguments of softmax, log_softmax, their backward (rows along any axis) and
// softmax_cross_entropy (ranvier.ops.softmax).
#pragma once

#include <optional>
#include <string>

#include "losses.h"
#include "ranvier/softmax.h"

namespace ranvier::args {

// `axis` of an array of rank `ndim` >= 1, in [0, ndim).
inline int softmax_axis(const char* op, py::handle axis, int ndim) {
  std::int64_t a = 0;
  bool overflow = false;
  if (!int64_value(axis, &a, &overflow)) type_fail(op, "axis must be an int, got " + std::string(py::repr(axis)));
  if (overflow || a < -ndim || a >= ndim)
    fail(op, "axis " + std::string(py::str(axis)) + " is out of range for an array of rank " + std::to_string(ndim));
  return static_cast<int>(a < 0 ? a + ndim : a);
}

// An array seen as rows along `axis`: that axis moved last (a dense copy
// unless it is last already), so that the kernels read (rows, n).
template <class A>
struct Rows {
  A a;
  int axis;
  std::int64_t rows, n;
};

template <class A>
Rows<A> rows_along(const char* op, const char* name, A a, int axis) {
  const int last = a.ndim() - 1;
  if (axis != last) {
    py::tuple order(a.ndim());
    for (int i = 0, j = 0; i <= last; ++i)
      if (i != axis) order[j++] = py::int_(i);
    order[last] = py::int_(axis);
    a = A::read(op, name, a.object().attr("transpose")(order));
  }
  dense(a);
  const std::int64_t n = a.shape(last);
  return {a, axis, n == 0 ? 0 : size(a) / n, n};
}

// An output computed in the rows' layout, as a view with the axis moved back.
template <class A>
py::object unrows(const A& out, const Rows<A>& r) {
  const int last = out.ndim() - 1;
  if (r.axis == last) return out.object();
  py::tuple order(out.ndim());
  for (int i = 0, j = 0; i <= last; ++i) order[i] = py::int_(i == r.axis ? last : j++);
  return out.object().attr("transpose")(order);
}

// x of softmax and log_softmax, as rows along `axis`.
template <class A>
Rows<A> softmax_input(const char* op, py::handle x_obj, py::handle axis) {
  A x = A::read(op, "x", x_obj);
  require_float32(op, "x", x);
  if (x.ndim() == 0) fail(op, "x must have at least one axis, got a 0-d array");
  return rows_along(op, "x", x, softmax_axis(op, axis, x.ndim()));
}

// dy and y of the backward (y the forward's output), as rows along `axis`.
template <class A>
std::pair<Rows<A>, Rows<A>> softmax_grad_inputs(const char* op, py::handle dy_obj, py::handle y_obj, py::handle axis) {
  A dy = A::read(op, "dy", dy_obj), y = A::read(op, "y", y_obj);
  require_float32(op, "dy", dy);
  require_float32(op, "y", y);
  if (!has_dims(dy, dims(y)))
    fail(op, "dy and y must have the same shape, got " + shape_str(dy) + " and " + shape_str(y));
  if (y.ndim() == 0) fail(op, "y must have at least one axis, got a 0-d array");
  const int a = softmax_axis(op, axis, y.ndim());
  return {rows_along(op, "dy", dy, a), rows_along(op, "y", y, a)};
}

// logits (N, C) and labels of softmax_cross_entropy, dense: integer class
// indices (N,) of any integer dtype (as int64), or float32 probabilities (N, C).
// Each module checks the range of class indices its own way (the CPU in a
// pass, CUDA on the device); `any_nan` finds a NaN in probabilities.
template <class A>
struct CrossEntropyArgs {
  A logits;
  std::optional<A> index, prob;
  std::int64_t n, c;
  cpu::Labels labels;
  bool unsigned_labels = false;  // uint64 labels, read as int64: a label >= 2^63 is shown as itself
};

template <class A>
CrossEntropyArgs<A> cross_entropy_args(const char* op, py::handle logits_obj, py::handle labels_obj,
                                       bool (*any_nan)(const A&)) {
  CrossEntropyArgs<A> e{A::read(op, "logits", logits_obj)};
  require_float32(op, "logits", e.logits, "(N, C)", {2});
  e.n = e.logits.shape(0);
  e.c = e.logits.shape(1);
  if (e.c == 0) fail(op, "logits must have at least one class, got " + describe(e.logits));
  dense(e.logits);
  A labels = A::read(op, "labels", labels_obj);
  if (is_integer(labels.dtype())) {
    if (!has_dims(labels, {e.n}))
      fail(op, "integer labels must be " + dims_str({e.n}) + " to match logits " + dims_str({e.n, e.c}) + ", got " +
                   describe(labels));
    e.unsigned_labels = labels.dtype() == DType::uint64;
    if (labels.dtype() != DType::int64) {
      labels = A::read(op, "labels", labels.object().attr("astype")("int64"));
      A::note_copy();
    }
    e.labels.index = dense<std::int64_t>(labels);
    e.index = labels;
    return e;
  }
  if (labels.dtype() != DType::float32)
    type_fail(op, "labels must be integer class indices (N,) or float32 probabilities (N, C), got " + describe(labels));
  if (!has_dims(labels, {e.n, e.c}))
    fail(op, "probability labels must be " + dims_str({e.n, e.c}) + " to match logits, got " + describe(labels));
  e.labels.prob = dense(labels);
  if (any_nan(labels)) fail(op, "labels contain NaN");
  e.prob = labels;
  return e;
}

// "[op] labels must be class indices in [0, C), got <label> at position <i>".
template <class A>
[[noreturn]] void bad_label(const char* op, const CrossEntropyArgs<A>& e, std::int64_t label, std::int64_t row) {
  const std::string shown =
      e.unsigned_labels ? std::to_string(static_cast<std::uint64_t>(label)) : std::to_string(label);
  fail(op, "labels must be class indices in [0, " + std::to_string(e.c) + "), got " + shown + " at position " +
               std::to_string(row));
}

}  // namespace ranvier::args
