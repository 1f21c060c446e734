// softmax, log_softmax, their backward, and softmax_cross_entropy: checked by
// cpp/args/softmax.h, outputs allocated here.
#include <cmath>

#include "args/softmax.h"
#include "host_array.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

template <void (*kernel)(float*, const float*, std::int64_t, std::int64_t)>
py::object rows_forward(const char* op, py::handle x, py::handle axis) {
  const auto r = args::softmax_input<A>(op, x, axis);
  A y = A::empty(args::dims(r.a));
  launch(op, [=] { kernel(y.data<float>(), r.a.data<float>(), r.rows, r.n); });
  return args::unrows(y, r);
}

template <void (*kernel)(float*, const float*, const float*, std::int64_t, std::int64_t)>
py::object rows_backward(const char* op, py::handle dy, py::handle y, py::handle axis) {
  const auto [dyr, yr] = args::softmax_grad_inputs<A>(op, dy, y, axis);
  A dx = A::empty(args::dims(yr.a));
  launch(op, [=] { kernel(dx.data<float>(), dyr.a.data<float>(), yr.a.data<float>(), yr.rows, yr.n); });
  return args::unrows(dx, yr);
}

bool any_nan(const A& a) {
  const float* p = a.data<float>();
  const std::int64_t count = args::size(a);
  for (std::int64_t i = 0; i < count; ++i)
    if (std::isnan(p[i])) return true;
  return false;
}

// Checked, with class indices in range (checked on the host: the kernels trust them).
args::CrossEntropyArgs<A> checked_cross_entropy_args(const char* op, py::handle logits, py::handle labels) {
  auto e = args::cross_entropy_args<A>(op, logits, labels, any_nan);
  const std::int64_t* index = e.labels.index;
  for (std::int64_t i = 0; index && i < e.n; ++i)
    if (index[i] < 0 || index[i] >= e.c) args::bad_label(op, e, index[i], i);
  return e;
}

py::object softmax_cross_entropy(py::handle logits, py::handle labels, py::handle reduction) {
  const char* op = "softmax_cross_entropy";
  const Reduction r = args::reduction(op, reduction);
  const auto e = checked_cross_entropy_args(op, logits, labels);
  A loss = args::loss_output<A>(r, e.n);
  launch(op, [=] { cpu::softmax_cross_entropy(loss.data<float>(), e.logits.data<float>(), e.labels, e.n, e.c, r); });
  return loss.object();
}

py::object softmax_cross_entropy_backward(py::handle logits, py::handle labels, py::handle reduction,
                                          py::handle dloss) {
  const char* op = "softmax_cross_entropy_backward";
  const Reduction r = args::reduction(op, reduction);
  const auto e = checked_cross_entropy_args(op, logits, labels);
  const auto up = args::upstream_gradient<A>(op, dloss, r, e.n);
  A dlogits = A::empty({e.n, e.c});
  launch(op, [=] {
    cpu::softmax_cross_entropy_backward(dlogits.data<float>(), e.logits.data<float>(), e.labels,
                                        args::data_or_null(up.dloss), up.scale, e.n, e.c);
  });
  return dlogits.object();
}

}  // namespace

void bind_softmax(py::module_& m) {
  m.def(
      "softmax", [](py::handle x, py::handle axis) { return rows_forward<cpu::softmax>("softmax", x, axis); },
      py::arg("x"), py::arg("axis") = -1, "softmax of x along axis");
  m.def(
      "log_softmax",
      [](py::handle x, py::handle axis) { return rows_forward<cpu::log_softmax>("log_softmax", x, axis); },
      py::arg("x"), py::arg("axis") = -1, "x - logsumexp(x) along axis");
  m.def(
      "softmax_backward",
      [](py::handle dy, py::handle y, py::handle axis) {
        return rows_backward<cpu::softmax_backward>("softmax_backward", dy, y, axis);
      },
      py::arg("dy"), py::arg("y"), py::arg("axis") = -1, "dx = y (dy - sum(dy y)) along axis, y = softmax(x)");
  m.def(
      "log_softmax_backward",
      [](py::handle dy, py::handle y, py::handle axis) {
        return rows_backward<cpu::log_softmax_backward>("log_softmax_backward", dy, y, axis);
      },
      py::arg("dy"), py::arg("y"), py::arg("axis") = -1, "dx = dy - exp(y) sum(dy) along axis, y = log_softmax(x)");
  m.def("softmax_cross_entropy", &softmax_cross_entropy, py::arg("logits"), py::arg("labels"),
        py::arg("reduction") = "mean",
        "loss (N,) for reduction none, else 0-d, of logits (N, C) against integer class indices (N,) or "
        "float32 probabilities (N, C)");
  m.def("softmax_cross_entropy_backward", &softmax_cross_entropy_backward, py::arg("logits"), py::arg("labels"),
        py::arg("reduction") = "mean", py::arg("dloss") = 1.0,
        "dlogits (N, C) = (softmax(logits) sum(t) - t) * dloss (/ N for mean)");
}

}  // namespace ranvier::bindings
