// sgd_update and adam_update on CUDA arrays: every state array is updated in
// place, so each must be C-contiguous (no copy may stand in for it); the same
// call signatures as the _cpu module's.
#include <string>

#include "device_array.h"
#include "ranvier_cuda/optim.h"

namespace ranvier::bindings {

namespace {

float* state(const char* op, const char* name, const py::object& obj, const DeviceArray& param) {
  const DeviceArray a = device_array(op, name, obj);
  if (a.size() != param.size()) fail(op, std::string(name) + " and param must have the same size");
  return contiguous_out(op, name, a);
}

void sgd_update(const py::object& param_obj, const py::object& velocity, const py::object& grad_obj,
                float lr, float momentum, bool nesterov, float weight_decay) {
  const char* op = "sgd_update";
  const DeviceArray param = device_array(op, "param", param_obj);
  const DeviceArray grad = device_array(op, "grad", grad_obj);
  if (grad.size() != param.size()) fail(op, "grad and param must have the same size");
  const float* gp = contiguous_in(op, "grad", grad);
  float* pp = contiguous_out(op, "param", param);
  float* vp = velocity.is_none() ? nullptr : state(op, "velocity", velocity, param);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::sgd_update(pp, vp, gp, param.size(), lr, momentum, nesterov, weight_decay, stream);
  }
  check_cuda(op, err);
}

void adam_update(const py::object& param_obj, const py::object& m, const py::object& v,
                 const py::object& grad_obj, std::int64_t step, float lr, float beta1, float beta2,
                 float eps, float weight_decay, bool decoupled) {
  const char* op = "adam_update";
  if (step < 1) fail(op, "step must be >= 1, got " + std::to_string(step));
  const DeviceArray param = device_array(op, "param", param_obj);
  const DeviceArray grad = device_array(op, "grad", grad_obj);
  if (grad.size() != param.size()) fail(op, "grad and param must have the same size");
  const float* gp = contiguous_in(op, "grad", grad);
  float* pp = contiguous_out(op, "param", param);
  float* mp = state(op, "m", m, param);
  float* vp = state(op, "v", v, param);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::adam_update(pp, mp, vp, gp, param.size(), step, lr, beta1, beta2, eps,
                            weight_decay, decoupled, stream);
  }
  check_cuda(op, err);
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("sgd_update", &sgd_update, py::arg("param"), py::arg("velocity").none(true),
        py::arg("grad"), py::arg("lr"), py::arg("momentum"), py::arg("nesterov"),
        py::arg("weight_decay"), "SGD step on param (and velocity, or None) in place");
  m.def("adam_update", &adam_update, py::arg("param"), py::arg("m"), py::arg("v"),
        py::arg("grad"), py::arg("step"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"),
        py::arg("eps"), py::arg("weight_decay"), py::arg("decoupled"),
        "Adam (or AdamW when decoupled) step on param, m, v in place");
}

}  // namespace ranvier::bindings
