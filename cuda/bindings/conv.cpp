// conv2d and conv2d_backward on CUDA arrays: checked by cpp/args/conv.h,
// outputs allocated here, as in the CPU module.
#include "args/conv.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/conv.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

// `floats` of scratch, or none; *data is null then.
py::object workspace(std::int64_t floats, float** data) {
  *data = nullptr;
  return floats > 0 ? scratch_array(floats, data) : py::object();
}

py::object conv2d(py::handle x, py::handle w, py::handle b, py::handle stride, py::handle padding, py::handle dilation,
                  py::handle activation) {
  const char* op = "conv2d";
  const auto a = args::conv_args<A>(op, x, w, b, stride, padding, dilation, activation);
  A y = A::empty(a.out);
  float* scratch;
  const py::object scratch_owner = workspace(cuda::conv2d_workspace(a.s), &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::conv2d(y.data<float>(), a.x_data, a.w_data, a.b_data, a.s, a.act, scratch, stream);
  }
  check_cuda(op, err);
  return y.object();
}

py::tuple conv2d_backward(py::handle dy, py::handle x, py::handle w, py::handle stride, py::handle padding,
                          py::handle dilation, py::handle activation, py::handle y, py::handle z) {
  const char* op = "conv2d_backward";
  const auto a = args::conv_backward_args<A>(op, dy, x, w, stride, padding, dilation, activation, y, z);
  const cpu::Conv2dShape& s = a.conv.s;
  A dx = A::empty(args::dims(a.conv.x)), dw = A::empty(args::dims(a.conv.w)), db = A::empty({s.k});
  float* scratch;
  const py::object scratch_owner = workspace(cuda::conv2d_backward_workspace(s, true, true, a.conv.act), &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::conv2d_backward(dx.data<float>(), dw.data<float>(), db.data<float>(), a.dy_data, a.saved_data,
                                a.conv.x_data, a.conv.w_data, s, a.conv.act, scratch, stream);
  }
  check_cuda(op, err);
  return py::make_tuple(dx.object(), dw.object(), db.object());
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def("conv2d", &conv2d, py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("stride") = 1,
        py::arg("padding") = "valid", py::arg("dilation") = 1, py::arg("activation") = py::none());
  m.def("conv2d_backward", &conv2d_backward, py::arg("dy"), py::arg("x"), py::arg("w"), py::arg("stride") = 1,
        py::arg("padding") = "valid", py::arg("dilation") = 1, py::arg("activation") = py::none(),
        py::arg("y") = py::none(), py::arg("z") = py::none());
}

}  // namespace ranvier::bindings
