// Device queries. None of them raises on a machine without a GPU or driver:
// is_available() is False there and device_count() is 0.
#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>

#include <string>

#include "args/checks.h"
#include "cuda_call.h"

namespace ranvier::bindings {

namespace {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear it, so that it is not reported by a later launch check
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
  m.def("device_count", &device_count, "Number of usable GPUs (0 without a driver)");
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
