// The element-wise activations and their backward on CUDA arrays: checked by
// cpp/args/activation.h, outputs allocated here, as in the CPU module.
#include "args/activation.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/activation.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

py::object forward(const args::ActivationOp& op, py::handle x_obj, const ActivationParams& params) {
  const cudaStream_t stream = current_stream();
  const A x = args::activation_input<A>(op, x_obj);
  A y = A::empty(args::dims(x));
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::activation_forward(op.act, params, y.data<float>(), x.data<float>(), args::size(x), stream);
  }
  check_cuda(op.forward, err);
  return y.object();
}

py::object backward(const args::ActivationOp& op, py::handle dy_obj, py::handle saved_obj,
                    const ActivationParams& params) {
  const cudaStream_t stream = current_stream();
  const auto a = args::activation_grad<A>(op, dy_obj, saved_obj);
  A dx = A::empty(args::dims(a.dy));
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::activation_backward(op.act, params, dx.data<float>(), a.dy.data<float>(), a.saved.data<float>(),
                                    args::size(a.dy), stream);
  }
  check_cuda(op.backward, err);
  return dx.object();
}

}  // namespace

void bind_activation(py::module_& m) { args::def_activations(m, forward, backward); }

}  // namespace ranvier::bindings
