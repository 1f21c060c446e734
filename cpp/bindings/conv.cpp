// conv2d, conv1d (conv2d's kernels with H = 1), conv2d_transpose and their
// backward: checked by cpp/args/conv.h, outputs allocated here.
#include <tuple>
#include <utility>

#include "args/conv.h"
#include "host_array.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

py::object convolve(const char* op, const args::ConvArgs<A>& a) {
  A y = A::empty(a.out);
  launch(op, [=] { cpu::conv2d(y.data<float>(), a.x_data, a.w_data, a.b_data, a.s, a.act); });
  return y.object();
}

py::tuple convolve_backward(const char* op, const args::ConvBackwardArgs<A>& a) {
  const cpu::Conv2dShape& s = a.conv.s;
  std::optional<A> dx;
  if (a.need_dx) dx = A::empty(args::dims(a.conv.x));
  A dw = A::empty(args::dims(a.conv.w)), db = A::empty({s.k});
  launch(op, [=] {
    cpu::conv2d_backward(args::floats(dx), dw.data<float>(), db.data<float>(), a.dy_data, a.saved_data, a.conv.x_data,
                         a.conv.w_data, s, a.conv.act);
  });
  return py::make_tuple(args::object_or_none(dx), dw.object(), db.object());
}

py::object conv2d(py::handle x, py::handle w, py::handle b, py::handle stride, py::handle padding, py::handle dilation,
                  py::handle activation) {
  return convolve("conv2d", args::conv_args<A>("conv2d", x, w, b, stride, padding, dilation, activation));
}

py::tuple conv2d_backward(py::handle dy, py::handle x, py::handle w, py::handle stride, py::handle padding,
                          py::handle dilation, py::handle activation, py::handle y, py::handle z, py::handle need_dx) {
  return convolve_backward("conv2d_backward", args::conv_backward_args<A>("conv2d_backward", dy, x, w, stride, padding,
                                                                          dilation, activation, y, z, need_dx));
}

py::object conv1d(py::handle x, py::handle w, py::handle b, py::handle stride, py::handle padding, py::handle dilation,
                  py::handle activation) {
  return convolve("conv1d", args::conv1d_args<A>("conv1d", x, w, b, stride, padding, dilation, activation));
}

py::tuple conv1d_backward(py::handle dy, py::handle x, py::handle w, py::handle stride, py::handle padding,
                          py::handle dilation, py::handle activation, py::handle y, py::handle z, py::handle need_dx) {
  return convolve_backward(
      "conv1d_backward",
      args::conv1d_backward_args<A>("conv1d_backward", dy, x, w, stride, padding, dilation, activation, y, z, need_dx));
}

py::object conv2d_transpose(py::handle x, py::handle w, py::handle b, py::handle stride, py::handle padding,
                            py::handle output_padding, py::handle dilation) {
  const auto a = args::conv_transpose_args<A>("conv2d_transpose", x, w, b, stride, padding, output_padding, dilation);
  A y = A::empty(a.out);
  launch("conv2d_transpose", [=] { cpu::conv2d_transpose(y.data<float>(), a.x_data, a.w_data, a.b_data, a.s); });
  return y.object();
}

py::tuple conv2d_transpose_backward(py::handle dy, py::handle x, py::handle w, py::handle stride, py::handle padding,
                                    py::handle output_padding, py::handle dilation) {
  const auto a = args::conv_transpose_backward_args<A>("conv2d_transpose_backward", dy, x, w, stride, padding,
                                                       output_padding, dilation);
  const cpu::Conv2dShape& s = a.conv.s;
  A dx = A::empty(args::dims(a.conv.x)), dw = A::empty(args::dims(a.conv.w)), db = A::empty({s.c});
  launch("conv2d_transpose_backward", [=] {
    cpu::conv2d_transpose_backward(dx.data<float>(), dw.data<float>(), db.data<float>(), a.dy_data, a.conv.x_data,
                                   a.conv.w_data, s);
  });
  return py::make_tuple(dx.object(), dw.object(), db.object());
}

}  // namespace

void bind_conv(py::module_& m) {
  for (const auto& [name, forward, doc] :
       {std::tuple{"conv2d", &conv2d, "y (N,HO,WO,K) = act(conv(x (N,H,W,C), w (KH,KW,C,K)) + b (K,))"},
        std::tuple{"conv1d", &conv1d, "y (N,LO,K) = act(conv(x (N,L,C), w (KW,C,K)) + b (K,))"}})
    m.def(name, forward, py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("stride") = 1,
          py::arg("padding") = "valid", py::arg("dilation") = 1, py::arg("activation") = py::none(), doc);
  for (const auto& [name, backward] :
       {std::pair{"conv2d_backward", &conv2d_backward}, std::pair{"conv1d_backward", &conv1d_backward}})
    m.def(name, backward, py::arg("dy"), py::arg("x"), py::arg("w"), py::arg("stride") = 1,
          py::arg("padding") = "valid", py::arg("dilation") = 1, py::arg("activation") = py::none(),
          py::arg("y") = py::none(), py::arg("z") = py::none(), py::arg("need_dx") = true,
          "(dx, dw, db) from dy; y, or z (gelu, silu, softplus, softsign), from the forward; dx None when need_dx "
          "is False");
  m.def("conv2d_transpose", &conv2d_transpose, py::arg("x"), py::arg("w"), py::arg("b") = py::none(),
        py::arg("stride") = 1, py::arg("padding") = "valid", py::arg("output_padding") = py::none(),
        py::arg("dilation") = 1, "y (N,HO,WO,F) = conv_transpose(x (N,H,W,C), w (KH,KW,F,C)) + b (F,)");
  m.def("conv2d_transpose_backward", &conv2d_transpose_backward, py::arg("dy"), py::arg("x"), py::arg("w"),
        py::arg("stride") = 1, py::arg("padding") = "valid", py::arg("output_padding") = py::none(),
        py::arg("dilation") = 1, "(dx, dw, db) of conv2d_transpose from dy (N,HO,WO,F)");
}

}  // namespace ranvier::bindings
