// Arguments of sgd_update, adam_update, rmsprop_update, nadam_update, adagrad_update, adamax_update and
// lion_update (ranvier.ops.optim).
//
// Every state array (param, velocity, m, v, v_hat, mean_grad, accumulator, u) is updated in place, so each must
// be a C-contiguous, writeable float32 array of param's shape: a converted or
// contiguous copy would silently drop the update. grad is only read, so a
// strided one is copied dense. No array may share memory with another.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checks.h"
#include "ranvier/optim.h"

namespace ranvier::args {

// A state array; `param` is null when reading param itself.
// A decay rate in [0, 1) that stays below 1 once rounded to the kernels' float32: 1 - 1e-9 would
// round to 1.0f and make Adam's bias correction 1 / (1 - beta^t) infinite.
inline float beta(const char* op, const char* name, py::handle b) {
  const float rate = static_cast<float>(real(op, name, b, 0.0, 1.0, true));
  if (!(rate < 1.0f))
    fail(op,
         std::string(name) + " must be below 1 in float32 (the kernels' precision), got " + std::string(py::repr(b)));
  return rate;
}

template <class A>
A in_place(const char* op, const char* name, py::handle obj, const A* param = nullptr) {
  A a = A::read(op, name, obj);
  if (a.dtype() != DType::float32)
    type_fail(op, std::string(name) + " must be a float32 array (updated in place), got " + describe(a));
  if (!a.c_contiguous())
    fail(op, std::string(name) + " must be C-contiguous: it is updated in place, and a contiguous copy " +
                 "would lose the update; got a strided " + describe(a) + " view");
  if (!a.writeable()) fail(op, std::string(name) + " must be writeable (it is updated in place)");
  if (param && !has_dims(a, dims(*param)))
    fail(op, std::string(name) + " must have param's shape " + shape_str(*param) + ", got " + shape_str(a));
  return a;
}

template <class A>
std::optional<A> in_place_optional(const char* op, const char* name, py::handle obj, const A& param) {
  if (obj.is_none()) return std::nullopt;
  return in_place(op, name, obj, &param);
}

// grad, of param's shape, dense.
template <class A>
A grad_of(const char* op, py::handle obj, const A& param) {
  A g = A::read(op, "grad", obj);
  require_float32(op, "grad", g);
  if (!has_dims(g, dims(param))) fail(op, "grad must have param's shape " + shape_str(param) + ", got " + shape_str(g));
  dense(g);
  return g;
}

// The arrays, all C-contiguous by now, must not overlap: their byte ranges
// [data, data + 4 * size) are compared (an empty array overlaps nothing).
template <class A>
void distinct(const char* op, std::initializer_list<std::pair<const char*, const A*>> arrays) {
  const std::vector<std::pair<const char*, const A*>> list(arrays);
  for (std::size_t i = 0; i < list.size(); ++i) {
    for (std::size_t j = i + 1; j < list.size(); ++j) {
      const A *a = list[i].second, *b = list[j].second;
      if (!a || !b || size(*a) == 0 || size(*b) == 0) continue;
      const char *a0 = a->template data<char>(), *b0 = b->template data<char>();
      if (a0 < b0 + 4 * size(*b) && b0 < a0 + 4 * size(*a))
        fail(op,
             std::string(list[i].first) + " and " + list[j].first + " must be separate arrays, but they share memory");
    }
  }
}

// momentum > 0 accumulates into a velocity the caller must pass.
inline void require_velocity(const char* op, double momentum, bool has_velocity) {
  if (momentum > 0 && !has_velocity)
    fail(op, "momentum " + std::string(py::repr(py::float_(momentum))) +
                 " needs velocity= (param's shape, zeros at the first step)");
}

template <class A>
struct SgdArgs {
  A param, grad;
  std::optional<A> velocity;
  float lr, momentum, weight_decay;
  bool nesterov;
  std::int64_t n;
};

template <class A>
SgdArgs<A> sgd_args(py::handle param_obj, py::handle grad_obj, py::handle velocity_obj, py::handle lr,
                    py::handle momentum, bool nesterov, py::handle weight_decay) {
  const char* op = "sgd_update";
  A param = in_place<A>(op, "param", param_obj);
  A grad = grad_of(op, grad_obj, param);
  std::optional<A> velocity = in_place_optional(op, "velocity", velocity_obj, param);
  SgdArgs<A> a{std::move(param), std::move(grad), std::move(velocity)};
  a.lr = static_cast<float>(real(op, "lr", lr, 0.0));
  const double mom = real(op, "momentum", momentum, 0.0);
  a.momentum = static_cast<float>(mom);
  a.weight_decay = static_cast<float>(real(op, "weight_decay", weight_decay, 0.0));
  a.nesterov = nesterov;
  require_velocity(op, mom, a.velocity.has_value());
  if (nesterov && mom == 0) fail(op, "nesterov needs momentum > 0");
  distinct<A>(op, {{"param", &a.param}, {"velocity", a.velocity ? &*a.velocity : nullptr}, {"grad", &a.grad}});
  a.n = size(a.param);
  return a;
}

template <class A>
struct AdamArgs {
  A param, grad, m, v;
  std::optional<A> v_hat;
  std::int64_t step;
  float lr, beta1, beta2, eps, weight_decay;
  bool decoupled;
  std::int64_t n;
};

template <class A>
AdamArgs<A> adam_args(py::handle param_obj, py::handle grad_obj, py::handle m_obj, py::handle v_obj, py::handle step,
                      py::handle lr, py::handle beta1, py::handle beta2, py::handle eps, py::handle weight_decay,
                      bool decoupled, py::handle v_hat_obj) {
  const char* op = "adam_update";
  A param = in_place<A>(op, "param", param_obj);
  A grad = grad_of(op, grad_obj, param);
  A m = in_place(op, "m", m_obj, &param);
  A v = in_place(op, "v", v_obj, &param);
  std::optional<A> v_hat = in_place_optional(op, "v_hat", v_hat_obj, param);
  AdamArgs<A> a{std::move(param), std::move(grad), std::move(m), std::move(v), std::move(v_hat)};
  a.step = integer(op, "step", step, 1);
  a.lr = static_cast<float>(real(op, "lr", lr, 0.0));
  a.beta1 = beta(op, "beta1", beta1);
  a.beta2 = beta(op, "beta2", beta2);
  a.eps = static_cast<float>(real(op, "eps", eps, 0.0));
  a.weight_decay = static_cast<float>(real(op, "weight_decay", weight_decay, 0.0));
  a.decoupled = decoupled;
  distinct<A>(
      op, {{"param", &a.param}, {"m", &a.m}, {"v", &a.v}, {"v_hat", a.v_hat ? &*a.v_hat : nullptr}, {"grad", &a.grad}});
  a.n = size(a.param);
  return a;
}

template <class A>
struct RmspropArgs {
  A param, grad, v;
  std::optional<A> velocity, mean_grad;
  float lr, rho, eps, momentum;
  std::int64_t n;
};

template <class A>
RmspropArgs<A> rmsprop_args(py::handle param_obj, py::handle grad_obj, py::handle v_obj, py::handle velocity_obj,
                            py::handle mean_grad_obj, py::handle lr, py::handle rho, py::handle eps,
                            py::handle momentum) {
  const char* op = "rmsprop_update";
  A param = in_place<A>(op, "param", param_obj);
  A grad = grad_of(op, grad_obj, param);
  A v = in_place(op, "v", v_obj, &param);
  std::optional<A> velocity = in_place_optional(op, "velocity", velocity_obj, param);
  std::optional<A> mean_grad = in_place_optional(op, "mean_grad", mean_grad_obj, param);
  RmspropArgs<A> a{std::move(param), std::move(grad), std::move(v), std::move(velocity), std::move(mean_grad)};
  a.lr = static_cast<float>(real(op, "lr", lr, 0.0));
  a.rho = beta(op, "rho", rho);
  a.eps = static_cast<float>(real(op, "eps", eps, 0.0));
  const double mom = real(op, "momentum", momentum, 0.0);
  a.momentum = static_cast<float>(mom);
  require_velocity(op, mom, a.velocity.has_value());
  distinct<A>(op, {{"param", &a.param},
                   {"v", &a.v},
                   {"velocity", a.velocity ? &*a.velocity : nullptr},
                   {"mean_grad", a.mean_grad ? &*a.mean_grad : nullptr},
                   {"grad", &a.grad}});
  a.n = size(a.param);
  return a;
}

// The Keras 3 optimizers (Nadam, Adagrad, Adamax, Lion): param, grad and up to two slots, with the
// scalars each reads; weight decay is always decoupled.
template <class A>
struct SlotArgs {
  A param, grad, first;
  std::optional<A> second;
  std::int64_t n;
};

template <class A>
SlotArgs<A> slot_args(const char* op, py::handle param_obj, py::handle grad_obj, const char* first_name,
                      py::handle first_obj, const char* second_name = nullptr, py::handle second_obj = py::none()) {
  A param = in_place<A>(op, "param", param_obj);
  A grad = grad_of(op, grad_obj, param);
  A first = in_place(op, first_name, first_obj, &param);
  std::optional<A> second;
  if (second_name) second = in_place(op, second_name, second_obj, &param);
  SlotArgs<A> a{std::move(param), std::move(grad), std::move(first), std::move(second)};
  distinct<A>(op, {{"param", &a.param},
                   {first_name, &a.first},
                   {second_name ? second_name : "", a.second ? &*a.second : nullptr},
                   {"grad", &a.grad}});
  a.n = size(a.param);
  return a;
}

inline float rate(const char* op, py::handle lr) { return static_cast<float>(real(op, "lr", lr, 0.0)); }
inline float epsilon(const char* op, py::handle eps) { return static_cast<float>(real(op, "eps", eps, 0.0)); }
inline float decay(const char* op, float lr, py::handle weight_decay) {
  return static_cast<float>(1.0 - static_cast<double>(lr) * real(op, "weight_decay", weight_decay, 0.0));
}

template <class A>
struct NadamArgs {
  SlotArgs<A> arrays;
  NadamCoefficients c;
};

template <class A>
NadamArgs<A> nadam_args(py::handle param, py::handle grad, py::handle m, py::handle v, py::handle step,
                        py::handle u_product, py::handle lr, py::handle beta1, py::handle beta2, py::handle eps,
                        py::handle weight_decay) {
  const char* op = "nadam_update";
  NadamArgs<A> a{slot_args<A>(op, param, grad, "m", m, "v", v)};
  const std::int64_t t = integer(op, "step", step, 1);
  // u_1 ... u_t are each in [beta1 / 2, beta1), so their product is in (0, 1)
  const double product = real(op, "u_product", u_product, 0.0, 1.0, true);
  if (product <= 0) fail(op, "u_product must be in (0, 1), got " + std::string(py::repr(u_product)));
  const float rate_ = rate(op, lr), wd = static_cast<float>(real(op, "weight_decay", weight_decay, 0.0));
  a.c = NadamCoefficients::for_step(t, product, rate_, beta(op, "beta1", beta1), beta(op, "beta2", beta2),
                                    epsilon(op, eps), wd);
  return a;
}

template <class A>
struct AdagradArgs {
  SlotArgs<A> arrays;
  AdagradCoefficients c;
};

template <class A>
AdagradArgs<A> adagrad_args(py::handle param, py::handle grad, py::handle accumulator, py::handle lr, py::handle eps,
                            py::handle weight_decay) {
  const char* op = "adagrad_update";
  AdagradArgs<A> a{slot_args<A>(op, param, grad, "accumulator", accumulator)};
  const float rate_ = rate(op, lr);
  a.c = {rate_, epsilon(op, eps), decay(op, rate_, weight_decay)};
  return a;
}

template <class A>
struct AdamaxArgs {
  SlotArgs<A> arrays;
  AdamaxCoefficients c;
};

template <class A>
AdamaxArgs<A> adamax_args(py::handle param, py::handle grad, py::handle m, py::handle u, py::handle step, py::handle lr,
                          py::handle beta1, py::handle beta2, py::handle eps, py::handle weight_decay) {
  const char* op = "adamax_update";
  AdamaxArgs<A> a{slot_args<A>(op, param, grad, "m", m, "u", u)};
  const std::int64_t t = integer(op, "step", step, 1);
  const float rate_ = rate(op, lr), wd = static_cast<float>(real(op, "weight_decay", weight_decay, 0.0));
  a.c =
      AdamaxCoefficients::for_step(t, rate_, beta(op, "beta1", beta1), beta(op, "beta2", beta2), epsilon(op, eps), wd);
  return a;
}

template <class A>
struct LionArgs {
  SlotArgs<A> arrays;
  LionCoefficients c;
};

template <class A>
LionArgs<A> lion_args(py::handle param, py::handle grad, py::handle m, py::handle lr, py::handle beta1,
                      py::handle beta2, py::handle weight_decay) {
  const char* op = "lion_update";
  LionArgs<A> a{slot_args<A>(op, param, grad, "m", m)};
  const float rate_ = rate(op, lr);
  a.c = {rate_, beta(op, "beta1", beta1), beta(op, "beta2", beta2), decay(op, rate_, weight_decay)};
  return a;
}

}  // namespace ranvier::args
