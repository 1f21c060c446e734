// Device queries. None of them raises on a machine without a GPU or driver:
// is_available() is False there, device_count() is 0 and device_count_error()
// says why (a broken driver must not look like a machine without a GPU).
#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>

#include <string>

#include "args/checks.h"
#include "cuda_call.h"

namespace ranvier::bindings {

namespace {

// The GPU count, and in *error the runtime's words when it cannot count.
int device_count(std::string* error = nullptr) {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear it, so that it is not reported by a later launch check
    if (error) *error = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    return 0;
  }
  return n;
}

std::string device_name(int index) {
  const char* op = "device_name";
  const int n = device_count();
  if (index < 0 || index >= n)
    args::fail(op, "index must be in [0, " + std::to_string(n) + "), got " + std::to_string(index));
  cudaDeviceProp prop;
  check_cuda(op, cudaGetDeviceProperties(&prop, index));
  return prop.name;
}

}  // namespace

void bind_runtime(py::module_& m) {
  m.def(
      "is_available", [] { return device_count() > 0; },
      "True when the CUDA driver is usable and sees at least one GPU");
  m.def("device_count", [] { return device_count(); }, "Number of usable GPUs (0 without a driver)");
  m.def(
      "device_count_error",
      []() -> py::object {
        std::string error;
        device_count(&error);
        return error.empty() ? py::object(py::none()) : py::object(py::str(error));
      },
      "None when the runtime can count the GPUs, else its error (such as cudaErrorNoDevice: ...)");
  m.def("device_name", &device_name, py::arg("index") = 0);
  m.def(
      "cuda_runtime_version",
      [] {
        int version = 0;
        check_cuda("cuda_runtime_version", cudaRuntimeGetVersion(&version));
        return version;
      },
      "CUDA runtime this module is linked with, as 1000 * major + 10 * minor (13000 is 13.0)");
}

}  // namespace ranvier::bindings
