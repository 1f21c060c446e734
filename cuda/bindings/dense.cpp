// matmul, linear and linear_backward on CUDA arrays; the same call signatures
// as the _cpu module's (cpp/bindings/dense.cpp).
#include <string>

#include "device_array.h"
#include "ranvier_cuda/gemm.h"

namespace ranvier::bindings {

namespace {

// A batch of matrices (batch, rows, cols) with any strides (0 broadcasts).
struct BatchView {
  cpu::MatrixView matrix;
  std::int64_t batch_stride;
};

BatchView batch_view(const char* op, const char* name, const DeviceArray& a) {
  check_rank(op, name, a, 3);
  return {{a.data, a.strides[1], a.strides[2]}, a.strides[0]};
}

void matmul(const py::object& out, const py::object& a_obj, const py::object& b_obj) {
  const char* op = "matmul";
  const DeviceArray a = device_array(op, "a", a_obj), b = device_array(op, "b", b_obj);
  const DeviceArray c = device_array(op, "out", out);
  const BatchView av = batch_view(op, "a", a), bv = batch_view(op, "b", b);
  const std::int64_t batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2];
  check_shape(op, "b", b, {batch, k, n});
  check_shape(op, "out", c, {batch, m, n});
  float* cp = contiguous_out(op, "out", c);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::matmul(cp, av.matrix, av.batch_stride, bv.matrix, bv.batch_stride, batch, m, n,
                       k, stream);
  }
  check_cuda(op, err);
}

void linear(const py::object& y_obj, const py::object& x_obj, const py::object& w_obj,
            const py::object& b_obj, const std::string& act_name) {
  const char* op = "linear";
  const Activation act = activation_arg(op, act_name);
  const DeviceArray x = device_array(op, "x", x_obj), w = device_array(op, "w", w_obj);
  const DeviceArray y = device_array(op, "y", y_obj);
  const cpu::MatrixView xv = matrix_view(op, "x", x), wv = matrix_view(op, "w", w);
  const std::int64_t rows = x.shape[0], in = x.shape[1], out = w.shape[1];
  check_shape(op, "w", w, {in, out});
  check_shape(op, "y", y, {rows, out});
  const float* bp = nullptr;
  if (!b_obj.is_none()) {
    const DeviceArray b = device_array(op, "b", b_obj);
    check_shape(op, "b", b, {out});
    bp = contiguous_in(op, "b", b);
  }
  float* yp = contiguous_out(op, "y", y);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::linear(yp, xv, wv, bp, rows, in, out, act, stream);
  }
  check_cuda(op, err);
}

void linear_backward(const py::object& dx_obj, const py::object& dw_obj, const py::object& db_obj,
                     const py::object& dy_obj, const py::object& saved_obj,
                     const py::object& x_obj, const py::object& w_obj,
                     const std::string& act_name) {
  const char* op = "linear_backward";
  const Activation act = activation_arg(op, act_name);
  const DeviceArray x = device_array(op, "x", x_obj), w = device_array(op, "w", w_obj);
  const DeviceArray dy = device_array(op, "dy", dy_obj);
  const cpu::MatrixView xv = matrix_view(op, "x", x), wv = matrix_view(op, "w", w);
  const std::int64_t rows = x.shape[0], in = x.shape[1], out = w.shape[1];
  check_shape(op, "w", w, {in, out});
  check_shape(op, "dy", dy, {rows, out});
  const float* dyp = contiguous_in(op, "dy", dy);
  const float* sp = nullptr;
  if (act != Activation::none) {
    if (saved_obj.is_none())
      fail(op, std::string("activation '") + act_name + "' needs the saved forward array");
    const DeviceArray saved = device_array(op, "saved", saved_obj);
    check_shape(op, "saved", saved, {rows, out});
    sp = contiguous_in(op, "saved", saved);
  }
  float* dxp = optional_out(op, "dx", dx_obj, {rows, in});
  float* dwp = optional_out(op, "dw", dw_obj, {in, out});
  float* dbp = optional_out(op, "db", db_obj, {out});

  // dz = act'(saved) * dy needs a (rows, out) buffer unless act is none.
  float* dz = nullptr;
  py::object dz_owner;
  if (act != Activation::none && (dxp || dwp || dbp)) dz_owner = scratch_array(rows * out, &dz);

  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::linear_backward(dxp, dwp, dbp, dz, dyp, sp, xv, wv, rows, in, out, act, stream);
  }
  check_cuda(op, err);
}

}  // namespace

void bind_dense(py::module_& m) {
  m.def("matmul", &matmul, py::arg("out"), py::arg("a"), py::arg("b"),
        "out (batch, m, n) = a (batch, m, k) @ b (batch, k, n); a and b may have any strides");
  m.def("linear", &linear, py::arg("y"), py::arg("x"), py::arg("w"), py::arg("b").none(true),
        py::arg("activation"), "y (rows, out) = act(x (rows, in) @ w (in, out) + b (out,))");
  m.def("linear_backward", &linear_backward, py::arg("dx").none(true), py::arg("dw").none(true),
        py::arg("db").none(true), py::arg("dy"), py::arg("saved").none(true), py::arg("x"),
        py::arg("w"), py::arg("activation"),
        "dx (rows, in), dw (in, out), db (out,) from dy (rows, out); saved is y, or z for gelu");
}

}  // namespace ranvier::bindings
