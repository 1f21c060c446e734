// sgd_update, adam_update and rmsprop_update on CUDA arrays: checked by cpp/args/optim.h, then
// updated in place on CuPy's current stream, as in the CPU module.
#include "args/optim.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/optim.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

void sgd_update(py::handle param, py::handle grad, py::handle velocity, py::handle lr, py::handle momentum,
                bool nesterov, py::handle weight_decay) {
  const auto a = args::sgd_args<A>(param, grad, velocity, lr, momentum, nesterov, weight_decay);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::sgd_update(a.param.data<float>(), a.velocity ? a.velocity->data<float>() : nullptr,
                           a.grad.data<float>(), a.n, a.lr, a.momentum, a.nesterov, a.weight_decay, stream);
  }
  check_cuda("sgd_update", err);
}

void adam_update(py::handle param, py::handle grad, py::handle m, py::handle v, py::handle step, py::handle lr,
                 py::handle beta1, py::handle beta2, py::handle eps, py::handle weight_decay, bool decoupled) {
  const auto a = args::adam_args<A>(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay, decoupled);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::adam_update(a.param.data<float>(), a.m.data<float>(), a.v.data<float>(), a.grad.data<float>(), a.n,
                            a.step, a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, a.decoupled, stream);
  }
  check_cuda("adam_update", err);
}

void rmsprop_update(py::handle param, py::handle grad, py::handle v, py::handle velocity, py::handle mean_grad,
                    py::handle lr, py::handle rho, py::handle eps, py::handle momentum) {
  const auto a = args::rmsprop_args<A>(param, grad, v, velocity, mean_grad, lr, rho, eps, momentum);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err =
        cuda::rmsprop_update(a.param.data<float>(), a.v.data<float>(), a.velocity ? a.velocity->data<float>() : nullptr,
                             a.mean_grad ? a.mean_grad->data<float>() : nullptr, a.grad.data<float>(), a.n, a.lr, a.rho,
                             a.eps, a.momentum, stream);
  }
  check_cuda("rmsprop_update", err);
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("sgd_update", &sgd_update, py::arg("param"), py::arg("grad"), py::arg("velocity").none(true), py::arg("lr"),
        py::arg("momentum"), py::arg("nesterov"), py::arg("weight_decay"));
  m.def("adam_update", &adam_update, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::arg("step"),
        py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
        py::arg("decoupled"));
  m.def("rmsprop_update", &rmsprop_update, py::arg("param"), py::arg("grad"), py::arg("v"),
        py::arg("velocity").none(true), py::arg("mean_grad").none(true), py::arg("lr"), py::arg("rho"), py::arg("eps"),
        py::arg("momentum"));
}

}  // namespace ranvier::bindings
