// conv2d and conv2d_backward.
#include <pybind11/stl.h>

#include <array>
#include <string>

#include "array_args.h"
#include "ranvier/conv.h"

namespace ranvier::bindings {

namespace {

using Pair = std::array<std::int64_t, 2>;
using Pads = std::array<std::int64_t, 4>;  // top, bottom, left, right

// Shape from x (N,H,W,C), w (KH,KW,C,K) and the parameters, checked by
// Conv2dShape::problem (the kernel fits in the padded input, sizes in range).
cpu::Conv2dShape conv_shape(const char* op, const Array& x, const Array& w, const Pair& stride,
                            const Pair& dilation, const Pads& pads) {
  check_rank(op, "x", x, 4);
  check_rank(op, "w", w, 4);
  cpu::Conv2dShape s;
  s.n = x.shape(0), s.h = x.shape(1), s.w = x.shape(2), s.c = x.shape(3);
  s.kh = w.shape(0), s.kw = w.shape(1), s.k = w.shape(3);
  check_shape(op, "w", w, {s.kh, s.kw, s.c, s.k});
  s.stride_h = stride[0], s.stride_w = stride[1];
  s.dilation_h = dilation[0], s.dilation_w = dilation[1];
  s.pad_top = pads[0], s.pad_bottom = pads[1], s.pad_left = pads[2], s.pad_right = pads[3];
  const std::string problem = s.problem();
  if (!problem.empty()) fail(op, problem);
  return s;
}

void conv2d(Array y, const Array& x, const Array& w, const OptionalArray& b, const Pair& stride,
            const Pair& dilation, const Pads& pads, const std::string& act_name) {
  const char* op = "conv2d";
  Activation act = activation_arg(op, act_name);
  const cpu::Conv2dShape s = conv_shape(op, x, w, stride, dilation, pads);
  check_shape(op, "y", y, {s.n, s.ho(), s.wo(), s.k});
  const float* bp = nullptr;
  if (b) {
    check_shape(op, "b", *b, {s.k});
    bp = contiguous_in(op, "b", *b);
  }
  const float* xp = contiguous_in(op, "x", x);
  const float* wp = contiguous_in(op, "w", w);
  float* yp = contiguous_out(op, "y", y);
  py::gil_scoped_release release;
  cpu::conv2d(yp, xp, wp, bp, s, act);
}

void conv2d_backward(OptionalArray dx, OptionalArray dw, OptionalArray db, const Array& dy,
                     const OptionalArray& saved, const Array& x, const Array& w, const Pair& stride,
                     const Pair& dilation, const Pads& pads, const std::string& act_name) {
  const char* op = "conv2d_backward";
  Activation act = activation_arg(op, act_name);
  const cpu::Conv2dShape s = conv_shape(op, x, w, stride, dilation, pads);
  check_shape(op, "dy", dy, {s.n, s.ho(), s.wo(), s.k});
  const float* dyp = contiguous_in(op, "dy", dy);
  const float* sp = nullptr;
  if (act != Activation::none) {
    if (!saved)
      fail(op, std::string("activation '") + act_name + "' needs the saved forward array");
    check_shape(op, "saved", *saved, {s.n, s.ho(), s.wo(), s.k});
    sp = contiguous_in(op, "saved", *saved);
  }
  const float* xp = contiguous_in(op, "x", x);
  const float* wp = contiguous_in(op, "w", w);
  float* dxp = optional_out(op, "dx", dx, {s.n, s.h, s.w, s.c});
  float* dwp = optional_out(op, "dw", dw, {s.kh, s.kw, s.c, s.k});
  float* dbp = optional_out(op, "db", db, {s.k});
  py::gil_scoped_release release;
  cpu::conv2d_backward(dxp, dwp, dbp, dyp, sp, xp, wp, s, act);
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def("conv2d", &conv2d, py::arg("y").noconvert(), py::arg("x").noconvert(),
        py::arg("w").noconvert(), py::arg("b").noconvert(), py::arg("stride"), py::arg("dilation"),
        py::arg("padding"), py::arg("activation"),
        "y (N,HO,WO,K) = act(conv(x (N,H,W,C), w (KH,KW,C,K)) + b (K,)); stride and dilation "
        "(h, w), padding (top, bottom, left, right); all arrays C-contiguous");
  m.def("conv2d_backward", &conv2d_backward, py::arg("dx").noconvert(), py::arg("dw").noconvert(),
        py::arg("db").noconvert(), py::arg("dy").noconvert(), py::arg("saved").noconvert(),
        py::arg("x").noconvert(), py::arg("w").noconvert(), py::arg("stride"), py::arg("dilation"),
        py::arg("padding"), py::arg("activation"),
        "dx (N,H,W,C), dw (KH,KW,C,K), db (K,) from dy (N,HO,WO,K); saved is y, or z for gelu");
}

}  // namespace ranvier::bindings
