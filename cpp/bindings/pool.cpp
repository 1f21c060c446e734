// max_pool2d, avg_pool2d and their backward on NHWC float32 arrays.
#include <pybind11/stl.h>

#include <array>
#include <string>

#include "array_args.h"
#include "ranvier/pool.h"

namespace ranvier::bindings {

namespace {

using Pair = std::array<std::int64_t, 2>;

// The max-pool backward keeps window offsets in floats, exact below 2^24.
constexpr std::int64_t kMaxWindow = std::int64_t{1} << 24;

// The geometry of images `in` (N,H,W,C) pooled to `out` (N,HO,WO,C), checked so
// that every window lies (at least partly) inside the image.
cpu::Pool2d geometry(const char* op, const char* in_name, const ArrayView& in, const char* out_name,
                     const ArrayView& out, Pair pool, Pair stride, Pair pad) {
  check_rank(op, in_name, in, 4);
  check_rank(op, out_name, out, 4);
  cpu::Pool2d p{in.shape(0), in.shape(1), in.shape(2), in.shape(3), pool[0], pool[1], stride[0],
                stride[1], pad[0], pad[1], out.shape(1), out.shape(2)};
  check_shape(op, out_name, out, {p.n, p.out_h, p.out_w, p.c});
  const std::int64_t size[2] = {p.h, p.w}, outs[2] = {p.out_h, p.out_w};
  for (int i = 0; i < 2; ++i) {
    if (pool[i] < 1 || stride[i] < 1) fail(op, "pool and stride must be positive");
    if (pad[i] < 0 || pad[i] >= pool[i]) fail(op, "pad must be in [0, pool)");
    if (pool[i] > kMaxWindow) fail(op, "pool windows of more than 2^24 elements are not supported");
    // (the first test also keeps the product in the second from overflowing)
    if (outs[i] > 0 &&
        ((outs[i] > 1 && stride[i] > size[i] + pad[i]) || (outs[i] - 1) * stride[i] - pad[i] >= size[i]))
      fail(op, std::string(out_name) + " has shape " + shape_str(out) + ": its last window would lie outside " +
                   in_name + " " + shape_str(in));
  }
  if (pool[0] * pool[1] > kMaxWindow) fail(op, "pool windows of more than 2^24 elements are not supported");
  return p;
}

void max_pool2d(Array y, const Array& x, Pair pool, Pair stride, Pair pad) {
  const char* op = "max_pool2d";
  const cpu::Pool2d p = geometry(op, "x", x, "y", y, pool, stride, pad);
  const float* xp = contiguous_in(op, "x", x);
  float* yp = contiguous_out(op, "y", y);
  py::gil_scoped_release release;
  cpu::max_pool2d(yp, xp, p);
}

void avg_pool2d(Array y, const Array& x, Pair pool, Pair stride, Pair pad) {
  const char* op = "avg_pool2d";
  const cpu::Pool2d p = geometry(op, "x", x, "y", y, pool, stride, pad);
  const float* xp = contiguous_in(op, "x", x);
  float* yp = contiguous_out(op, "y", y);
  py::gil_scoped_release release;
  cpu::avg_pool2d(yp, xp, p);
}

void max_pool2d_backward(Array dx, const Array& dy, const Array& x, Pair pool, Pair stride, Pair pad) {
  const char* op = "max_pool2d_backward";
  const cpu::Pool2d p = geometry(op, "x", x, "dy", dy, pool, stride, pad);
  check_shape(op, "dx", dx, {p.n, p.h, p.w, p.c});
  const float* xp = contiguous_in(op, "x", x);
  const float* dyp = contiguous_in(op, "dy", dy);
  float* dxp = contiguous_out(op, "dx", dx);
  py::gil_scoped_release release;
  cpu::max_pool2d_backward(dxp, dyp, xp, p);
}

void avg_pool2d_backward(Array dx, const Array& dy, Pair pool, Pair stride, Pair pad) {
  const char* op = "avg_pool2d_backward";
  const cpu::Pool2d p = geometry(op, "dx", dx, "dy", dy, pool, stride, pad);
  const float* dyp = contiguous_in(op, "dy", dy);
  float* dxp = contiguous_out(op, "dx", dx);
  py::gil_scoped_release release;
  cpu::avg_pool2d_backward(dxp, dyp, p);
}

}  // namespace

void bind_pool(py::module_& m) {
  m.def("max_pool2d", &max_pool2d, py::arg("y").noconvert(), py::arg("x").noconvert(),
        py::arg("pool"), py::arg("stride"), py::arg("pad"),
        "y (N,HO,WO,C) = window maxima of x (N,H,W,C); pool, stride, pad are (h, w) pairs");
  m.def("avg_pool2d", &avg_pool2d, py::arg("y").noconvert(), py::arg("x").noconvert(),
        py::arg("pool"), py::arg("stride"), py::arg("pad"),
        "y (N,HO,WO,C) = window means of x (N,H,W,C) over the elements inside the image");
  m.def("max_pool2d_backward", &max_pool2d_backward, py::arg("dx").noconvert(),
        py::arg("dy").noconvert(), py::arg("x").noconvert(), py::arg("pool"), py::arg("stride"),
        py::arg("pad"), "dx (N,H,W,C) from dy (N,HO,WO,C): each to its window's first maximum in x");
  m.def("avg_pool2d_backward", &avg_pool2d_backward, py::arg("dx").noconvert(),
        py::arg("dy").noconvert(), py::arg("pool"), py::arg("stride"), py::arg("pad"),
        "dx (N,H,W,C) from dy (N,HO,WO,C): each spread evenly over its window");
}

}  // namespace ranvier::bindings
