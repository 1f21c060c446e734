// dropout and dropout_backward on CUDA arrays: checked by
// cpp/args/dropout.h, outputs allocated here, as in the CPU module.
#include "args/dropout.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/dropout.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

py::tuple dropout(py::handle x, py::handle rate, py::handle seed, bool training) {
  const cudaStream_t stream = current_stream();
  const auto a = args::dropout_args<A>(x, rate, seed, training);
  if (a.identity) return py::make_tuple(a.x.object(), py::none());
  A y = A::empty(args::dims(a.x)), mask = A::empty(args::dims(a.x), args::DType::uint8);
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::dropout(y.data<float>(), mask.data<std::uint8_t>(), a.x.data<float>(), args::size(a.x), a.rate, a.seed,
                        stream);
  }
  check_cuda("dropout", err);
  return py::make_tuple(y.object(), mask.object());
}

py::object dropout_backward(py::handle dy, py::handle mask, py::handle rate) {
  const auto a = args::dropout_grad<A>(dy, mask, rate);
  if (!a.mask) return a.dy.object();
  A dx = A::empty(args::dims(a.dy));
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::dropout_backward(dx.data<float>(), a.dy.data<float>(), a.mask->data<std::uint8_t>(), args::size(a.dy),
                                 a.rate, stream);
  }
  check_cuda("dropout_backward", err);
  return dx.object();
}

}  // namespace

void bind_dropout(py::module_& m) {
  m.def("dropout", &dropout, py::arg("x"), py::arg("rate"), py::arg("seed"), py::arg("training") = true);
  m.def("dropout_backward", &dropout_backward, py::arg("dy"), py::arg("mask"), py::arg("rate"));
}

}  // namespace ranvier::bindings
