// Element-wise activations: forward and backward on contiguous float32 arrays.
#include <string>

#include "array_args.h"

namespace ranvier::bindings {

void bind_activation(py::module_& m) {
  m.def(
      "activation_forward",
      [](Array y, const Array& x, const std::string& act_name) {
        const char* op = "activation";
        Activation act = activation_arg(op, act_name);
        if (x.size() != y.size()) fail(op, "x and y sizes differ");
        const float* xp = contiguous_in(op, "x", x);
        float* yp = contiguous_out(op, "y", y);
        py::gil_scoped_release release;
        cpu::activation_forward(act, yp, xp, x.size(), /*fresh_output=*/true);
      },
      py::arg("y").noconvert(), py::arg("x").noconvert(), py::arg("activation"));

  m.def(
      "activation_backward",
      [](Array dx, const Array& dy, const Array& saved, const std::string& act_name) {
        const char* op = "activation_backward";
        Activation act = activation_arg(op, act_name);
        if (dy.size() != dx.size() || saved.size() != dx.size())
          fail(op, "dx, dy and the saved forward array must have the same size");
        const float* dyp = contiguous_in(op, "dy", dy);
        const float* sp = contiguous_in(op, "saved", saved);
        float* dxp = contiguous_out(op, "dx", dx);
        py::gil_scoped_release release;
        cpu::activation_backward(act, dxp, dyp, sp, dx.size(), /*fresh_output=*/true);
      },
      py::arg("dx").noconvert(), py::arg("dy").noconvert(), py::arg("saved").noconvert(),
      py::arg("activation"));
}

}  // namespace ranvier::bindings
