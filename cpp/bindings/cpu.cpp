// PYBIND11_MODULE(_cpu): the families of cpp/args/families.h, each registered
// from its own bindings file.
#include "args/families.h"
#include "step_plan.h"

PYBIND11_MODULE(_cpu, m) {
  m.doc() = "ranvier CPU kernels (raw; use ranvier.ops)";
  ranvier::bindings::bind_families(m);
  ranvier::bindings::bind_step_plan(m);  // CPU only: the GPU twin would be a CUDA Graph
}
