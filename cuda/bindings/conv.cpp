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

// Bounds that keep every size computation far from int64 overflow.
constexpr std::int64_t kMaxParam = std::int64_t{1} << 31;

void check_param(const char* op, const char* name, std::int64_t v, std::int64_t lo) {
  if (v < lo || v >= kMaxParam)
    fail(op, std::string(name) + " must be in [" + std::to_string(lo) + ", 2^31), got " +
                 std::to_string(v));
}

// Shape from x (N,H,W,C), w (KH,KW,C,K) and the parameters; checks that the
// kernel fits in the padded input.
cpu::Conv2dShape conv_shape(const char* op, const DeviceArray& x, const DeviceArray& w,
                            const Pair& stride, const Pair& dilation, const Pads& pads) {
  check_rank(op, "x", x, 4);
  check_rank(op, "w", w, 4);
  cpu::Conv2dShape s;
  s.n = x.shape[0], s.h = x.shape[1], s.w = x.shape[2], s.c = x.shape[3];
  s.kh = w.shape[0], s.kw = w.shape[1], s.k = w.shape[3];
  check_shape(op, "w", w, {s.kh, s.kw, s.c, s.k});
  if (s.kh < 1 || s.kw < 1) fail(op, "w must have a kernel of at least 1x1, got " + shape_str(w));
  check_param(op, "stride", stride[0], 1);
  check_param(op, "stride", stride[1], 1);
  check_param(op, "dilation", dilation[0], 1);
  check_param(op, "dilation", dilation[1], 1);
  for (std::int64_t p : pads) check_param(op, "padding", p, 0);
  s.stride_h = stride[0], s.stride_w = stride[1];
  s.dilation_h = dilation[0], s.dilation_w = dilation[1];
  s.pad_top = pads[0], s.pad_bottom = pads[1], s.pad_left = pads[2], s.pad_right = pads[3];
  if (s.ho() < 1 || s.wo() < 1) fail(op, "the dilated kernel is larger than the padded input");
  return s;
}

float* optional_out(const char* op, const char* name, const py::object& obj,
                    std::initializer_list<std::int64_t> shape) {
  if (obj.is_none()) return nullptr;
  const DeviceArray a = device_array(op, name, obj);
  check_shape(op, name, a, shape);
  return contiguous_out(op, name, a);
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
