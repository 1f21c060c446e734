// upsample2d, pad2d, crop2d and their backward on CUDA arrays: checked by
// cpp/args/spatial.h, outputs allocated here, as in the CPU module.
#include "args/spatial.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/spatial.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

// Allocates `out` and runs kernel(data, stream) on the current stream.
template <class Kernel>
py::object run(const char* op, const args::Dims& out, Kernel kernel) {
  A y = A::empty(out);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = kernel(y.data<float>(), stream);
  }
  check_cuda(op, err);
  return y.object();
}

py::object upsample(const char* op, const args::UpsampleArgs<A>& a) {
  return run(op, a.out, [&](float* y, cudaStream_t s) {
    return (a.u.bilinear ? cuda::upsample2d_bilinear : cuda::upsample2d_nearest)(y, a.x_data, a.u, s);
  });
}

py::object upsample_backward(const char* op, const args::UpsampleBackwardArgs<A>& a) {
  return run(op, args::dims(a.x), [&](float* dx, cudaStream_t s) {
    return (a.u.bilinear ? cuda::upsample2d_bilinear_backward : cuda::upsample2d_nearest_backward)(dx, a.dy_data, a.u,
                                                                                                   s);
  });
}

py::object shift(const char* op, const args::ShiftArgs<A>& a) {
  return run(op, args::shifted_dims(a.s),
             [&](float* y, cudaStream_t s) { return cuda::shift2d(y, a.source_data, a.s, s); });
}

}  // namespace

void bind_spatial(py::module_& m) { args::def_spatial_ops<A>(m, &upsample, &upsample_backward, &shift); }

}  // namespace ranvier::bindings
