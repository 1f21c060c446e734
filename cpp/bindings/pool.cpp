// max_pool1d/2d, avg_pool1d/2d (the 1-D ones on the 2-D kernels with H = 1),
// global_max_pool and their backward: checked by cpp/args/pool.h, outputs
// allocated here.
#include "args/pool.h"
#include "host_array.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;
using Forward = void (*)(float*, const float*, const cpu::Pool2d&);

py::object pool_forward(const char* op, int spatial, Forward kernel, py::handle x, py::handle pool_size,
                        py::handle stride, py::handle padding) {
  const auto a = args::pool_args<A>(op, spatial, x, pool_size, stride, padding);
  A y = A::empty(args::pooled_dims(a.p, spatial));
  launch(op, [=] { kernel(y.data<float>(), a.x_data, a.p); });
  return y.object();
}

py::object max_pool_backward(const char* op, int spatial, py::handle dy, py::handle x, py::handle pool_size,
                             py::handle stride, py::handle padding) {
  auto a = args::pool_backward_args<A>(op, spatial, dy, x, pool_size, stride, padding);
  const float* xp = args::dense(a.x);
  A dx = A::empty(args::dims(a.x));
  launch(op, [=] { cpu::max_pool2d_backward(dx.data<float>(), a.dy_data, xp, a.p); });
  return dx.object();
}

py::object avg_pool_backward(const char* op, int spatial, py::handle dy, py::handle x, py::handle pool_size,
                             py::handle stride, py::handle padding) {
  const auto a = args::pool_backward_args<A>(op, spatial, dy, x, pool_size, stride, padding);
  A dx = A::empty(args::dims(a.x));
  launch(op, [=] { cpu::avg_pool2d_backward(dx.data<float>(), a.dy_data, a.p); });
  return dx.object();
}

py::object global_max_pool(py::handle x) {
  const auto a = args::global_pool_args<A>("global_max_pool", x);
  A y = A::empty({a.n, a.c});
  launch("global_max_pool", [=] { cpu::global_max_pool(y.data<float>(), a.x_data, a.n, a.positions, a.c); });
  return y.object();
}

py::object global_max_pool_backward(py::handle dy, py::handle x) {
  const auto a = args::global_pool_backward_args<A>("global_max_pool_backward", dy, x);
  A dx = A::empty(args::dims(a.pool.x));
  launch("global_max_pool_backward", [=] {
    cpu::global_max_pool_backward(dx.data<float>(), a.dy_data, a.pool.x_data, a.pool.n, a.pool.positions, a.pool.c);
  });
  return dx.object();
}

}  // namespace

void bind_pool(py::module_& m) {
  args::def_pool_ops(m, &pool_forward, &cpu::max_pool2d, &cpu::avg_pool2d, &max_pool_backward, &avg_pool_backward);
  m.def("global_max_pool", &global_max_pool, py::arg("x"),
        "y (N,C): the maximum of x (N,L,C) or (N,H,W,C) per channel");
  m.def("global_max_pool_backward", &global_max_pool_backward, py::arg("dy"), py::arg("x"),
        "dx (the shape of x) from dy (N,C): each to its channel's first maximum");
}

}  // namespace ranvier::bindings
