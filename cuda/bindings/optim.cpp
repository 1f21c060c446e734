// The optimizer updates on CUDA arrays: checked by cpp/args/optim.h, then
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
                 py::handle beta1, py::handle beta2, py::handle eps, py::handle weight_decay, bool decoupled,
                 py::handle v_hat) {
  const auto a = args::adam_args<A>(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay, decoupled, v_hat);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::adam_update(a.param.data<float>(), a.m.data<float>(), a.v.data<float>(),
                            a.v_hat ? a.v_hat->data<float>() : nullptr, a.grad.data<float>(), a.n, a.step, a.lr,
                            a.beta1, a.beta2, a.eps, a.weight_decay, a.decoupled, stream);
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

// Runs one launch with the GIL released, then raises the CUDA error naming the op.
template <class Launch>
void launch(const char* op, Launch&& run) {
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = run(stream);
  }
  check_cuda(op, err);
}

void nadam_update(py::handle param, py::handle grad, py::handle m, py::handle v, py::handle step, py::handle u_product,
                  py::handle lr, py::handle beta1, py::handle beta2, py::handle eps, py::handle weight_decay) {
  const auto a = args::nadam_args<A>(param, grad, m, v, step, u_product, lr, beta1, beta2, eps, weight_decay);
  const auto& x = a.arrays;
  launch("nadam_update", [&](cudaStream_t s) {
    return cuda::nadam_update(x.param.data<float>(), x.first.data<float>(), x.second->data<float>(),
                              x.grad.data<float>(), x.n, a.c, s);
  });
}

void adagrad_update(py::handle param, py::handle grad, py::handle accumulator, py::handle lr, py::handle eps,
                    py::handle weight_decay) {
  const auto a = args::adagrad_args<A>(param, grad, accumulator, lr, eps, weight_decay);
  const auto& x = a.arrays;
  launch("adagrad_update", [&](cudaStream_t s) {
    return cuda::adagrad_update(x.param.data<float>(), x.first.data<float>(), x.grad.data<float>(), x.n, a.c, s);
  });
}

void adamax_update(py::handle param, py::handle grad, py::handle m, py::handle u, py::handle step, py::handle lr,
                   py::handle beta1, py::handle beta2, py::handle eps, py::handle weight_decay) {
  const auto a = args::adamax_args<A>(param, grad, m, u, step, lr, beta1, beta2, eps, weight_decay);
  const auto& x = a.arrays;
  launch("adamax_update", [&](cudaStream_t s) {
    return cuda::adamax_update(x.param.data<float>(), x.first.data<float>(), x.second->data<float>(),
                               x.grad.data<float>(), x.n, a.c, s);
  });
}

void lion_update(py::handle param, py::handle grad, py::handle m, py::handle lr, py::handle beta1, py::handle beta2,
                 py::handle weight_decay) {
  const auto a = args::lion_args<A>(param, grad, m, lr, beta1, beta2, weight_decay);
  const auto& x = a.arrays;
  launch("lion_update", [&](cudaStream_t s) {
    return cuda::lion_update(x.param.data<float>(), x.first.data<float>(), x.grad.data<float>(), x.n, a.c, s);
  });
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("sgd_update", &sgd_update, py::arg("param"), py::arg("grad"), py::arg("velocity").none(true), py::arg("lr"),
        py::arg("momentum"), py::arg("nesterov"), py::arg("weight_decay"));
  m.def("adam_update", &adam_update, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::arg("step"),
        py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
        py::arg("decoupled"), py::arg("v_hat").none(true) = py::none());
  m.def("rmsprop_update", &rmsprop_update, py::arg("param"), py::arg("grad"), py::arg("v"),
        py::arg("velocity").none(true), py::arg("mean_grad").none(true), py::arg("lr"), py::arg("rho"), py::arg("eps"),
        py::arg("momentum"));
  m.def("nadam_update", &nadam_update, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::arg("step"),
        py::arg("u_product"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
        py::arg("weight_decay"));
  m.def("adagrad_update", &adagrad_update, py::arg("param"), py::arg("grad"), py::arg("accumulator"), py::arg("lr"),
        py::arg("eps"), py::arg("weight_decay"));
  m.def("adamax_update", &adamax_update, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("u"), py::arg("step"),
        py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"));
  m.def("lion_update", &lion_update, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("lr"), py::arg("beta1"),
        py::arg("beta2"), py::arg("weight_decay"));
}

}  // namespace ranvier::bindings
