// PYBIND11_MODULE(_cuda): the same families, names and arguments as the _cpu
// module (cpp/args/families.h). Arrays come in through
// __cuda_array_interface__; kernels run on CuPy's current stream.
#include "args/families.h"

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "ranvier CUDA kernels (raw; use ranvier.ops)";
  ranvier::bindings::bind_families(m);
}
