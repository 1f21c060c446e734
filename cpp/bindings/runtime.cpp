// Runtime controls: threads, instruction set, output memory, build information.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <limits>
#include <string>
#include <vector>

#include "output_array.h"
#include "ranvier/activation.h"
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

// What an array from the cache owns: its buffer, given back when the array dies.
struct OutputBuffer {
  void* data;
  std::size_t bytes;
};

// Bytes of `shape` x itemsize; a clear error for a negative or overflowing shape.
std::size_t nbytes(const std::vector<py::ssize_t>& shape, std::size_t itemsize) {
  std::size_t bytes = itemsize;
  for (py::ssize_t d : shape) {
    if (d < 0) throw py::value_error("[empty] shape must not be negative, got " + std::to_string(d));
    const auto size = static_cast<std::size_t>(d);
    if (size != 0 && bytes > std::numeric_limits<std::size_t>::max() / size)
      throw py::value_error("[empty] shape too large to allocate");
    bytes *= size;
  }
  return bytes;
}

}  // namespace

py::array cached_empty(const std::vector<py::ssize_t>& shape, const py::dtype& dtype) {
  const std::size_t bytes = nbytes(shape, static_cast<std::size_t>(dtype.itemsize()));
  if (bytes == 0) return py::array(dtype, shape);
  auto* buffer = new OutputBuffer{nullptr, bytes};
  try {
    buffer->data = take_output_buffer(bytes);
  } catch (...) {
    delete buffer;
    throw;
  }
  py::capsule owner(buffer, [](void* p) {
    auto* b = static_cast<OutputBuffer*>(p);
    give_back_output_buffer(b->data, b->bytes);
    delete b;
  });
  return py::array(dtype, shape, {}, buffer->data, owner);
}

py::array new_output(const std::vector<py::ssize_t>& shape, const py::dtype& dtype) {
  if (nbytes(shape, static_cast<std::size_t>(dtype.itemsize())) < kCachedOutputMinBytes) return py::array(dtype, shape);
  return cached_empty(shape, dtype);
}

py::array_t<float> new_output(const std::vector<py::ssize_t>& shape) {
  return py::reinterpret_steal<py::array_t<float>>(new_output(shape, py::dtype::of<float>()).release());
}

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
    if (!set_isa(isa_arg(name))) throw py::value_error("[set_isa] this CPU cannot run the '" + name + "' kernels");
  });
  m.def("measure_fma_peak", &measure_fma_peak, py::arg("seconds"), "fp32 FMA peak, GFLOP/s",
        py::call_guard<py::gil_scoped_release>());
  m.def("measure_triad_bandwidth", &measure_triad_bandwidth, py::arg("seconds"), "STREAM triad, GB/s",
        py::call_guard<py::gil_scoped_release>());
  m.def("empty", &cached_empty, py::arg("shape"), py::arg("dtype"),
        "an uninitialised C-ordered array whose memory comes from the output cache");
  m.attr("CACHED_OUTPUT_MIN_BYTES") = kCachedOutputMinBytes;
  m.def("output_cache_limit", &output_cache_limit);
  m.def("set_output_cache_limit", &set_output_cache_limit);
  m.def("output_cache_held", &output_cache_held);
  m.attr("compiler") = RANVIER_COMPILER;
  py::tuple activations(kActivationCount);
  for (int i = 0; i < kActivationCount; ++i) activations[i] = kActivationNames[i];
  m.attr("ACTIVATIONS") = activations;  // what ranvier.activations checks its registry against
}

}  // namespace ranvier::bindings
