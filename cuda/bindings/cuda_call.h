// What every CUDA binding needs around a kernel call: the stream to launch on,
// scratch memory, and CUDA errors as Python exceptions.
#pragma once

#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace ranvier::bindings {

namespace py = pybind11;

// CuPy's current stream (cupy.cuda.get_current_stream().ptr): kernels run in
// order with the CuPy work around them.
inline cudaStream_t current_stream() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  const py::object& get =
      storage.call_once_and_store_result([] { return py::module_::import("cupy.cuda").attr("get_current_stream"); })
          .get_stored();
  return reinterpret_cast<cudaStream_t>(get().attr("ptr").cast<std::uintptr_t>());
}

// `floats` float32 elements of device scratch from cupy.empty. CuPy's memory
// pool hands blocks back in stream order, so it is the reusable arena that
// scratch comes from; keep the returned array alive until the kernels that use
// it are enqueued.
inline py::object scratch_array(std::int64_t floats, float** data) {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  const py::object& cupy =
      storage.call_once_and_store_result([] { return py::object(py::module_::import("cupy")); }).get_stored();
  py::object array = cupy.attr("empty")(py::make_tuple(floats), cupy.attr("float32"));
  *data = reinterpret_cast<float*>(array.attr("data").attr("ptr").cast<std::uintptr_t>());
  return array;
}

// Turns a CUDA error code into RuntimeError("[op] CUDA error: ...").
inline void check_cuda(const char* op, cudaError_t err) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("[") + op + "] CUDA error: " + cudaGetErrorName(err) + ": " +
                             cudaGetErrorString(err));
}

}  // namespace ranvier::bindings
