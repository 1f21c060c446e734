// mse and binary_cross_entropy with their backward on CUDA arrays: checked by
// cpp/args/losses.h, outputs allocated here, as in the CPU module.
#include "args/losses.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/losses.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

// kernel(loss, pred, target, n, d, reduction, row_losses, stream); row_losses
// (N,) is scratch for mean and sum.
template <class Kernel>
py::object loss_forward(const char* op, py::handle pred, py::handle target, py::handle reduction, Kernel kernel) {
  const auto a = args::loss_args<A>(op, pred, target, reduction);
  float* row_losses = nullptr;
  const py::object row_losses_owner = a.reduction == Reduction::none ? py::none() : scratch_array(a.n, &row_losses);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = kernel(a.out.data<float>(), a.pred.data<float>(), a.target.data<float>(), a.n, a.d, a.reduction, row_losses,
                 stream);
  }
  check_cuda(op, err);
  return a.out.object();
}

// kernel(dpred, pred, target, dloss, scale, n, d, stream)
template <class Kernel>
py::object loss_backward(const char* op, py::handle pred, py::handle target, py::handle reduction, py::handle dloss,
                         Kernel kernel) {
  const auto a = args::loss_args<A>(op, pred, target, reduction, dloss);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = kernel(a.out.data<float>(), a.pred.data<float>(), a.target.data<float>(), args::data_or_null(a.up.dloss),
                 a.up.scale, a.n, a.d, stream);
  }
  check_cuda(op, err);
  return a.out.object();
}

}  // namespace

void bind_losses(py::module_& m) {
  const auto pred = py::arg("pred"), target = py::arg("target");
  m.def(
      "mse", [](py::handle p, py::handle t, py::handle r) { return loss_forward("mse", p, t, r, cuda::mse); }, pred,
      target, py::arg("reduction") = "mean");
  m.def(
      "mse_backward",
      [](py::handle p, py::handle t, py::handle r, py::handle dloss) {
        return loss_backward("mse_backward", p, t, r, dloss, cuda::mse_backward);
      },
      pred, target, py::arg("reduction") = "mean", py::arg("dloss") = 1.0);
  m.def(
      "binary_cross_entropy",
      [](py::handle p, py::handle t, py::handle r, bool from_logits) {
        return loss_forward(
            "binary_cross_entropy", p, t, r,
            [&](float* l, const float* pp, const float* tp, std::int64_t n, std::int64_t d, Reduction rr, float* rows,
                cudaStream_t s) { return cuda::binary_cross_entropy(l, pp, tp, n, d, from_logits, rr, rows, s); });
      },
      pred, target, py::arg("reduction") = "mean", py::arg("from_logits") = false);
  m.def(
      "binary_cross_entropy_backward",
      [](py::handle p, py::handle t, py::handle r, bool from_logits, py::handle dloss) {
        return loss_backward("binary_cross_entropy_backward", p, t, r, dloss,
                             [&](float* g, const float* pp, const float* tp, const float* dl, float s, std::int64_t n,
                                 std::int64_t d, cudaStream_t st) {
                               return cuda::binary_cross_entropy_backward(g, pp, tp, dl, s, n, d, from_logits, st);
                             });
      },
      pred, target, py::arg("reduction") = "mean", py::arg("from_logits") = false, py::arg("dloss") = 1.0);
}

}  // namespace ranvier::bindings
