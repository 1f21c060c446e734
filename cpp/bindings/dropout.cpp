// dropout and dropout_backward: checked by cpp/args/dropout.h, outputs
// allocated here.
#include "args/dropout.h"
#include "host_array.h"
#include "ranvier/dropout.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

py::tuple dropout(py::handle x, py::handle rate, py::handle seed, bool training) {
  const auto a = args::dropout_args<A>(x, rate, seed, training);
  if (a.identity) return py::make_tuple(a.x.object(), py::none());
  A y = A::empty(args::dims(a.x)), mask = A::empty(args::dims(a.x), DType::uint8);
  launch_seeded("dropout", a.seed, [=](std::uint64_t seed) {
    cpu::dropout(y.data<float>(), mask.data<std::uint8_t>(), a.x.data<float>(), args::size(a.x), a.rate, seed);
  });
  return py::make_tuple(y.object(), mask.object());
}

py::object dropout_backward(py::handle dy, py::handle mask, py::handle rate) {
  const auto a = args::dropout_grad<A>(dy, mask, rate);
  if (!a.mask) return a.dy.object();
  A dx = A::empty(args::dims(a.dy));
  launch("dropout_backward", [=] {
    cpu::dropout_backward(dx.data<float>(), a.dy.data<float>(), a.mask->data<std::uint8_t>(), args::size(a.dy), a.rate);
  });
  return dx.object();
}

}  // namespace

void bind_dropout(py::module_& m) {
  m.def("dropout", &dropout, py::arg("x"), py::arg("rate"), py::arg("seed"), py::arg("training") = true,
        "(y, mask): y = x * mask / (1 - rate), mask (uint8) a hash of (seed, flat index); (x, None) when "
        "not training or rate is 0");
  m.def("dropout_backward", &dropout_backward, py::arg("dy"), py::arg("mask"), py::arg("rate"),
        "dx = dy * mask / (1 - rate); dy itself when mask is None");
}

}  // namespace ranvier::bindings
