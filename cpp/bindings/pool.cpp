// max_pool2d, avg_pool2d and their backward: checked by cpp/args/pool.h,
// outputs allocated here.
#include "args/pool.h"
#include "host_array.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;
using Forward = void (*)(float*, const float*, const cpu::Pool2d&);

py::object pool_forward(const char* op, Forward kernel, py::handle x, py::handle pool_size, py::handle stride,
                        py::handle padding) {
  const auto a = args::pool_args<A>(op, x, pool_size, stride, padding);
  A y = A::empty(args::pooled_dims(a.p));
  {
    py::gil_scoped_release release;
    kernel(y.data<float>(), a.x_data, a.p);
  }
  return y.object();
}

py::object max_pool2d_backward(py::handle dy, py::handle x, py::handle pool_size, py::handle stride,
                               py::handle padding) {
  auto a = args::pool_backward_args<A>("max_pool2d_backward", dy, x, pool_size, stride, padding);
  const float* xp = args::dense(a.x);
  A dx = A::empty(args::dims(a.x));
  {
    py::gil_scoped_release release;
    cpu::max_pool2d_backward(dx.data<float>(), a.dy_data, xp, a.p);
  }
  return dx.object();
}

py::object avg_pool2d_backward(py::handle dy, py::handle x, py::handle pool_size, py::handle stride,
                               py::handle padding) {
  const auto a = args::pool_backward_args<A>("avg_pool2d_backward", dy, x, pool_size, stride, padding);
  A dx = A::empty(args::dims(a.x));
  {
    py::gil_scoped_release release;
    cpu::avg_pool2d_backward(dx.data<float>(), a.dy_data, a.p);
  }
  return dx.object();
}

}  // namespace

void bind_pool(py::module_& m) {
  args::def_pool_ops(m, &pool_forward, &cpu::max_pool2d, &cpu::avg_pool2d, &max_pool2d_backward, &avg_pool2d_backward);
}

}  // namespace ranvier::bindings
