// dropout and dropout_backward on contiguous arrays of any shape (flat index order).
#include <cstdint>
#include <string>

#include "array_args.h"
#include "ranvier/dropout.h"

namespace ranvier::bindings {

namespace {

using MaskArray = NdArray<std::uint8_t>;

void check_rate(const char* op, double rate) {
  if (!(rate >= 0.0 && rate < 1.0)) fail(op, "rate must be in [0, 1), got " + std::to_string(rate));
}

void dropout(Array y, MaskArray mask, const Array& x, double rate, std::uint64_t seed) {
  const char* op = "dropout";
  check_rate(op, rate);
  if (y.size() != x.size() || mask.size() != x.size()) fail(op, "x, y and mask must have the same size");
  const float* xp = contiguous_in(op, "x", x);
  float* yp = contiguous_out(op, "y", y);
  std::uint8_t* mp = contiguous_out(op, "mask", mask);
  py::gil_scoped_release release;
  cpu::dropout(yp, mp, xp, x.size(), rate, seed);
}

void dropout_backward(Array dx, const Array& dy, const MaskArray& mask, double rate) {
  const char* op = "dropout_backward";
  check_rate(op, rate);
  if (dy.size() != dx.size() || mask.size() != dx.size()) fail(op, "dx, dy and mask must have the same size");
  const float* dyp = contiguous_in(op, "dy", dy);
  const std::uint8_t* mp = contiguous_in(op, "mask", mask);
  float* dxp = contiguous_out(op, "dx", dx);
  py::gil_scoped_release release;
  cpu::dropout_backward(dxp, dyp, mp, dx.size(), rate);
}

}  // namespace

void bind_dropout(py::module_& m) {
  m.def("dropout", &dropout, py::arg("y").noconvert(), py::arg("mask").noconvert(),
        py::arg("x").noconvert(), py::arg("rate"), py::arg("seed"),
        "y = x * mask / (1 - rate), mask (uint8) a hash of (seed, flat index)");
  m.def("dropout_backward", &dropout_backward, py::arg("dx").noconvert(), py::arg("dy").noconvert(),
        py::arg("mask").noconvert(), py::arg("rate"), "dx = dy * mask / (1 - rate)");
}

}  // namespace ranvier::bindings
