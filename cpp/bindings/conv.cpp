// conv2d and conv2d_backward: checked by cpp/args/conv.h, outputs allocated here.
#include "args/conv.h"
#include "host_array.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

py::object conv2d(py::handle x, py::handle w, py::handle b, py::handle stride, py::handle padding, py::handle dilation,
                  py::handle activation) {
  const auto a = args::conv_args<A>("conv2d", x, w, b, stride, padding, dilation, activation);
  A y = A::empty(a.out);
  {
    py::gil_scoped_release release;
    cpu::conv2d(y.data<float>(), a.x_data, a.w_data, a.b_data, a.s, a.act);
  }
  return y.object();
}

py::tuple conv2d_backward(py::handle dy, py::handle x, py::handle w, py::handle stride, py::handle padding,
                          py::handle dilation, py::handle activation, py::handle y, py::handle z) {
  const auto a = args::conv_backward_args<A>("conv2d_backward", dy, x, w, stride, padding, dilation, activation, y, z);
  const cpu::Conv2dShape& s = a.conv.s;
  A dx = A::empty(args::dims(a.conv.x)), dw = A::empty(args::dims(a.conv.w)), db = A::empty({s.k});
  {
    py::gil_scoped_release release;
    cpu::conv2d_backward(dx.data<float>(), dw.data<float>(), db.data<float>(), a.dy_data, a.saved_data, a.conv.x_data,
                         a.conv.w_data, s, a.conv.act);
  }
  return py::make_tuple(dx.object(), dw.object(), db.object());
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def("conv2d", &conv2d, py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("stride") = 1,
        py::arg("padding") = "valid", py::arg("dilation") = 1, py::arg("activation") = py::none(),
        "y (N,HO,WO,K) = act(conv(x (N,H,W,C), w (KH,KW,C,K)) + b (K,))");
  m.def("conv2d_backward", &conv2d_backward, py::arg("dy"), py::arg("x"), py::arg("w"), py::arg("stride") = 1,
        py::arg("padding") = "valid", py::arg("dilation") = 1, py::arg("activation") = py::none(),
        py::arg("y") = py::none(), py::arg("z") = py::none(),
        "(dx, dw, db) from dy (N,HO,WO,K); y, or z (gelu, silu, softplus, softsign), from the forward");
}

}  // namespace ranvier::bindings
