// The optimizer updates (sgd, adam, rmsprop, nadam, adagrad, adamax, lion): checked by cpp/args/optim.h, then updated
// in place (nothing is allocated). The learning rate and step of sgd, adam and rmsprop are a replay's to give
// (step_plan.h); the other updates replay with the scalars they were recorded with.
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
  launch_update("sgd_update", {a.lr, 0}, [a, vp](const StepScalars& s) {
    cpu::sgd_update(a.param.data<float>(), vp, a.grad.data<float>(), a.n, static_cast<float>(s.lr), a.momentum,
                    a.nesterov, a.weight_decay);
  });
}

void adam_update(py::handle param, py::handle grad, py::handle m, py::handle v, py::handle step, py::handle lr,
                 py::handle beta1, py::handle beta2, py::handle eps, py::handle weight_decay, bool decoupled,
                 py::handle v_hat) {
  auto a = args::adam_args<A>(param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay, decoupled, v_hat);
  float* vh = a.v_hat ? a.v_hat->data<float>() : nullptr;
  launch_update("adam_update", {a.lr, a.step}, [a, vh](const StepScalars& s) {
    cpu::adam_update(a.param.data<float>(), a.m.data<float>(), a.v.data<float>(), vh, a.grad.data<float>(), a.n, s.step,
                     static_cast<float>(s.lr), a.beta1, a.beta2, a.eps, a.weight_decay, a.decoupled);
  });
}

void rmsprop_update(py::handle param, py::handle grad, py::handle v, py::handle velocity, py::handle mean_grad,
                    py::handle lr, py::handle rho, py::handle eps, py::handle momentum) {
  auto a = args::rmsprop_args<A>(param, grad, v, velocity, mean_grad, lr, rho, eps, momentum);
  float* vel = a.velocity ? a.velocity->data<float>() : nullptr;
  float* mg = a.mean_grad ? a.mean_grad->data<float>() : nullptr;
  launch_update("rmsprop_update", {a.lr, 0}, [a, vel, mg](const StepScalars& s) {
    cpu::rmsprop_update(a.param.data<float>(), a.v.data<float>(), vel, mg, a.grad.data<float>(), a.n,
                        static_cast<float>(s.lr), a.rho, a.eps, a.momentum);
  });
}

void nadam_update(py::handle param, py::handle grad, py::handle m, py::handle v, py::handle step, py::handle u_product,
                  py::handle lr, py::handle beta1, py::handle beta2, py::handle eps, py::handle weight_decay) {
  auto a = args::nadam_args<A>(param, grad, m, v, step, u_product, lr, beta1, beta2, eps, weight_decay);
  auto& x = a.arrays;
  launch("nadam_update", [=] {
    cpu::nadam_update(x.param.data<float>(), x.first.data<float>(), x.second->data<float>(), x.grad.data<float>(), x.n,
                      a.c);
  });
}

void adagrad_update(py::handle param, py::handle grad, py::handle accumulator, py::handle lr, py::handle eps,
                    py::handle weight_decay) {
  auto a = args::adagrad_args<A>(param, grad, accumulator, lr, eps, weight_decay);
  auto& x = a.arrays;
  launch("adagrad_update",
         [=] { cpu::adagrad_update(x.param.data<float>(), x.first.data<float>(), x.grad.data<float>(), x.n, a.c); });
}

void adamax_update(py::handle param, py::handle grad, py::handle m, py::handle u, py::handle step, py::handle lr,
                   py::handle beta1, py::handle beta2, py::handle eps, py::handle weight_decay) {
  auto a = args::adamax_args<A>(param, grad, m, u, step, lr, beta1, beta2, eps, weight_decay);
  auto& x = a.arrays;
  launch("adamax_update", [=] {
    cpu::adamax_update(x.param.data<float>(), x.first.data<float>(), x.second->data<float>(), x.grad.data<float>(), x.n,
                       a.c);
  });
}

void lion_update(py::handle param, py::handle grad, py::handle m, py::handle lr, py::handle beta1, py::handle beta2,
                 py::handle weight_decay) {
  auto a = args::lion_args<A>(param, grad, m, lr, beta1, beta2, weight_decay);
  auto& x = a.arrays;
  launch("lion_update",
         [=] { cpu::lion_update(x.param.data<float>(), x.first.data<float>(), x.grad.data<float>(), x.n, a.c); });
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("sgd_update", &sgd_update, py::arg("param"), py::arg("grad"), py::arg("velocity").none(true), py::arg("lr"),
        py::arg("momentum"), py::arg("nesterov"), py::arg("weight_decay"),
        "SGD step on param (and velocity, or None) in place");
  m.def("adam_update", &adam_update, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::arg("step"),
        py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
        py::arg("decoupled"), py::arg("v_hat").none(true) = py::none(),
        "Adam (or AdamW when decoupled; AMSGrad with v_hat) step on param, m, v in place");
  m.def("rmsprop_update", &rmsprop_update, py::arg("param"), py::arg("grad"), py::arg("v"),
        py::arg("velocity").none(true), py::arg("mean_grad").none(true), py::arg("lr"), py::arg("rho"), py::arg("eps"),
        py::arg("momentum"), "RMSprop step on param, v (and velocity, mean_grad, or None) in place");
  m.def("nadam_update", &nadam_update, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::arg("step"),
        py::arg("u_product"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
        py::arg("weight_decay"), "Nadam (Keras 3) step on param, m, v in place");
  m.def("adagrad_update", &adagrad_update, py::arg("param"), py::arg("grad"), py::arg("accumulator"), py::arg("lr"),
        py::arg("eps"), py::arg("weight_decay"), "Adagrad (Keras 3) step on param, accumulator in place");
  m.def("adamax_update", &adamax_update, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("u"), py::arg("step"),
        py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
        "Adamax (Keras 3) step on param, m, u in place");
  m.def("lion_update", &lion_update, py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("lr"), py::arg("beta1"),
        py::arg("beta2"), py::arg("weight_decay"), "Lion (Keras 3) step on param, m in place");
}

}  // namespace ranvier::bindings
