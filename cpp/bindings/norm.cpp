// layer_norm and layer_norm_backward on (rows, d) contiguous float32 arrays.
#include <pybind11/stl.h>

#include "array_args.h"
#include "ranvier/norm.h"

namespace ranvier::bindings {

namespace {

// Rows and features of x (rows, d); d must be at least 1.
std::pair<std::int64_t, std::int64_t> rows_features(const char* op, const Array& x) {
  check_rank(op, "x", x, 2);
  if (x.shape(1) == 0) fail(op, "x must have at least one feature, got shape " + shape_str(x));
  return {x.shape(0), x.shape(1)};
}

void layer_norm(Array y, OptionalArray mean, OptionalArray rstd, const Array& x, const Array& gamma,
                const Array& beta, float eps) {
  const char* op = "layer_norm";
  auto [rows, d] = rows_features(op, x);
  check_shape(op, "gamma", gamma, {d});
  check_shape(op, "beta", beta, {d});
  check_shape(op, "y", y, {rows, d});
  const float* xp = contiguous_in(op, "x", x);
  const float* gp = contiguous_in(op, "gamma", gamma);
  const float* bp = contiguous_in(op, "beta", beta);
  float* yp = contiguous_out(op, "y", y);
  float* mp = optional_out(op, "mean", mean, {rows});
  float* rp = optional_out(op, "rstd", rstd, {rows});
  py::gil_scoped_release release;
  cpu::layer_norm(yp, mp, rp, xp, gp, bp, rows, d, eps);
}

void layer_norm_backward(Array dx, Array dgamma, Array dbeta, const Array& dy, const Array& x,
                         const Array& gamma, const Array& mean, const Array& rstd) {
  const char* op = "layer_norm_backward";
  auto [rows, d] = rows_features(op, x);
  check_shape(op, "dy", dy, {rows, d});
  check_shape(op, "gamma", gamma, {d});
  check_shape(op, "mean", mean, {rows});
  check_shape(op, "rstd", rstd, {rows});
  check_shape(op, "dx", dx, {rows, d});
  check_shape(op, "dgamma", dgamma, {d});
  check_shape(op, "dbeta", dbeta, {d});
  const float* dyp = contiguous_in(op, "dy", dy);
  const float* xp = contiguous_in(op, "x", x);
  const float* gp = contiguous_in(op, "gamma", gamma);
  const float* mp = contiguous_in(op, "mean", mean);
  const float* rp = contiguous_in(op, "rstd", rstd);
  float* dxp = contiguous_out(op, "dx", dx);
  float* dgp = contiguous_out(op, "dgamma", dgamma);
  float* dbp = contiguous_out(op, "dbeta", dbeta);
  py::gil_scoped_release release;
  cpu::layer_norm_backward(dxp, dgp, dbp, dyp, xp, gp, mp, rp, rows, d);
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("layer_norm", &layer_norm, py::arg("y").noconvert(), py::arg("mean").noconvert(),
        py::arg("rstd").noconvert(), py::arg("x").noconvert(), py::arg("gamma").noconvert(),
        py::arg("beta").noconvert(), py::arg("eps"),
        "y (rows, d) = layer norm of x (rows, d) with gamma, beta (d,); mean, rstd (rows,) or None");
  m.def("layer_norm_backward", &layer_norm_backward, py::arg("dx").noconvert(),
        py::arg("dgamma").noconvert(), py::arg("dbeta").noconvert(), py::arg("dy").noconvert(),
        py::arg("x").noconvert(), py::arg("gamma").noconvert(), py::arg("mean").noconvert(),
        py::arg("rstd").noconvert(),
        "dx (rows, d), dgamma, dbeta (d,) from dy, x (rows, d), gamma (d,), mean, rstd (rows,)");
}

}  // namespace ranvier::bindings
