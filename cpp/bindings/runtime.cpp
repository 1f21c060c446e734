// Runtime controls: threads, instruction set, build information.
#include <pybind11/pybind11.h>

#include <string>

#include "ranvier/runtime.h"

namespace py = pybind11;

namespace ranvier::bindings {

namespace {

Isa isa_arg(const std::string& name) {
  Isa isa;
  if (!parse_isa(name.c_str(), &isa))
    throw py::value_error("[set_isa] isa must be one of generic, avx2, avx512; got '" + name + "'");
  return isa;
}

}  // namespace

void bind_runtime(py::module_& m) {
  m.def("get_num_threads", &num_threads);
  m.def("set_num_threads", [](int n) {
    if (n < 1) throw py::value_error("[set_num_threads] n must be >= 1, got " + std::to_string(n));
    set_num_threads(n);
  });
  m.def("selected_isa", [] { return std::string(isa_name(selected_isa())); });
  m.def("detected_isa", [] { return std::string(isa_name(detect_isa())); });
  m.def("isa_supported", [](const std::string& name) { return isa_supported(isa_arg(name)); });
  m.def("set_isa", [](const std::string& name) {
    if (!set_isa(isa_arg(name)))
      throw py::value_error("[set_isa] this CPU cannot run the '" + name + "' kernels");
  });
  m.attr("compiler") = RANVIER_COMPILER;
}

}  // namespace ranvier::bindings
