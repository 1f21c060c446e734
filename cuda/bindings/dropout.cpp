// dropout and dropout_backward on contiguous CUDA arrays of any shape (flat
// index order); the same call signatures as the _cpu module's.
#include <cstdint>
#include <string>

#include "device_array.h"
#include "ranvier_cuda/dropout.h"
#include "typed_device_array.h"

namespace ranvier::bindings {

namespace {

void check_rate(const char* op, double rate) {
  if (!(rate >= 0.0 && rate < 1.0)) fail(op, "rate must be in [0, 1), got " + std::to_string(rate));
}

void dropout(const py::object& y_obj, const py::object& mask_obj, const py::object& x_obj,
             double rate, std::uint64_t seed) {
  const char* op = "dropout";
  check_rate(op, rate);
  const DeviceArray y = device_array(op, "y", y_obj), x = device_array(op, "x", x_obj);
  const auto mask = typed_device_array<std::uint8_t>(op, "mask", mask_obj, kUint8);
  if (y.size() != x.size() || mask.layout.size() != x.size())
    fail(op, "x, y and mask must have the same size");
  const float* xp = contiguous_in(op, "x", x);
  float* yp = contiguous_out(op, "y", y);
  std::uint8_t* mp = contiguous_out(op, "mask", mask);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::dropout(yp, mp, xp, x.size(), rate, seed, stream);
  }
  check_cuda(op, err);
}

void dropout_backward(const py::object& dx_obj, const py::object& dy_obj,
                      const py::object& mask_obj, double rate) {
  const char* op = "dropout_backward";
  check_rate(op, rate);
  const DeviceArray dx = device_array(op, "dx", dx_obj), dy = device_array(op, "dy", dy_obj);
  const auto mask = typed_device_array<const std::uint8_t>(op, "mask", mask_obj, kUint8);
  if (dy.size() != dx.size() || mask.layout.size() != dx.size())
    fail(op, "dx, dy and mask must have the same size");
  const float* dyp = contiguous_in(op, "dy", dy);
  const std::uint8_t* mp = contiguous_in(op, "mask", mask);
  float* dxp = contiguous_out(op, "dx", dx);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::dropout_backward(dxp, dyp, mp, dx.size(), rate, stream);
  }
  check_cuda(op, err);
}

}  // namespace

void bind_dropout(py::module_& m) {
  m.def("dropout", &dropout, py::arg("y"), py::arg("mask"), py::arg("x"), py::arg("rate"),
        py::arg("seed"), "y = x * mask / (1 - rate), mask (uint8) a hash of (seed, flat index)");
  m.def("dropout_backward", &dropout_backward, py::arg("dx"), py::arg("dy"), py::arg("mask"),
        py::arg("rate"), "dx = dy * mask / (1 - rate)");
}

}  // namespace ranvier::bindings
