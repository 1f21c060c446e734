// Element-wise activations on CUDA arrays: forward and backward on contiguous
// float32 arrays; the same call signatures as the _cpu module's.
#include <string>

#include "device_array.h"
#include "ranvier_cuda/activation.h"

namespace ranvier::bindings {

void bind_activation(py::module_& m) {
  m.def(
      "activation_forward",
      [](const py::object& y_obj, const py::object& x_obj, const std::string& act_name) {
        const char* op = "activation";
        const Activation act = activation_arg(op, act_name);
        const DeviceArray x = device_array(op, "x", x_obj), y = device_array(op, "y", y_obj);
        if (x.size() != y.size()) fail(op, "x and y sizes differ");
        const float* xp = contiguous_in(op, "x", x);
        float* yp = contiguous_out(op, "y", y);
        const cudaStream_t stream = current_stream();
        cudaError_t err;
        {
          py::gil_scoped_release release;
          err = cuda::activation_forward(act, yp, xp, x.size(), stream);
        }
        check_cuda(op, err);
      },
      py::arg("y"), py::arg("x"), py::arg("activation"));

  m.def(
      "activation_backward",
      [](const py::object& dx_obj, const py::object& dy_obj, const py::object& saved_obj,
         const std::string& act_name) {
        const char* op = "activation_backward";
        const Activation act = activation_arg(op, act_name);
        const DeviceArray dx = device_array(op, "dx", dx_obj), dy = device_array(op, "dy", dy_obj);
        const DeviceArray saved = device_array(op, "saved", saved_obj);
        if (dy.size() != dx.size() || saved.size() != dx.size())
          fail(op, "dx, dy and the saved forward array must have the same size");
        const float* dyp = contiguous_in(op, "dy", dy);
        const float* sp = contiguous_in(op, "saved", saved);
        float* dxp = contiguous_out(op, "dx", dx);
        const cudaStream_t stream = current_stream();
        cudaError_t err;
        {
          py::gil_scoped_release release;
          err = cuda::activation_backward(act, dxp, dyp, sp, dx.size(), stream);
        }
        check_cuda(op, err);
      },
      py::arg("dx"), py::arg("dy"), py::arg("saved"), py::arg("activation"));
}

}  // namespace ranvier::bindings
