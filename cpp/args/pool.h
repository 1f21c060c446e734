// Arguments of max_pool1d/2d, avg_pool1d/2d, global_max_pool and their
// backward (ranvier.ops.pool).
//
// pool_size and stride are an int (1-D) or an int or (h, w) pair (2-D), stride None meaning
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

// x (N, L, C) for a 1-D pooling (a 2-D one with H = 1: the same memory),
// (N, H, W, C) for a 2-D one.
template <class A>
void require_pool_input(const char* op, const char* name, const A& a, int spatial) {
  if (spatial == 1) {
    require_float32(op, name, a, "(N, L, C)", {3});
  } else {
    require_float32(op, name, a, "(N, H, W, C)", {4});
  }
}

// The pooling of `x` by the scalar arguments: ints for a 1-D pooling, ints
// or (h, w) pairs for a 2-D one.
template <class A>
cpu::Pool2d pool_geometry(const char* op, const A& x, int spatial, py::handle pool_size, py::handle stride_obj,
                          py::handle padding_obj) {
  const auto read = [&](const char* name, py::handle v) {
    return spatial == 1 ? Pair{1, integer(op, name, v, 1, kMaxGeometry)} : positive_pair(op, name, v, "positive");
  };
  const Pair pool = read("pool_size", pool_size);
  const Pair stride = stride_obj.is_none() ? pool : read("stride", stride_obj);
  const std::optional<std::string> mode = padding_mode(padding_obj);
  if (!mode || (*mode != "valid" && *mode != "same"))
    fail(op, "padding must be 'valid' or 'same', got " +
                 (mode ? std::string(py::repr(py::str(*mode))) : std::string(py::repr(padding_obj))));
  const Pair size = {spatial == 1 ? 1 : x.shape(1), x.shape(spatial)};
  Pair pad{}, out{};
  for (int i = 0; i < 2; ++i) {
    if (*mode == "valid") {
      if (size[i] < pool[i]) {
        if (spatial == 1)
          fail(op, "pool_size " + std::to_string(pool[1]) + " is longer than the sequence (length " +
                       std::to_string(size[1]) + ") with padding='valid'");
        fail(op, "pool_size " + dims_str({pool[0], pool[1]}) + " is larger than the image " +
                     dims_str({size[0], size[1]}) + " with padding='valid'");
      }
      out[i] = (size[i] - pool[i]) / stride[i] + 1;
    } else {
      out[i] = same_outputs(size[i], stride[i]);
      pad[i] = same_total_padding(size[i], pool[i], stride[i]) / 2;
    }
  }
  // (the first test also keeps the product from overflowing)
  if (pool[0] > kMaxPoolWindow || pool[1] > kMaxPoolWindow || pool[0] * pool[1] > kMaxPoolWindow)
    fail(op, "pool windows of more than 2^24 elements are not supported");
  return {x.shape(0), size[0], size[1], x.shape(spatial + 1), pool[0], pool[1], stride[0], stride[1], pad[0],
          pad[1],     out[0],  out[1]};
}

// The output shape of a pooling: (N, LO, C) or (N, HO, WO, C).
inline Dims pooled_dims(const cpu::Pool2d& p, int spatial) {
  return spatial == 1 ? Dims{p.n, p.out_w, p.c} : Dims{p.n, p.out_h, p.out_w, p.c};
}

template <class A>
struct PoolArgs {
  A x;
  cpu::Pool2d p{};
  const float* x_data = nullptr;
};

// x and the pooling, x dense.
template <class A>
PoolArgs<A> pool_args(const char* op, int spatial, py::handle x_obj, py::handle pool_size, py::handle stride,
                      py::handle padding) {
  PoolArgs<A> a{A::read(op, "x", x_obj)};
  require_pool_input(op, "x", a.x, spatial);
  a.p = pool_geometry(op, a.x, spatial, pool_size, stride, padding);
  a.x_data = dense(a.x);
  return a;
}

template <class A>
struct PoolBackwardArgs {
  A x, dy;
  cpu::Pool2d p{};
  const float* dy_data = nullptr;
};

// dy (the pooled shape) for the pooling of x, dy dense; x is made dense by
// the caller that reads it (avg only needs its shape).
template <class A>
PoolBackwardArgs<A> pool_backward_args(const char* op, int spatial, py::handle dy_obj, py::handle x_obj,
                                       py::handle pool_size, py::handle stride, py::handle padding) {
  PoolBackwardArgs<A> a{A::read(op, "x", x_obj), A::read(op, "dy", dy_obj)};
  require_pool_input(op, "x", a.x, spatial);
  require_pool_input(op, "dy", a.dy, spatial);
  a.p = pool_geometry(op, a.x, spatial, pool_size, stride, padding);
  require_float32_dims(op, "dy", a.dy, pooled_dims(a.p, spatial), " to match x and the pooling");
  a.dy_data = dense(a.dy);
  return a;
}

// Defines max_pool{1,2}d, avg_pool{1,2}d and their backward in module m with
// the Python signature both modules share. forward(op, spatial, kernel, x,
// pool_size, stride, padding) runs max_kernel or avg_kernel; the backward take
// (op, spatial, dy, x, pool_size, stride, padding).
template <class Forward, class Kernel, class Backward>
void def_pool_ops(py::module_& m, Forward forward, Kernel max_kernel, Kernel avg_kernel, Backward max_backward,
                  Backward avg_backward) {
  struct Op {
    const char* name;
    const char* backward_name;
    int spatial;
    Kernel kernel;
    Backward backward;
  };
  for (const Op& op : {Op{"max_pool2d", "max_pool2d_backward", 2, max_kernel, max_backward},
                       Op{"avg_pool2d", "avg_pool2d_backward", 2, avg_kernel, avg_backward},
                       Op{"max_pool1d", "max_pool1d_backward", 1, max_kernel, max_backward},
                       Op{"avg_pool1d", "avg_pool1d_backward", 1, avg_kernel, avg_backward}}) {
    m.def(
        op.name,
        [forward, op](py::handle x, py::handle pool_size, py::handle stride, py::handle padding) {
          return forward(op.name, op.spatial, op.kernel, x, pool_size, stride, padding);
        },
        py::arg("x"), py::arg("pool_size") = 2, py::arg("stride") = py::none(), py::arg("padding") = "valid",
        "y (N,[HO,]WO,C): the maximum or the mean of each window of x (N,[H,]W,C)");
    m.def(
        op.backward_name,
        [op](py::handle dy, py::handle x, py::handle pool_size, py::handle stride, py::handle padding) {
          return op.backward(op.backward_name, op.spatial, dy, x, pool_size, stride, padding);
        },
        py::arg("dy"), py::arg("x"), py::arg("pool_size") = 2, py::arg("stride") = py::none(),
        py::arg("padding") = "valid", "dx (the shape of x) from dy: the gradient of the pooling");
  }
}

template <class A>
struct GlobalPoolArgs {
  A x;
  std::int64_t n = 0, positions = 0, c = 0;  // x as (N, positions, C)
  const float* x_data = nullptr;
};

// x (N, L, C) or (N, H, W, C), read as (N, L or H*W, C), dense; at least one
// position to take the maximum of.
template <class A>
GlobalPoolArgs<A> global_pool_args(const char* op, py::handle x_obj) {
  GlobalPoolArgs<A> a{A::read(op, "x", x_obj)};
  require_float32(op, "x", a.x, "(N, L, C) or (N, H, W, C)", {3, 4});
  a.n = a.x.shape(0), a.c = a.x.shape(a.x.ndim() - 1);
  a.positions = a.x.shape(1) * (a.x.ndim() == 4 ? a.x.shape(2) : 1);
  if (a.positions == 0) fail(op, "x must have at least one position to pool over, got " + describe(a.x));
  a.x_data = dense(a.x);
  return a;
}

template <class A>
struct GlobalPoolBackwardArgs {
  GlobalPoolArgs<A> pool;
  A dy;
  const float* dy_data = nullptr;
};

// dy (N, C) for the global pooling of x.
template <class A>
GlobalPoolBackwardArgs<A> global_pool_backward_args(const char* op, py::handle dy_obj, py::handle x_obj) {
  GlobalPoolBackwardArgs<A> a{global_pool_args<A>(op, x_obj), A::read(op, "dy", dy_obj)};
  require_float32_dims(op, "dy", a.dy, {a.pool.n, a.pool.c}, " to match x");
  a.dy_data = dense(a.dy);
  return a;
}

}  // namespace ranvier::args
