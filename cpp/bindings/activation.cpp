// The element-wise activations and their backward: checked by
// cpp/args/activation.h, outputs allocated here.
#include "args/activation.h"
#include "host_array.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

py::object forward(const args::ActivationOp& op, py::handle x_obj, const ActivationParams& params) {
  const A x = args::activation_input<A>(op, x_obj);
  A y = A::empty(args::dims(x));
  launch(op.forward, [=] {
    // a fresh output: written past the caches when large
    cpu::activation_forward(op.act, params, y.data<float>(), x.data<float>(), args::size(x), /*fresh_output=*/true);
  });
  return y.object();
}

py::object backward(const args::ActivationOp& op, py::handle dy_obj, py::handle saved_obj,
                    const ActivationParams& params) {
  const auto a = args::activation_grad<A>(op, dy_obj, saved_obj);
  A dx = A::empty(args::dims(a.dy));
  launch(op.backward, [=] {
    cpu::activation_backward(op.act, params, dx.data<float>(), a.dy.data<float>(), a.saved.data<float>(),
                             args::size(a.dy),
                             /*fresh_output=*/true);
  });
  return dx.object();
}

}  // namespace

void bind_activation(py::module_& m) { args::def_activations(m, forward, backward); }

}  // namespace ranvier::bindings
