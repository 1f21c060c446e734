// Arguments of the element-wise activations and their backward
// (ranvier.ops.activation): float32 arrays of any shape, read densely, and
// the parameters of leaky_relu, elu and relu_general.
#pragma once

#include <cfloat>
#include <string>

#include "checks.h"

namespace ranvier::args {

// One activation as the modules expose it: `forward` and `backward` are the
// ops' names, `saved` the forward array the backward takes (y, but x where
// the derivative is not a function of the output: see derivative_needs_input),
// `param` its one parameter (nullptr for none) with Keras' default.
struct ActivationOp {
  Activation act;
  const char* forward;
  const char* backward;
  const char* saved;
  const char* param = nullptr;
  float param_default = 0.0f;
};

inline constexpr ActivationOp kActivationOps[] = {
    {Activation::relu, "relu", "relu_backward", "y"},
    {Activation::sigmoid, "sigmoid", "sigmoid_backward", "y"},
    {Activation::tanh, "tanh", "tanh_backward", "y"},
    {Activation::gelu, "gelu", "gelu_backward", "x"},
    {Activation::leaky_relu, "leaky_relu", "leaky_relu_backward", "y", "negative_slope", 0.2f},
    {Activation::elu, "elu", "elu_backward", "y", "alpha", 1.0f},
    {Activation::selu, "selu", "selu_backward", "y"},
    {Activation::silu, "silu", "silu_backward", "x"},
    {Activation::softplus, "softplus", "softplus_backward", "x"},
    {Activation::softsign, "softsign", "softsign_backward", "x"},
    {Activation::hard_sigmoid, "hard_sigmoid", "hard_sigmoid_backward", "y"},
    {Activation::exponential, "exponential", "exponential_backward", "y"},
};

// Keras' ReLU layer: relu_general(x, negative_slope, max_value, threshold).
inline constexpr ActivationOp kReluGeneral = {Activation::relu_general, "relu_general", "relu_general_backward", "x"};

template <class A>
A activation_input(const ActivationOp& op, py::handle x_obj) {
  A x = A::read(op.forward, "x", x_obj);
  require_float32(op.forward, "x", x);
  dense(x);
  return x;
}

template <class A>
struct ActivationGrad {
  A dy, saved;
};

// dy and the saved forward array, of one shape.
template <class A>
ActivationGrad<A> activation_grad(const ActivationOp& op, py::handle dy_obj, py::handle saved_obj) {
  const char* name = op.backward;
  A dy = A::read(name, "dy", dy_obj);
  require_float32(name, "dy", dy);
  A saved = A::read(name, op.saved, saved_obj);
  require_float32(name, op.saved, saved);
  if (!has_dims(saved, dims(dy)))
    fail(name, std::string("dy and ") + op.saved + " must have the same shape, got " + shape_str(dy) + " and " +
                   shape_str(saved));
  dense(dy);
  dense(saved);
  return {std::move(dy), std::move(saved)};
}

// The one parameter of `op` (a float32-finite number >= 0: the backward of
// leaky_relu and elu reads the sign of x from y, which a negative one would flip).
inline ActivationParams activation_param(const ActivationOp& op, const char* op_name, py::handle v) {
  ActivationParams p = default_params(op.act);
  if (op.param != nullptr) p.alpha = static_cast<float>(real(op_name, op.param, v, 0.0, FLT_MAX));
  return p;
}

// relu_general's: negative_slope >= 0, max_value None or >= 0, threshold any
// finite number (Keras' ReLU layer also asks threshold >= 0; its function does not).
inline ActivationParams relu_general_params(const char* op_name, py::handle negative_slope, py::handle max_value,
                                            py::handle threshold) {
  ActivationParams p;
  p.alpha = static_cast<float>(real(op_name, "negative_slope", negative_slope, 0.0, FLT_MAX));
  p.max_value =
      max_value.is_none() ? INFINITY : static_cast<float>(real(op_name, "max_value", max_value, 0.0, FLT_MAX));
  p.threshold = static_cast<float>(real(op_name, "threshold", threshold, -FLT_MAX, FLT_MAX));
  return p;
}

using ActivationForward = py::object (*)(const ActivationOp&, py::handle x, const ActivationParams&);
using ActivationBackward = py::object (*)(const ActivationOp&, py::handle dy, py::handle saved,
                                          const ActivationParams&);

// Defines every op of kActivationOps in `m`: relu(x), relu_backward(dy, y),
// leaky_relu(x, negative_slope=0.2), ..., and relu_general.
inline void def_activations(py::module_& m, ActivationForward forward, ActivationBackward backward) {
  for (const ActivationOp& op : kActivationOps) {
    const ActivationOp* p = &op;
    if (op.param == nullptr) {
      m.def(op.forward, [p, forward](py::handle x) { return forward(*p, x, default_params(p->act)); }, py::arg("x"));
      m.def(
          op.backward,
          [p, backward](py::handle dy, py::handle saved) { return backward(*p, dy, saved, default_params(p->act)); },
          py::arg("dy"), py::arg(op.saved));
      continue;
    }
    m.def(
        op.forward,
        [p, forward](py::handle x, py::handle param) {
          return forward(*p, x, activation_param(*p, p->forward, param));
        },
        py::arg("x"), py::arg(op.param) = op.param_default);
    m.def(
        op.backward,
        [p, backward](py::handle dy, py::handle saved, py::handle param) {
          return backward(*p, dy, saved, activation_param(*p, p->backward, param));
        },
        py::arg("dy"), py::arg(op.saved), py::arg(op.param) = op.param_default);
  }
  const ActivationOp* g = &kReluGeneral;
  m.def(
      g->forward,
      [g, forward](py::handle x, py::handle negative_slope, py::handle max_value, py::handle threshold) {
        return forward(*g, x, relu_general_params(g->forward, negative_slope, max_value, threshold));
      },
      py::arg("x"), py::arg("negative_slope") = 0.0, py::arg("max_value") = py::none(), py::arg("threshold") = 0.0);
  m.def(
      g->backward,
      [g, backward](py::handle dy, py::handle x, py::handle negative_slope, py::handle max_value,
                    py::handle threshold) {
        return backward(*g, dy, x, relu_general_params(g->backward, negative_slope, max_value, threshold));
      },
      py::arg("dy"), py::arg("x"), py::arg("negative_slope") = 0.0, py::arg("max_value") = py::none(),
      py::arg("threshold") = 0.0);
}

}  // namespace ranvier::args
