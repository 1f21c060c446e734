// Arguments of layer_norm and layer_norm_backward (ranvier.ops.norm).
//
// x (..., D) is normalised over its last axis: the kernels see it as dense
// (rows, D), and the statistics mean, rstd have x's shape without its last axis.
#pragma once

#include <string>

#include "checks.h"

namespace ranvier::args {

// x (..., D) with D >= 1, made dense.
template <class A>
struct NormInput {
  A x;
  std::int64_t rows, d;
  Dims stats_dims;  // x.shape[:-1]
  const float* data;
};

template <class A>
NormInput<A> norm_input(const char* op, py::handle obj) {
  NormInput<A> in{A::read(op, "x", obj)};
  require_float32(op, "x", in.x);
  if (in.x.ndim() < 1 || in.x.shape(in.x.ndim() - 1) == 0)
    fail(op, "x must be (..., D) float32 with D >= 1, got " + describe(in.x));
  in.d = in.x.shape(in.x.ndim() - 1);
  in.rows = size(in.x) / in.d;
  in.stats_dims = dims(in.x);
  in.stats_dims.pop_back();
  in.data = dense(in.x);
  return in;
}

// gamma or beta: (D,) float32 to match x, dense.
template <class A>
A norm_vector(const char* op, const char* name, py::handle obj, const NormInput<A>& in) {
  A a = A::read(op, name, obj);
  require_float32(op, name, a, "(D,)", {1});
  if (a.shape(0) != in.d)
    fail(op, std::string(name) + " must be " + dims_str({in.d}) + " to match x " + shape_str(in.x) + ", got " +
                 shape_str(a));
  dense(a);
  return a;
}

// dy, mean or rstd: a float32 array of exactly `want`'s shape, dense.
template <class A>
A norm_matching(const char* op, const char* name, py::handle obj, const Dims& want, const char* why) {
  A a = A::read(op, name, obj);
  require_float32(op, name, a);
  if (!has_dims(a, want))
    fail(op, std::string(name) + " must be " + dims_str(want) + " float32" + why + ", got " + describe(a));
  dense(a);
  return a;
}

template <class A>
struct LayerNormArgs {
  NormInput<A> x;
  A gamma, beta;
  float eps;
};

template <class A>
LayerNormArgs<A> layer_norm_args(const char* op, py::handle x, py::handle gamma, py::handle beta, py::handle eps) {
  NormInput<A> in = norm_input<A>(op, x);
  A g = norm_vector<A>(op, "gamma", gamma, in), b = norm_vector<A>(op, "beta", beta, in);
  const float e = static_cast<float>(real(op, "eps", eps, 0.0));
  return {std::move(in), std::move(g), std::move(b), e};
}

template <class A>
struct LayerNormBackwardArgs {
  NormInput<A> x;
  A dy, gamma, mean, rstd;
};

template <class A>
LayerNormBackwardArgs<A> layer_norm_backward_args(const char* op, py::handle dy, py::handle x, py::handle gamma,
                                                  py::handle mean, py::handle rstd) {
  NormInput<A> in = norm_input<A>(op, x);
  A dya = norm_matching<A>(op, "dy", dy, dims(in.x), " to match x");
  A g = norm_vector<A>(op, "gamma", gamma, in);
  const char* stats = " (x's shape without its last axis)";
  A m = norm_matching<A>(op, "mean", mean, in.stats_dims, stats);
  A r = norm_matching<A>(op, "rstd", rstd, in.stats_dims, stats);
  return {std::move(in), std::move(dya), std::move(g), std::move(m), std::move(r)};
}

}  // namespace ranvier::args
