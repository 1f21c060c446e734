// mse and binary_cross_entropy with their backward on CUDA arrays; the same
// call signatures and checks as the _cpu module's (cpp/bindings/losses.cpp).
// pred and target (N, ...) are seen as (N, D): one loss per sample.
#include <string>
#include <utility>

#include "device_array.h"
#include "loss_args.h"
#include "ranvier_cuda/losses.h"

namespace ranvier::bindings {

namespace {

// (N, D) of pred (N, ...), after checking that target has its shape.
std::pair<std::int64_t, std::int64_t> samples(const char* op, const DeviceArray& pred,
                                              const DeviceArray& target) {
  if (pred.rank() < 1) fail(op, "pred must have at least one axis");
  if (pred.shape != target.shape)
    fail(op, "pred " + shape_str(pred) + " and target " + shape_str(target) +
                 " must have the same shape");
  std::int64_t d = 1;
  for (int i = 1; i < pred.rank(); ++i) d *= pred.shape[i];
  if (d == 0)
    fail(op, "pred must have at least one element per sample, got shape " + shape_str(pred));
  return {pred.shape[0], d};
}

// kernel(loss, pred, target, n, d, reduction, row_losses, stream)
template <class Kernel>
void loss_forward(const char* op, const py::object& loss_obj, const py::object& pred_obj,
                  const py::object& target_obj, const std::string& reduction_name,
                  Kernel kernel) {
  const Reduction reduction = reduction_arg(op, reduction_name);
  const DeviceArray pred = device_array(op, "pred", pred_obj);
  const DeviceArray target = device_array(op, "target", target_obj);
  const auto [n, d] = samples(op, pred, target);
  const DeviceArray loss = device_array(op, "loss", loss_obj);
  check_shape(op, "loss", loss, {reduction == Reduction::none ? n : 1});
  const float* pp = contiguous_in(op, "pred", pred);
  const float* tp = contiguous_in(op, "target", target);
  float* lp = contiguous_out(op, "loss", loss);
  float* row_losses = nullptr;
  const py::object row_losses_owner =
      optional_scratch(reduction == Reduction::none ? 0 : n, &row_losses);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = kernel(lp, pp, tp, n, d, reduction, row_losses, stream);
  }
  check_cuda(op, err);
}

// kernel(dpred, pred, target, dloss, scale, n, d, stream)
template <class Kernel>
void loss_backward(const char* op, const py::object& dpred_obj, const py::object& pred_obj,
                   const py::object& target_obj, const py::object& dloss_obj, float scale,
                   Kernel kernel) {
  const DeviceArray pred = device_array(op, "pred", pred_obj);
  const DeviceArray target = device_array(op, "target", target_obj);
  const auto [n, d] = samples(op, pred, target);
  const DeviceArray dpred = device_array(op, "dpred", dpred_obj);
  if (dpred.size() != pred.size()) fail(op, "dpred must have the size of pred");
  const float* dlp = dloss_arg(op, dloss_obj, n);
  const float* pp = contiguous_in(op, "pred", pred);
  const float* tp = contiguous_in(op, "target", target);
  float* gp = contiguous_out(op, "dpred", dpred);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = kernel(gp, pp, tp, dlp, scale, n, d, stream);
  }
  check_cuda(op, err);
}

}  // namespace

void bind_losses(py::module_& m) {
  m.def(
      "mse",
      [](const py::object& loss, const py::object& pred, const py::object& target,
         const std::string& reduction) {
        loss_forward("mse", loss, pred, target, reduction, cuda::mse);
      },
      py::arg("loss"), py::arg("pred"), py::arg("target"), py::arg("reduction"),
      "loss (N,) for reduction none, else (1,): per sample mean of (pred - target)^2");
  m.def(
      "mse_backward",
      [](const py::object& dpred, const py::object& pred, const py::object& target,
         const py::object& dloss, float scale) {
        loss_backward("mse_backward", dpred, pred, target, dloss, scale, cuda::mse_backward);
      },
      py::arg("dpred"), py::arg("pred"), py::arg("target"), py::arg("dloss").none(true),
      py::arg("scale"), "dpred = 2 (pred - target) / D * scale * dloss (N,)");
  m.def(
      "binary_cross_entropy",
      [](const py::object& loss, const py::object& pred, const py::object& target,
         bool from_logits, const std::string& reduction) {
        loss_forward("binary_cross_entropy", loss, pred, target, reduction,
                     [&](float* l, const float* p, const float* t, std::int64_t n, std::int64_t d,
                         Reduction r, float* rows, cudaStream_t s) {
                       return cuda::binary_cross_entropy(l, p, t, n, d, from_logits, r, rows, s);
                     });
      },
      py::arg("loss"), py::arg("pred"), py::arg("target"), py::arg("from_logits"),
      py::arg("reduction"), "loss (N,) or (1,): per sample mean of the binary cross-entropy");
  m.def(
      "binary_cross_entropy_backward",
      [](const py::object& dpred, const py::object& pred, const py::object& target,
         const py::object& dloss, float scale, bool from_logits) {
        loss_backward("binary_cross_entropy_backward", dpred, pred, target, dloss, scale,
                      [&](float* g, const float* p, const float* t, const float* dl, float s,
                          std::int64_t n, std::int64_t d, cudaStream_t st) {
                        return cuda::binary_cross_entropy_backward(g, p, t, dl, s, n, d,
                                                                   from_logits, st);
                      });
      },
      py::arg("dpred"), py::arg("pred"), py::arg("target"), py::arg("dloss").none(true),
      py::arg("scale"), py::arg("from_logits"), "dpred = d bce / d pred / D * scale * dloss (N,)");
}

}  // namespace ranvier::bindings
