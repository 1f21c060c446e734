// conv2d, conv1d (conv2d's kernels with H = 1), conv2d_transpose and their
// backward on CUDA arrays: checked by cpp/args/conv.h, outputs allocated
// here, as in the CPU module.
#include <tuple>
#include <utility>

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

py::object convolve(const char* op, const args::ConvArgs<A>& a) {
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

py::tuple convolve_backward(const char* op, const args::ConvBackwardArgs<A>& a) {
  const cpu::Conv2dShape& s = a.conv.s;
  std::optional<A> dx;
  if (a.need_dx) dx = A::empty(args::dims(a.conv.x));
  A dw = A::empty(args::dims(a.conv.w)), db = A::empty({s.k});
  float* scratch;
  const py::object scratch_owner = workspace(cuda::conv2d_backward_workspace(s, a.need_dx, true, a.conv.act), &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::conv2d_backward(args::floats(dx), dw.data<float>(), db.data<float>(), a.dy_data, a.saved_data,
                                a.conv.x_data, a.conv.w_data, s, a.conv.act, scratch, stream);
  }
  check_cuda(op, err);
  return py::make_tuple(args::object_or_none(dx), dw.object(), db.object());
}

py::object conv2d(py::handle x, py::handle w, py::handle b, py::handle stride, py::handle padding, py::handle dilation,
                  py::handle activation) {
  const char* op = "conv2d";
  return convolve(op, args::conv_args<A>(op, x, w, b, stride, padding, dilation, activation));
}

py::tuple conv2d_backward(py::handle dy, py::handle x, py::handle w, py::handle stride, py::handle padding,
                          py::handle dilation, py::handle activation, py::handle y, py::handle z, py::handle need_dx) {
  const char* op = "conv2d_backward";
  return convolve_backward(
      op, args::conv_backward_args<A>(op, dy, x, w, stride, padding, dilation, activation, y, z, need_dx));
}

py::object conv1d(py::handle x, py::handle w, py::handle b, py::handle stride, py::handle padding, py::handle dilation,
                  py::handle activation) {
  const char* op = "conv1d";
  return convolve(op, args::conv1d_args<A>(op, x, w, b, stride, padding, dilation, activation));
}

py::tuple conv1d_backward(py::handle dy, py::handle x, py::handle w, py::handle stride, py::handle padding,
                          py::handle dilation, py::handle activation, py::handle y, py::handle z, py::handle need_dx) {
  const char* op = "conv1d_backward";
  return convolve_backward(
      op, args::conv1d_backward_args<A>(op, dy, x, w, stride, padding, dilation, activation, y, z, need_dx));
}

py::object conv2d_transpose(py::handle x, py::handle w, py::handle b, py::handle stride, py::handle padding,
                            py::handle output_padding, py::handle dilation) {
  const char* op = "conv2d_transpose";
  const auto a = args::conv_transpose_args<A>(op, x, w, b, stride, padding, output_padding, dilation);
  A y = A::empty(a.out);
  float* scratch;
  const py::object scratch_owner = workspace(cuda::conv2d_transpose_workspace(a.s), &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::conv2d_transpose(y.data<float>(), a.x_data, a.w_data, a.b_data, a.s, scratch, stream);
  }
  check_cuda(op, err);
  return y.object();
}

py::tuple conv2d_transpose_backward(py::handle dy, py::handle x, py::handle w, py::handle stride, py::handle padding,
                                    py::handle output_padding, py::handle dilation) {
  const char* op = "conv2d_transpose_backward";
  const auto a = args::conv_transpose_backward_args<A>(op, dy, x, w, stride, padding, output_padding, dilation);
  const cpu::Conv2dShape& s = a.conv.s;
  A dx = A::empty(args::dims(a.conv.x)), dw = A::empty(args::dims(a.conv.w)), db = A::empty({s.c});
  float* scratch;
  const py::object scratch_owner = workspace(cuda::conv2d_transpose_backward_workspace(s), &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::conv2d_transpose_backward(dx.data<float>(), dw.data<float>(), db.data<float>(), a.dy_data,
                                          a.conv.x_data, a.conv.w_data, s, scratch, stream);
  }
  check_cuda(op, err);
  return py::make_tuple(dx.object(), dw.object(), db.object());
}

}  // namespace

void bind_conv(py::module_& m) {
  for (const auto& [name, forward] : {std::pair{"conv2d", &conv2d}, std::pair{"conv1d", &conv1d}})
    m.def(name, forward, py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("stride") = 1,
          py::arg("padding") = "valid", py::arg("dilation") = 1, py::arg("activation") = py::none());
  for (const auto& [name, backward] :
       {std::pair{"conv2d_backward", &conv2d_backward}, std::pair{"conv1d_backward", &conv1d_backward}})
    m.def(name, backward, py::arg("dy"), py::arg("x"), py::arg("w"), py::arg("stride") = 1,
          py::arg("padding") = "valid", py::arg("dilation") = 1, py::arg("activation") = py::none(),
          py::arg("y") = py::none(), py::arg("z") = py::none(), py::arg("need_dx") = true);
  m.def("conv2d_transpose", &conv2d_transpose, py::arg("x"), py::arg("w"), py::arg("b") = py::none(),
        py::arg("stride") = 1, py::arg("padding") = "valid", py::arg("output_padding") = py::none(),
        py::arg("dilation") = 1);
  m.def("conv2d_transpose_backward", &conv2d_transpose_backward, py::arg("dy"), py::arg("x"), py::arg("w"),
        py::arg("stride") = 1, py::arg("padding") = "valid", py::arg("output_padding") = py::none(),
        py::arg("dilation") = 1);
}

}  // namespace ranvier::bindings
