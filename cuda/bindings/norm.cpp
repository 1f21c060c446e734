// layer_norm and layer_norm_backward on CUDA arrays: checked by
// cpp/args/norm.h, outputs allocated here, as in the CPU module.
#include "args/norm.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/norm.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

py::object layer_norm(py::handle x, py::handle gamma, py::handle beta, py::handle eps, bool return_stats) {
  const char* op = "layer_norm";
  const auto a = args::layer_norm_args<A>(op, x, gamma, beta, eps);
  A y = A::empty(args::dims(a.x.x));
  std::optional<A> mean, rstd;
  if (return_stats) mean = A::empty(a.x.stats_dims), rstd = A::empty(a.x.stats_dims);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::layer_norm(y.data<float>(), mean ? mean->data<float>() : nullptr, rstd ? rstd->data<float>() : nullptr,
                           a.x.data, a.gamma.data<float>(), a.beta.data<float>(), a.x.rows, a.x.d, a.eps, stream);
  }
  check_cuda(op, err);
  if (!return_stats) return y.object();
  return py::make_tuple(y.object(), mean->object(), rstd->object());
}

py::tuple layer_norm_backward(py::handle dy, py::handle x, py::handle gamma, py::handle mean, py::handle rstd) {
  const char* op = "layer_norm_backward";
  const auto a = args::layer_norm_backward_args<A>(op, dy, x, gamma, mean, rstd);
  A dx = A::empty(args::dims(a.x.x)), dgamma = A::empty({a.x.d}), dbeta = A::empty({a.x.d});
  float* partial = nullptr;  // per-chunk sums of dgamma and dbeta
  const py::object partial_owner = scratch_array(cuda::layer_norm_backward_scratch(a.x.rows, a.x.d), &partial);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::layer_norm_backward(dx.data<float>(), dgamma.data<float>(), dbeta.data<float>(), partial,
                                    a.dy.data<float>(), a.x.data, a.gamma.data<float>(), a.mean.data<float>(),
                                    a.rstd.data<float>(), a.x.rows, a.x.d, stream);
  }
  check_cuda(op, err);
  return py::make_tuple(dx.object(), dgamma.object(), dbeta.object());
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("layer_norm", &layer_norm, py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("eps") = 1e-5,
        py::arg("return_stats") = false);
  m.def("layer_norm_backward", &layer_norm_backward, py::arg("dy"), py::arg("x"), py::arg("gamma"), py::arg("mean"),
        py::arg("rstd"));
}

}  // namespace ranvier::bindings
