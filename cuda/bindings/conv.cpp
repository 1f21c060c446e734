// conv2d and conv2d_backward on CUDA arrays; the same call signatures and
// checks as the _cpu module's (cpp/bindings/conv.cpp).
#include <pybind11/stl.h>

#include <array>
#include <string>

#include "device_array.h"
#include "ranvier_cuda/conv.h"

namespace ranvier::bindings {

namespace {

using Pair = std::array<std::int64_t, 2>;
using Pads = std::array<std::int64_t, 4>;  // top, bottom, left, right

// Shape from x (N,H,W,C), w (KH,KW,C,K) and the parameters, checked by
// Conv2dShape::problem (the kernel fits in the padded input, sizes in range).
cpu::Conv2dShape conv_shape(const char* op, const DeviceArray& x, const DeviceArray& w,
                            const Pair& stride, const Pair& dilation, const Pads& pads) {
  check_rank(op, "x", x, 4);
  check_rank(op, "w", w, 4);
  cpu::Conv2dShape s;
  s.n = x.shape[0], s.h = x.shape[1], s.w = x.shape[2], s.c = x.shape[3];
  s.kh = w.shape[0], s.kw = w.shape[1], s.k = w.shape[3];
  check_shape(op, "w", w, {s.kh, s.kw, s.c, s.k});
  s.stride_h = stride[0], s.stride_w = stride[1];
  s.dilation_h = dilation[0], s.dilation_w = dilation[1];
  s.pad_top = pads[0], s.pad_bottom = pads[1], s.pad_left = pads[2], s.pad_right = pads[3];
  const std::string problem = s.problem();
  if (!problem.empty()) fail(op, problem);
  return s;
}

void conv2d(const py::object& y_obj, const py::object& x_obj, const py::object& w_obj,
            const py::object& b_obj, const Pair& stride, const Pair& dilation, const Pads& pads,
            const std::string& act_name) {
  const char* op = "conv2d";
  const Activation act = activation_arg(op, act_name);
  const DeviceArray x = device_array(op, "x", x_obj), w = device_array(op, "w", w_obj);
  const DeviceArray y = device_array(op, "y", y_obj);
  const cpu::Conv2dShape s = conv_shape(op, x, w, stride, dilation, pads);
  check_shape(op, "y", y, {s.n, s.ho(), s.wo(), s.k});
  const float* bp = nullptr;
  if (!b_obj.is_none()) {
    const DeviceArray b = device_array(op, "b", b_obj);
    check_shape(op, "b", b, {s.k});
    bp = contiguous_in(op, "b", b);
  }
  const float* xp = contiguous_in(op, "x", x);
  const float* wp = contiguous_in(op, "w", w);
  float* yp = contiguous_out(op, "y", y);
  float* workspace = nullptr;
  py::object workspace_owner;
  if (const std::int64_t floats = cuda::conv2d_workspace(s); floats > 0)
    workspace_owner = scratch_array(floats, &workspace);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::conv2d(yp, xp, wp, bp, s, act, workspace, stream);
  }
  check_cuda(op, err);
}

void conv2d_backward(const py::object& dx_obj, const py::object& dw_obj, const py::object& db_obj,
                     const py::object& dy_obj, const py::object& saved_obj,
                     const py::object& x_obj, const py::object& w_obj, const Pair& stride,
                     const Pair& dilation, const Pads& pads, const std::string& act_name) {
  const char* op = "conv2d_backward";
  const Activation act = activation_arg(op, act_name);
  const DeviceArray x = device_array(op, "x", x_obj), w = device_array(op, "w", w_obj);
  const DeviceArray dy = device_array(op, "dy", dy_obj);
  const cpu::Conv2dShape s = conv_shape(op, x, w, stride, dilation, pads);
  check_shape(op, "dy", dy, {s.n, s.ho(), s.wo(), s.k});
  const float* dyp = contiguous_in(op, "dy", dy);
  const float* sp = nullptr;
  if (act != Activation::none) {
    if (saved_obj.is_none())
      fail(op, std::string("activation '") + act_name + "' needs the saved forward array");
    const DeviceArray saved = device_array(op, "saved", saved_obj);
    check_shape(op, "saved", saved, {s.n, s.ho(), s.wo(), s.k});
    sp = contiguous_in(op, "saved", saved);
  }
  const float* xp = contiguous_in(op, "x", x);
  const float* wp = contiguous_in(op, "w", w);
  float* dxp = optional_out(op, "dx", dx_obj, {s.n, s.h, s.w, s.c});
  float* dwp = optional_out(op, "dw", dw_obj, {s.kh, s.kw, s.c, s.k});
  float* dbp = optional_out(op, "db", db_obj, {s.k});
  float* workspace = nullptr;
  py::object workspace_owner;
  if (const std::int64_t floats =
          cuda::conv2d_backward_workspace(s, dxp != nullptr, dwp != nullptr, act);
      floats > 0)
    workspace_owner = scratch_array(floats, &workspace);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::conv2d_backward(dxp, dwp, dbp, dyp, sp, xp, wp, s, act, workspace, stream);
  }
  check_cuda(op, err);
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def("conv2d", &conv2d, py::arg("y"), py::arg("x"), py::arg("w"), py::arg("b").none(true),
        py::arg("stride"), py::arg("dilation"), py::arg("padding"), py::arg("activation"),
        "y (N,HO,WO,K) = act(conv(x (N,H,W,C), w (KH,KW,C,K)) + b (K,)); stride and dilation "
        "(h, w), padding (top, bottom, left, right); all arrays C-contiguous");
  m.def("conv2d_backward", &conv2d_backward, py::arg("dx").none(true), py::arg("dw").none(true),
        py::arg("db").none(true), py::arg("dy"), py::arg("saved").none(true), py::arg("x"),
        py::arg("w"), py::arg("stride"), py::arg("dilation"), py::arg("padding"),
        py::arg("activation"),
        "dx (N,H,W,C), dw (KH,KW,C,K), db (K,) from dy (N,HO,WO,K); saved is y, or z for gelu");
}

}  // namespace ranvier::bindings
