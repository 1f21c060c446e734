// Arguments of relu, sigmoid, tanh, gelu and their backward
// (ranvier.ops.activation): float32 arrays of any shape, read densely.
#pragma once

#include <string>

#include "checks.h"

namespace ranvier::args {

// One activation as the modules expose it: `forward` and `backward` are the
// ops' names, `saved` the forward array the backward takes (y, but x for gelu,
// whose derivative is not a function of its output).
struct ActivationOp {
  Activation act;
  const char* forward;
  const char* backward;
  const char* saved;
};

inline constexpr ActivationOp kActivationOps[] = {{Activation::relu, "relu", "relu_backward", "y"},
                                                  {Activation::sigmoid, "sigmoid", "sigmoid_backward", "y"},
                                                  {Activation::tanh, "tanh", "tanh_backward", "y"},
                                                  {Activation::gelu, "gelu", "gelu_backward", "x"}};

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

using ActivationForward = py::object (*)(const ActivationOp&, py::handle x);
using ActivationBackward = py::object (*)(const ActivationOp&, py::handle dy, py::handle saved);

// Defines every op of kActivationOps in `m`: relu(x), relu_backward(dy, y), ...
inline void def_activations(py::module_& m, ActivationForward forward, ActivationBackward backward) {
  for (const ActivationOp& op : kActivationOps) {
    const ActivationOp* p = &op;
    m.def(op.forward, [p, forward](py::handle x) { return forward(*p, x); }, py::arg("x"));
    m.def(
        op.backward, [p, backward](py::handle dy, py::handle saved) { return backward(*p, dy, saved); }, py::arg("dy"),
        py::arg(op.saved));
  }
}

}  // namespace ranvier::args
