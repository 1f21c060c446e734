// Arguments of max_pool2d, avg_pool2d and their backward (ranvier.ops.pool).
//
// pool_size and stride are an int or an (h, w) pair, stride None meaning
// pool_size; padding "valid" keeps the windows inside the image, "same" gives
// ceil(size / stride) windows per axis (Keras/TF). Every window then holds at
// least one element of the image, which the kernels require.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "conv.h"
#include "ranvier/pool.h"

namespace ranvier::args {

// The max-pool backward keeps window offsets in floats (the CUDA one in
// int32), exact below 2^24.
constexpr std::int64_t kMaxPoolWindow = std::int64_t{1} << 24;

template <class A>
void require_images(const char* op, const char* name, const A& a) {
  require_float32(op, name, a, "(N, H, W, C)", {4});
}

// The pooling of images `x` (N, H, W, C) by the scalar arguments.
template <class A>
cpu::Pool2d pool_geometry(const char* op, const A& x, py::handle pool_size, py::handle stride_obj,
                          py::handle padding_obj) {
  const Pair pool = positive_pair(op, "pool_size", pool_size, "positive");
  const Pair stride = stride_obj.is_none() ? pool : positive_pair(op, "stride", stride_obj, "positive");
  const std::optional<std::string> mode = padding_mode(padding_obj);
  if (!mode || (*mode != "valid" && *mode != "same"))
    fail(op, "padding must be 'valid' or 'same', got " +
                 (mode ? std::string(py::repr(py::str(*mode))) : std::string(py::repr(padding_obj))));
  const Pair size = {x.shape(1), x.shape(2)};
  Pair pad{}, out{};
  for (int i = 0; i < 2; ++i) {
    if (*mode == "valid") {
      if (size[i] < pool[i])
        fail(op, "pool_size " + dims_str({pool[0], pool[1]}) + " is larger than the image " +
                     dims_str({size[0], size[1]}) + " with padding='valid'");
      out[i] = (size[i] - pool[i]) / stride[i] + 1;
    } else {
      out[i] = same_outputs(size[i], stride[i]);
      pad[i] = same_total_padding(size[i], pool[i], stride[i]) / 2;
    }
  }
  // (the first test also keeps the product from overflowing)
  if (pool[0] > kMaxPoolWindow || pool[1] > kMaxPoolWindow || pool[0] * pool[1] > kMaxPoolWindow)
    fail(op, "pool windows of more than 2^24 elements are not supported");
  return {x.shape(0), size[0],   size[1], x.shape(3), pool[0], pool[1],
          stride[0],  stride[1], pad[0],  pad[1],     out[0],  out[1]};
}

// The output shape (N, HO, WO, C) of a pooling.
inline Dims pooled_dims(const cpu::Pool2d& p) { return {p.n, p.out_h, p.out_w, p.c}; }

template <class A>
struct PoolArgs {
  A x;
  cpu::Pool2d p{};
  const float* x_data = nullptr;
};

// x (N, H, W, C) and the pooling, x dense.
template <class A>
PoolArgs<A> pool_args(const char* op, py::handle x_obj, py::handle pool_size, py::handle stride, py::handle padding) {
  PoolArgs<A> a{A::read(op, "x", x_obj)};
  require_images(op, "x", a.x);
  a.p = pool_geometry(op, a.x, pool_size, stride, padding);
  a.x_data = dense(a.x);
  return a;
}

template <class A>
struct PoolBackwardArgs {
  A x, dy;
  cpu::Pool2d p{};
  const float* dy_data = nullptr;
};

// dy (N, HO, WO, C) for the pooling of x (N, H, W, C), dy dense; x is made
// dense by the caller that reads it (avg only needs its shape).
template <class A>
PoolBackwardArgs<A> pool_backward_args(const char* op, py::handle dy_obj, py::handle x_obj, py::handle pool_size,
                                       py::handle stride, py::handle padding) {
  PoolBackwardArgs<A> a{A::read(op, "x", x_obj), A::read(op, "dy", dy_obj)};
  require_images(op, "x", a.x);
  require_images(op, "dy", a.dy);
  a.p = pool_geometry(op, a.x, pool_size, stride, padding);
  require_float32_dims(op, "dy", a.dy, pooled_dims(a.p), " to match x and the pooling");
  a.dy_data = dense(a.dy);
  return a;
}

// Defines the four ops in module m with the Python signature both modules
// share. forward(op, kernel, x, pool_size, stride, padding) runs max_kernel
// or avg_kernel; the backward take (dy, x, pool_size, stride, padding).
template <class Forward, class Kernel, class Backward>
void def_pool_ops(py::module_& m, Forward forward, Kernel max_kernel, Kernel avg_kernel, Backward max_backward,
                  Backward avg_backward) {
  const auto def_backward = [&m](const char* name, Backward f, const char* doc) {
    m.def(name, f, py::arg("dy"), py::arg("x"), py::arg("pool_size") = 2, py::arg("stride") = py::none(),
          py::arg("padding") = "valid", doc);
  };
  for (const auto& [name, kernel] : {std::pair{"max_pool2d", max_kernel}, std::pair{"avg_pool2d", avg_kernel}})
    m.def(
        name,
        [forward, name = name, kernel = kernel](py::handle x, py::handle pool_size, py::handle stride,
                                                py::handle padding) {
          return forward(name, kernel, x, pool_size, stride, padding);
        },
        py::arg("x"), py::arg("pool_size") = 2, py::arg("stride") = py::none(), py::arg("padding") = "valid",
        "y (N,HO,WO,C): the maximum or the mean of each window of x (N,H,W,C)");
  def_backward("max_pool2d_backward", max_backward,
               "dx (N,H,W,C) from dy (N,HO,WO,C): each to its window's first maximum in x");
  def_backward("avg_pool2d_backward", avg_backward,
               "dx (N,H,W,C) from dy (N,HO,WO,C): each spread evenly over its window");
}

}  // namespace ranvier::args
