// mse and binary_cross_entropy with their backward. pred and target (N, ...)
// are seen as (N, D): one loss per sample.
#include <string>

#include "array_args.h"
#include "loss_args.h"

namespace ranvier::bindings {

namespace {

// (N, D) of pred (N, ...), after checking that target has its shape.
std::pair<std::int64_t, std::int64_t> samples(const char* op, const Array& pred, const Array& target) {
  if (pred.ndim() < 1) fail(op, "pred must have at least one axis");
  bool ok = pred.ndim() == target.ndim();
  for (py::ssize_t i = 0; ok && i < pred.ndim(); ++i) ok = pred.shape(i) == target.shape(i);
  if (!ok) fail(op, "pred " + shape_str(pred) + " and target " + shape_str(target) + " must have the same shape");
  std::int64_t d = 1;
  for (py::ssize_t i = 1; i < pred.ndim(); ++i) d *= pred.shape(i);
  if (d == 0) fail(op, "pred must have at least one element per sample, got shape " + shape_str(pred));
  return {pred.shape(0), d};
}

template <class Kernel>
void loss_forward(const char* op, Array loss, const Array& pred, const Array& target, const std::string& reduction,
                  Kernel kernel) {
  Reduction r = reduction_arg(op, reduction);
  auto [n, d] = samples(op, pred, target);
  check_shape(op, "loss", loss, {r == Reduction::none ? n : 1});
  const float* pp = contiguous_in(op, "pred", pred);
  const float* tp = contiguous_in(op, "target", target);
  float* lp = contiguous_out(op, "loss", loss);
  py::gil_scoped_release release;
  kernel(lp, pp, tp, n, d, r);
}

template <class Kernel>
void loss_backward(const char* op, Array dpred, const Array& pred, const Array& target, const OptionalArray& dloss,
                   float scale, Kernel kernel) {
  auto [n, d] = samples(op, pred, target);
  if (dpred.size() != pred.size()) fail(op, "dpred must have the size of pred");
  const float* dlp = dloss_arg(op, dloss, n);
  const float* pp = contiguous_in(op, "pred", pred);
  const float* tp = contiguous_in(op, "target", target);
  float* gp = contiguous_out(op, "dpred", dpred);
  py::gil_scoped_release release;
  kernel(gp, pp, tp, dlp, scale, n, d);
}

}  // namespace

void bind_losses(py::module_& m) {
  m.def(
      "mse",
      [](Array loss, const Array& pred, const Array& target, const std::string& reduction) {
        loss_forward("mse", loss, pred, target, reduction, cpu::mse);
      },
      py::arg("loss").noconvert(), py::arg("pred").noconvert(), py::arg("target").noconvert(), py::arg("reduction"),
      "loss (N,) for reduction none, else (1,): per sample mean of (pred - target)^2");
  m.def(
      "mse_backward",
      [](Array dpred, const Array& pred, const Array& target, const OptionalArray& dloss, float scale) {
        loss_backward("mse_backward", dpred, pred, target, dloss, scale, cpu::mse_backward);
      },
      py::arg("dpred").noconvert(), py::arg("pred").noconvert(), py::arg("target").noconvert(),
      py::arg("dloss").noconvert(), py::arg("scale"), "dpred = 2 (pred - target) / D * scale * dloss (N,)");
  m.def(
      "binary_cross_entropy",
      [](Array loss, const Array& pred, const Array& target, bool from_logits, const std::string& reduction) {
        loss_forward("binary_cross_entropy", loss, pred, target, reduction,
                     [&](float* l, const float* p, const float* t, std::int64_t n, std::int64_t d, Reduction r) {
                       cpu::binary_cross_entropy(l, p, t, n, d, from_logits, r);
                     });
      },
      py::arg("loss").noconvert(), py::arg("pred").noconvert(), py::arg("target").noconvert(),
      py::arg("from_logits"), py::arg("reduction"), "loss (N,) or (1,): per sample mean of the binary cross-entropy");
  m.def(
      "binary_cross_entropy_backward",
      [](Array dpred, const Array& pred, const Array& target, const OptionalArray& dloss, float scale,
         bool from_logits) {
        loss_backward("binary_cross_entropy_backward", dpred, pred, target, dloss, scale,
                      [&](float* g, const float* p, const float* t, const float* dl, float s, std::int64_t n,
                          std::int64_t d) { cpu::binary_cross_entropy_backward(g, p, t, dl, s, n, d, from_logits); });
      },
      py::arg("dpred").noconvert(), py::arg("pred").noconvert(), py::arg("target").noconvert(),
      py::arg("dloss").noconvert(), py::arg("scale"), py::arg("from_logits"),
      "dpred = d bce / d pred / D * scale * dloss (N,)");
}

}  // namespace ranvier::bindings
