// mse and binary_cross_entropy with their backward: checked by
// cpp/args/losses.h, outputs allocated here.
#include "args/losses.h"
#include "host_array.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

// The kernels cannot fail: once the arguments are checked, they only run.

// kernel(loss, pred, target, n, d, reduction)
template <class Kernel>
py::object run_forward(const char* op, const args::LossArgs<A>& a, Kernel kernel) {
  launch(op, [=] { kernel(a.out.data<float>(), a.pred.data<float>(), a.target.data<float>(), a.n, a.d, a.reduction); });
  return a.out.object();
}

// kernel(dpred, pred, target, dloss, scale, n, d)
template <class Kernel>
py::object run_backward(const char* op, const args::LossArgs<A>& a, Kernel kernel) {
  launch(op, [=] {
    kernel(a.out.data<float>(), a.pred.data<float>(), a.target.data<float>(), args::data_or_null(a.up.dloss),
           a.up.scale, a.n, a.d);
  });
  return a.out.object();
}

}  // namespace

void bind_losses(py::module_& m) {
  m.def(
      "mse",
      [](py::handle pred, py::handle target, py::handle reduction) {
        return run_forward("mse", args::loss_args<A>("mse", pred, target, reduction), cpu::mse);
      },
      py::arg("pred"), py::arg("target"), py::arg("reduction") = "mean",
      "loss (N,) for reduction none, else 0-d: per sample mean of (pred - target)^2");
  m.def(
      "mse_backward",
      [](py::handle pred, py::handle target, py::handle reduction, py::handle dloss) {
        return run_backward("mse_backward", args::loss_args<A>("mse_backward", pred, target, reduction, dloss),
                            cpu::mse_backward);
      },
      py::arg("pred"), py::arg("target"), py::arg("reduction") = "mean", py::arg("dloss") = 1.0,
      "dpred = 2 (pred - target) / D * dloss (/ N for mean)");
  m.def(
      "binary_cross_entropy",
      [](py::handle pred, py::handle target, py::handle reduction, bool from_logits) {
        return run_forward("binary_cross_entropy", args::loss_args<A>("binary_cross_entropy", pred, target, reduction),
                           [from_logits](float* l, const float* p, const float* t, std::int64_t n, std::int64_t d,
                                         Reduction r) { cpu::binary_cross_entropy(l, p, t, n, d, from_logits, r); });
      },
      py::arg("pred"), py::arg("target"), py::arg("reduction") = "mean", py::arg("from_logits") = false,
      "loss (N,) for reduction none, else 0-d: per sample mean of the binary cross-entropy");
  m.def(
      "binary_cross_entropy_backward",
      [](py::handle pred, py::handle target, py::handle reduction, bool from_logits, py::handle dloss) {
        return run_backward(
            "binary_cross_entropy_backward",
            args::loss_args<A>("binary_cross_entropy_backward", pred, target, reduction, dloss),
            [from_logits](float* g, const float* p, const float* t, const float* dl, float s, std::int64_t n,
                          std::int64_t d) { cpu::binary_cross_entropy_backward(g, p, t, dl, s, n, d, from_logits); });
      },
      py::arg("pred"), py::arg("target"), py::arg("reduction") = "mean", py::arg("from_logits") = false,
      py::arg("dloss") = 1.0, "dpred = d bce / d pred / D * dloss (/ N for mean)");
}

}  // namespace ranvier::bindings
