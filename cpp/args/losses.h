// Arguments every loss shares (ranvier.ops.losses, and softmax_cross_entropy
// in ranvier.ops.softmax): the reduction, the upstream gradient dloss of a
// backward, and the pred/target pair of mse and binary_cross_entropy.
//
// A loss computes one loss per sample (row): reduction "none" gives the (N,)
// losses, "mean" and "sum" a 0-d array.
#pragma once

#include <optional>
#include <string>

#include "checks.h"
#include "ranvier/losses.h"

namespace ranvier::args {

inline const char* reduction_name(Reduction r) {
  return r == Reduction::none ? "none" : r == Reduction::mean ? "mean" : "sum";
}

inline Reduction reduction(const char* op, py::handle v) {
  if (PyUnicode_Check(v.ptr())) {
    for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none})
      if (PyUnicode_CompareWithASCIIString(v.ptr(), reduction_name(r)) == 0) return r;
  }
  fail(op, "reduction must be one of 'mean', 'sum', 'none', got " + std::string(py::repr(v)));
}

// The loss of `n` samples: (N,) for "none", else 0-d.
template <class A>
A loss_output(Reduction r, std::int64_t n) {
  return A::empty(r == Reduction::none ? Dims{n} : Dims{});
}

// What a backward kernel scales sample i's gradient by: scale * dloss[i], or
// scale alone when dloss is absent.
template <class A>
struct Upstream {
  std::optional<A> dloss;  // (N,), dense
  float scale;
};

// dloss is a scalar for "mean" and "sum"; for "none" an (N,) float32 array or
// a scalar for every sample. A scalar may also be a size-1 array.
template <class A>
Upstream<A> upstream_gradient(const char* op, py::handle dloss, Reduction r, std::int64_t n) {
  double value = 0.0;
  if (!real_value(dloss, &value)) {
    A a = A::read(op, "dloss", dloss);
    require_float32(op, "dloss", a);
    if (r == Reduction::none && has_dims(a, {n})) {
      dense(a);
      return {a, 1.0f};
    }
    if (size(a) != 1) {
      const std::string want = r == Reduction::none ? "a scalar or " + dims_str({n}) : "a scalar";
      fail(op, "dloss must be " + want + " for reduction '" + reduction_name(r) + "', got " + describe(a));
    }
    value = a.object().attr("item")().template cast<double>();  // a device array's value is copied here
  }
  if (r == Reduction::mean) value = n > 0 ? value / static_cast<double>(n) : 0.0;
  return {std::nullopt, static_cast<float>(value)};
}

// pred and target (N, ...) of one shape, dense, seen as (N, D), and the
// reduction of mse and binary_cross_entropy; `out` is the output the call
// allocates: the loss for a forward, dpred for a backward (with `up`).
template <class A>
struct LossArgs {
  A pred, target;
  std::int64_t n, d;
  Reduction reduction;
  A out;
  Upstream<A> up;
};

template <class A>
LossArgs<A> loss_args(const char* op, py::handle pred_obj, py::handle target_obj, py::handle reduction_obj,
                      std::optional<py::handle> dloss = std::nullopt) {
  const Reduction r = reduction(op, reduction_obj);
  A pred = A::read(op, "pred", pred_obj), target = A::read(op, "target", target_obj);
  require_float32(op, "pred", pred);
  require_float32(op, "target", target);
  if (pred.ndim() == 0) fail(op, "pred must be (N, ...) with a batch axis, got a 0-d array");
  if (!has_dims(target, dims(pred)))
    fail(op, "pred and target must have the same shape, got " + shape_str(pred) + " and " + shape_str(target));
  const std::int64_t n = pred.shape(0);
  std::int64_t d = 1;
  for (int i = 1; i < pred.ndim(); ++i) d *= pred.shape(i);
  if (d == 0 && n != 0) fail(op, "pred must have at least one element per sample, got " + describe(pred));
  dense(pred);
  dense(target);
  if (!dloss) return {pred, target, n, d, r, loss_output<A>(r, n), {std::nullopt, 1.0f}};
  Upstream<A> up = upstream_gradient<A>(op, *dloss, r, n);
  return {pred, target, n, d, r, A::empty(dims(pred)), up};
}

}  // namespace ranvier::args
