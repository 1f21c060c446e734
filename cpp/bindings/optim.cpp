// sgd_update, adam_update and rmsprop_update: checked by cpp/args/optim.h, then updated in
// place (nothing is allocated).
#include "ranvier/optim.h"
#include "args/optim.h"
#include "host_array.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

void sgd_update(py::handle param, py::handle grad, py::handle velocity, py::handle lr, py::handle momentum,
                bool nesterov, py::handle weight_decay) {
  auto a = args::sgd_args<A>(param, grad, velocity, lr, momentum, nesterov, weight_decay);
  float* vp = a.velocity ? a.velocity->data<float>() : nullptr;
  py::gil_scoped_release release;
  cpu::sgd_update(a.param.data<float>(), vp, a.grad.data<float>(), a.n, a.lr, a.momentum, a.nesterov, a.weight_decay);
}

void adam_update(py::handle param, py::handle grad, py::handle m, py::handle v, py::handle step, py::handle lr,
                 py::handle beta1, py::handle beta2, py::handle eps, py::handle weight_decay, bool decoupled) {
  auto a = args::adam_args<A>(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay, decoupled);
  py::gil_scoped_release release;
  cpu::adam_update(a.param.data<float>(), a.m.data<float>(), a.v.data<float>(), a.grad.data<float>(), a.n, a.step, a.lr,
                   a.beta1, a.beta2, a.eps, a.weight_decay, a.decoupled);
}

void rmsprop_update(py::handle param, py::handle grad, py::handle v, py::handle velocity, py::handle mean_grad,
                    py::handle lr, py::handle rho, py::handle eps, py::handle momentum) {
  auto a = args::rmsprop_args<A>(param, grad, v, velocity, mean_grad, lr, rho, eps, momentum);
  float* vel = a.velocity ? a.velocity->data<float>() : nullptr;
  float* mg = a.mean_grad ? a.mean_grad->data<float>() : nullptr;
  py::gil_scoped_release release;
  cpu::rmsprop_update(a.param.data<float>(), a.v.data<float>(), vel, mg, a.grad.data<float>(), a.n, a.lr, a.rho, a.eps,
                      a.momentum);
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("sgd_update", &sgd_update, py::arg("param"), py::arg("grad"), py::arg("velocity").none(true), py::arg("lr"),
        py::arg("momentum"), py::arg("nesterov"), py::arg("weight_decay"),
        "SGD step on param (and velocity, or None) in place");
  m.def("adam_update", &adam_update, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::arg("step"),
        py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
        py::arg("decoupled"), "Adam (or AdamW when decoupled) step on param, m, v in place");
  m.def("rmsprop_update", &rmsprop_update, py::arg("param"), py::arg("grad"), py::arg("v"),
        py::arg("velocity").none(true), py::arg("mean_grad").none(true), py::arg("lr"), py::arg("rho"), py::arg("eps"),
        py::arg("momentum"), "RMSprop step on param, v (and velocity, mean_grad, or None) in place");
}

}  // namespace ranvier::bindings
