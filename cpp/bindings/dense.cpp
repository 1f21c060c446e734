// matmul, linear and linear_backward: checked by cpp/args/dense.h, outputs
// allocated here.
#include "args/dense.h"
#include "host_array.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

py::object matmul(py::handle a, py::handle b, bool transpose_a, bool transpose_b) {
  const auto p = args::matmul_args<A>("matmul", a, b, transpose_a, transpose_b);
  A c = A::empty(p.out_dims);
  launch("matmul", [=] {
    args::for_each_batch(p, args::floats(c),
                         [&](float* cp, cpu::MatrixView av, std::int64_t as, cpu::MatrixView bv, std::int64_t bs,
                             std::int64_t count) { cpu::matmul(cp, av, as, bv, bs, count, p.m, p.n, p.k); });
  });
  return c.object();
}

py::object linear(py::handle x, py::handle w, py::handle b, py::handle activation) {
  const auto a = args::linear_args<A>("linear", x, w, b, activation);
  A y = A::empty(a.y_dims);
  launch("linear", [=] { cpu::linear(args::floats(y), a.x_view, a.w_view, a.bias, a.rows, a.in, a.out, a.act); });
  return y.object();
}

py::tuple linear_backward(py::handle dy, py::handle x, py::handle w, py::handle activation, py::handle y, py::handle z,
                          py::handle need_dx) {
  const auto a = args::linear_backward_args<A>("linear_backward", dy, x, w, activation, y, z, need_dx);
  std::optional<A> dx;
  if (a.need_dx) dx = A::empty(args::dims(a.x));
  A dw = A::empty({a.in, a.out}), db = A::empty({a.out});
  launch("linear_backward", [=] {
    cpu::linear_backward(args::floats(dx), args::floats(dw), args::floats(db), a.dy_data, a.saved_data, a.x_view,
                         a.w_view, a.rows, a.in, a.out, a.act);
  });
  return py::make_tuple(args::object_or_none(dx), dw.object(), db.object());
}

}  // namespace

void bind_dense(py::module_& m) {
  m.def("matmul", &matmul, py::arg("a"), py::arg("b"), py::arg("transpose_a") = false, py::arg("transpose_b") = false,
        "a @ b with NumPy's rules (1-D operands, broadcast batch axes); operands read in place with any strides");
  m.def("linear", &linear, py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("activation") = py::none(),
        "act(x (..., in) @ w (in, out) + b (out,)) -> (..., out)");
  m.def("linear_backward", &linear_backward, py::arg("dy"), py::arg("x"), py::arg("w"),
        py::arg("activation") = py::none(), py::arg("y") = py::none(), py::arg("z") = py::none(),
        py::arg("need_dx") = true,
        "(dx, dw, db) from dy (..., out); y is the forward output, z the pre-activation (gelu, silu, softplus, "
        "softsign); dx is None when need_dx is False");
}

}  // namespace ranvier::bindings
