// max_pool1d/2d, avg_pool1d/2d, global_max_pool and their backward on CUDA
// arrays: checked by cpp/args/pool.h, outputs allocated here, as in the CPU
// module.
#include "args/pool.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/pool.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;
using Forward = cudaError_t (*)(float*, const float*, const cpu::Pool2d&, cudaStream_t);

py::object pool_forward(const char* op, int spatial, Forward kernel, py::handle x, py::handle pool_size,
                        py::handle stride, py::handle padding) {
  const auto a = args::pool_args<A>(op, spatial, x, pool_size, stride, padding);
  A y = A::empty(args::pooled_dims(a.p, spatial));
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = kernel(y.data<float>(), a.x_data, a.p, stream);
  }
  check_cuda(op, err);
  return y.object();
}

py::object max_pool_backward(const char* op, int spatial, py::handle dy, py::handle x, py::handle pool_size,
                             py::handle stride, py::handle padding) {
  auto a = args::pool_backward_args<A>(op, spatial, dy, x, pool_size, stride, padding);
  const float* xp = args::dense(a.x);
  A dx = A::empty(args::dims(a.x));
  // One int32 arg-max per element of dy (the float scratch has their size).
  float* arg = nullptr;
  const std::int64_t outputs = args::size(a.dy);
  const py::object arg_owner = outputs > 0 ? scratch_array(outputs, &arg) : py::object();
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::max_pool2d_backward(dx.data<float>(), a.dy_data, xp, a.p, reinterpret_cast<std::int32_t*>(arg), stream);
  }
  check_cuda(op, err);
  return dx.object();
}

py::object avg_pool_backward(const char* op, int spatial, py::handle dy, py::handle x, py::handle pool_size,
                             py::handle stride, py::handle padding) {
  const auto a = args::pool_backward_args<A>(op, spatial, dy, x, pool_size, stride, padding);
  A dx = A::empty(args::dims(a.x));
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::avg_pool2d_backward(dx.data<float>(), a.dy_data, a.p, stream);
  }
  check_cuda(op, err);
  return dx.object();
}

py::object global_max_pool(py::handle x) {
  const char* op = "global_max_pool";
  const auto a = args::global_pool_args<A>(op, x);
  A y = A::empty({a.n, a.c});
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::global_max_pool(y.data<float>(), a.x_data, a.n, a.positions, a.c, stream);
  }
  check_cuda(op, err);
  return y.object();
}

py::object global_max_pool_backward(py::handle dy, py::handle x) {
  const char* op = "global_max_pool_backward";
  const auto a = args::global_pool_backward_args<A>(op, dy, x);
  A dx = A::empty(args::dims(a.pool.x));
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::global_max_pool_backward(dx.data<float>(), a.dy_data, a.pool.x_data, a.pool.n, a.pool.positions,
                                         a.pool.c, stream);
  }
  check_cuda(op, err);
  return dx.object();
}

}  // namespace

void bind_pool(py::module_& m) {
  args::def_pool_ops(m, &pool_forward, &cuda::max_pool2d, &cuda::avg_pool2d, &max_pool_backward, &avg_pool_backward);
  m.def("global_max_pool", &global_max_pool, py::arg("x"));
  m.def("global_max_pool_backward", &global_max_pool_backward, py::arg("dy"), py::arg("x"));
}

}  // namespace ranvier::bindings
