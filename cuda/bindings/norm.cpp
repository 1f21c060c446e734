// layer_norm and layer_norm_backward on (rows, d) contiguous CUDA arrays; the
// same call signatures as the _cpu module's (cpp/bindings/norm.cpp).
#include <utility>

#include "device_array.h"
#include "ranvier_cuda/norm.h"

namespace ranvier::bindings {

namespace {

// Rows and features of x (rows, d); d must be at least 1.
std::pair<std::int64_t, std::int64_t> rows_features(const char* op, const DeviceArray& x) {
  check_rank(op, "x", x, 2);
  if (x.shape[1] == 0) fail(op, "x must have at least one feature, got shape " + shape_str(x));
  return {x.shape[0], x.shape[1]};
}

void layer_norm(const py::object& y, const py::object& mean, const py::object& rstd,
                const py::object& x_obj, const py::object& gamma, const py::object& beta,
                float eps) {
  const char* op = "layer_norm";
  const DeviceArray x = device_array(op, "x", x_obj);
  const auto [rows, d] = rows_features(op, x);
  const float* gp = array_in(op, "gamma", gamma, {d});
  const float* bp = array_in(op, "beta", beta, {d});
  float* yp = array_out(op, "y", y, {rows, d});
  const float* xp = contiguous_in(op, "x", x);
  float* mp = optional_out(op, "mean", mean, {rows});
  float* rp = optional_out(op, "rstd", rstd, {rows});
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::layer_norm(yp, mp, rp, xp, gp, bp, rows, d, eps, stream);
  }
  check_cuda(op, err);
}

void layer_norm_backward(const py::object& dx, const py::object& dgamma, const py::object& dbeta,
                         const py::object& dy, const py::object& x_obj, const py::object& gamma,
                         const py::object& mean, const py::object& rstd) {
  const char* op = "layer_norm_backward";
  const DeviceArray x = device_array(op, "x", x_obj);
  const auto [rows, d] = rows_features(op, x);
  const float* dyp = array_in(op, "dy", dy, {rows, d});
  const float* gp = array_in(op, "gamma", gamma, {d});
  const float* mp = array_in(op, "mean", mean, {rows});
  const float* rp = array_in(op, "rstd", rstd, {rows});
  float* dxp = array_out(op, "dx", dx, {rows, d});
  float* dgp = array_out(op, "dgamma", dgamma, {d});
  float* dbp = array_out(op, "dbeta", dbeta, {d});
  const float* xp = contiguous_in(op, "x", x);
  float* partial = nullptr;  // per-chunk sums of dgamma and dbeta
  const py::object partial_owner =
      scratch_array(cuda::layer_norm_backward_scratch(rows, d), &partial);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::layer_norm_backward(dxp, dgp, dbp, partial, dyp, xp, gp, mp, rp, rows, d, stream);
  }
  check_cuda(op, err);
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("layer_norm", &layer_norm, py::arg("y"), py::arg("mean").none(true),
        py::arg("rstd").none(true), py::arg("x"), py::arg("gamma"), py::arg("beta"),
        py::arg("eps"),
        "y (rows, d) = layer norm of x (rows, d) with gamma, beta (d,); mean, rstd (rows,) or None");
  m.def("layer_norm_backward", &layer_norm_backward, py::arg("dx"), py::arg("dgamma"),
        py::arg("dbeta"), py::arg("dy"), py::arg("x"), py::arg("gamma"), py::arg("mean"),
        py::arg("rstd"),
        "dx (rows, d), dgamma, dbeta (d,) from dy, x (rows, d), gamma (d,), mean, rstd (rows,)");
}

}  // namespace ranvier::bindings
