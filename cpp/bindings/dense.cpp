// matmul, linear and linear_backward.
#include <pybind11/stl.h>

#include <string>

#include "array_args.h"
#include "output_array.h"

namespace ranvier::bindings {

namespace {

// A batch of matrices (batch, rows, cols) with any strides (0 broadcasts).
struct BatchView {
  cpu::MatrixView matrix;
  std::int64_t batch_stride;
};

BatchView batch_view(const char* op, const char* name, const Array& a) {
  check_rank(op, name, a, 3);
  return {{a.data(), elem_stride(op, name, a, 1), elem_stride(op, name, a, 2)},
          elem_stride(op, name, a, 0)};
}

void matmul(Array c, const Array& a, const Array& b) {
  const char* op = "matmul";
  BatchView av = batch_view(op, "a", a), bv = batch_view(op, "b", b);
  const std::int64_t batch = a.shape(0), m = a.shape(1), k = a.shape(2), n = b.shape(2);
  check_shape(op, "b", b, {batch, k, n});
  check_shape(op, "out", c, {batch, m, n});
  float* cp = contiguous_out(op, "out", c);
  py::gil_scoped_release release;
  cpu::matmul(cp, av.matrix, av.batch_stride, bv.matrix, bv.batch_stride, batch, m, n, k);
}

// The common 2-D product, its output allocated here: for small matrices the
// Python-side allocation and batch views cost as much as the product.
py::array_t<float> matmul_2d(const Array& a, const Array& b) {
  const char* op = "matmul";
  const cpu::MatrixView av = matrix_view(op, "a", a), bv = matrix_view(op, "b", b);
  const std::int64_t m = a.shape(0), k = a.shape(1), n = b.shape(1);
  check_shape(op, "b", b, {k, n});
  py::array_t<float> c = new_output({m, n});
  float* cp = c.mutable_data();
  py::gil_scoped_release release;
  cpu::matmul(cp, av, 0, bv, 0, 1, m, n, k);
  return c;
}

void linear(Array y, const Array& x, const Array& w, const OptionalArray& b,
            const std::string& act_name) {
  const char* op = "linear";
  Activation act = activation_arg(op, act_name);
  cpu::MatrixView xv = matrix_view(op, "x", x), wv = matrix_view(op, "w", w);
  const std::int64_t rows = x.shape(0), in = x.shape(1), out = w.shape(1);
  check_shape(op, "w", w, {in, out});
  check_shape(op, "y", y, {rows, out});
  const float* bp = nullptr;
  if (b) {
    check_shape(op, "b", *b, {out});
    bp = contiguous_in(op, "b", *b);
  }
  float* yp = contiguous_out(op, "y", y);
  py::gil_scoped_release release;
  cpu::linear(yp, xv, wv, bp, rows, in, out, act);
}

// linear with its output allocated here (see matmul_2d).
py::array_t<float> linear_2d(const Array& x, const Array& w, const OptionalArray& b, const std::string& act_name) {
  py::array_t<float> y = new_output({x.ndim() == 2 ? x.shape(0) : 0, w.ndim() == 2 ? w.shape(1) : 0});
  linear(NdArray<float>(y), x, w, b, act_name);
  return y;
}

void linear_backward(OptionalArray dx, OptionalArray dw, OptionalArray db, const Array& dy,
                     const OptionalArray& saved, const Array& x, const Array& w,
                     const std::string& act_name) {
  const char* op = "linear_backward";
  Activation act = activation_arg(op, act_name);
  cpu::MatrixView xv = matrix_view(op, "x", x), wv = matrix_view(op, "w", w);
  const std::int64_t rows = x.shape(0), in = x.shape(1), out = w.shape(1);
  check_shape(op, "w", w, {in, out});
  check_shape(op, "dy", dy, {rows, out});
  const float* dyp = contiguous_in(op, "dy", dy);
  const float* sp = nullptr;
  if (act != Activation::none) {
    if (!saved) fail(op, std::string("activation '") + act_name + "' needs the saved forward array");
    check_shape(op, "saved", *saved, {rows, out});
    sp = contiguous_in(op, "saved", *saved);
  }
  float* dxp = optional_out(op, "dx", dx, {rows, in});
  float* dwp = optional_out(op, "dw", dw, {in, out});
  float* dbp = optional_out(op, "db", db, {out});
  py::gil_scoped_release release;
  cpu::linear_backward(dxp, dwp, dbp, dyp, sp, xv, wv, rows, in, out, act);
}

// linear_backward with dx, dw and db allocated here (see matmul_2d).
py::tuple linear_backward_2d(const Array& dy, const OptionalArray& saved, const Array& x, const Array& w,
                             const std::string& act_name) {
  const py::ssize_t rows = x.ndim() == 2 ? x.shape(0) : 0, in = x.ndim() == 2 ? x.shape(1) : 0;
  const py::ssize_t out = w.ndim() == 2 ? w.shape(1) : 0;
  py::array_t<float> dx = new_output({rows, in}), dw = new_output({in, out}), db = new_output({out});
  linear_backward(NdArray<float>(dx), NdArray<float>(dw), NdArray<float>(db), dy, saved, x, w, act_name);
  return py::make_tuple(dx, dw, db);
}

}  // namespace

void bind_dense(py::module_& m) {
  m.def("matmul", &matmul, py::arg("out").noconvert(), py::arg("a").noconvert(),
        py::arg("b").noconvert(),
        "out (batch, m, n) = a (batch, m, k) @ b (batch, k, n); a and b may have any strides");
  m.def("matmul_2d", &matmul_2d, py::arg("a").noconvert(), py::arg("b").noconvert(),
        "a (m, k) @ b (k, n) -> a new (m, n) array; a and b may have any strides");
  m.def("linear", &linear, py::arg("y").noconvert(), py::arg("x").noconvert(),
        py::arg("w").noconvert(), py::arg("b").noconvert(), py::arg("activation"),
        "y (rows, out) = act(x (rows, in) @ w (in, out) + b (out,))");
  m.def("linear_2d", &linear_2d, py::arg("x").noconvert(), py::arg("w").noconvert(), py::arg("b").noconvert(),
        py::arg("activation"), "linear, returning a new y (rows, out)");
  m.def("linear_backward_2d", &linear_backward_2d, py::arg("dy").noconvert(), py::arg("saved").noconvert(),
        py::arg("x").noconvert(), py::arg("w").noconvert(), py::arg("activation"),
        "linear_backward, returning new (dx, dw, db)");
  m.def("linear_backward", &linear_backward, py::arg("dx").noconvert(), py::arg("dw").noconvert(),
        py::arg("db").noconvert(), py::arg("dy").noconvert(), py::arg("saved").noconvert(),
        py::arg("x").noconvert(), py::arg("w").noconvert(), py::arg("activation"),
        "dx (rows, in), dw (in, out), db (out,) from dy (rows, out); saved is y, or z for gelu");
}

}  // namespace ranvier::bindings
