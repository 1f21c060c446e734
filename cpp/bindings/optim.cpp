// sgd_update and adam_update: every state array is updated in place, so each
// must be C-contiguous and writeable (no copy may stand in for it).
#include <string>

#include <pybind11/stl.h>

#include "array_args.h"
#include "ranvier/optim.h"

namespace ranvier::bindings {

namespace {

float* state(const char* op, const char* name, Array& a, const Array& param) {
  if (a.size() != param.size()) fail(op, std::string(name) + " and param must have the same size");
  return contiguous_out(op, name, a);
}

void sgd_update(Array param, OptionalArray velocity, const Array& grad, float lr, float momentum,
                bool nesterov, float weight_decay) {
  const char* op = "sgd_update";
  if (grad.size() != param.size()) fail(op, "grad and param must have the same size");
  const float* gp = contiguous_in(op, "grad", grad);
  float* pp = contiguous_out(op, "param", param);
  float* vp = velocity ? state(op, "velocity", *velocity, param) : nullptr;
  py::gil_scoped_release release;
  cpu::sgd_update(pp, vp, gp, param.size(), lr, momentum, nesterov, weight_decay);
}

void adam_update(Array param, Array m, Array v, const Array& grad, std::int64_t step, float lr,
                 float beta1, float beta2, float eps, float weight_decay, bool decoupled) {
  const char* op = "adam_update";
  if (step < 1) fail(op, "step must be >= 1, got " + std::to_string(step));
  if (grad.size() != param.size()) fail(op, "grad and param must have the same size");
  const float* gp = contiguous_in(op, "grad", grad);
  float* pp = contiguous_out(op, "param", param);
  float* mp = state(op, "m", m, param);
  float* vp = state(op, "v", v, param);
  py::gil_scoped_release release;
  cpu::adam_update(pp, mp, vp, gp, param.size(), step, lr, beta1, beta2, eps, weight_decay, decoupled);
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("sgd_update", &sgd_update, py::arg("param").noconvert(), py::arg("velocity").noconvert(),
        py::arg("grad").noconvert(), py::arg("lr"), py::arg("momentum"), py::arg("nesterov"),
        py::arg("weight_decay"), "SGD step on param (and velocity, or None) in place");
  m.def("adam_update", &adam_update, py::arg("param").noconvert(), py::arg("m").noconvert(),
        py::arg("v").noconvert(), py::arg("grad").noconvert(), py::arg("step"), py::arg("lr"),
        py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"),
        py::arg("decoupled"), "Adam (or AdamW when decoupled) step on param, m, v in place");
}

}  // namespace ranvier::bindings
