// lstm, gru, simple_rnn and their backward on CUDA arrays: checked and allocated by
// cpp/args/rnn.h, as in the CPU module; scratch and the stream from CuPy.
#include "args/rnn.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/rnn.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

py::tuple lstm(py::handle x, py::handle kernel, py::handle recurrent_kernel, py::handle bias, py::handle h0,
               py::handle c0) {
  const char* op = "lstm";
  const auto f = args::lstm_forward<A>(op, x, kernel, recurrent_kernel, bias, h0, c0);
  const auto& a = f.a;
  float* step = nullptr;  // h_{t-1} @ recurrent_kernel of one step
  const py::object step_owner = scratch_array(a.batch * 4 * a.units, &step);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::lstm(args::floats(f.h), args::floats(f.c), args::floats(f.gates), step, a.x_data, a.kernel_view,
                     a.recurrent_view, a.bias_data, args::data_or_null(f.h0), args::data_or_null(f.c0), a.batch,
                     a.steps, a.features, a.units, stream);
  }
  check_cuda(op, err);
  return f.outputs();
}

py::tuple lstm_backward(py::handle dh_seq, py::handle x, py::handle kernel, py::handle recurrent_kernel,
                        py::handle bias, py::handle cache, py::handle h0, py::handle c0, py::handle dh_T,
                        py::handle dc_T, py::handle need_dx) {
  const char* op = "lstm_backward";
  const auto b = args::rnn_backward<A>(op, "lstm", 4, dh_seq, x, kernel, recurrent_kernel, bias, cache, h0, c0, dh_T,
                                       dc_T, need_dx);
  const auto& a = b.a;
  const auto& g = b.grads;
  float* scratch = nullptr;  // dgates (B,T,4U) and hprev (B,T,U)
  const py::object scratch_owner = scratch_array(a.batch * a.steps * 5 * a.units, &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::lstm_backward(args::floats(g.dx), args::floats(g.dkernel), args::floats(g.drecurrent),
                              args::floats(g.dbias), args::floats(g.dh0), args::floats(g.dc0), scratch,
                              args::data_or_null(b.dh), args::data_or_null(b.dh_T), args::data_or_null(b.dc_T),
                              a.x_data, a.kernel_view, a.recurrent_view, args::floats(b.h), args::floats(b.c),
                              args::floats(b.gates), args::data_or_null(b.h0), args::data_or_null(b.c0), a.batch,
                              a.steps, a.features, a.units, stream);
  }
  check_cuda(op, err);
  return g.outputs();
}

py::tuple gru(py::handle x, py::handle kernel, py::handle recurrent_kernel, py::handle bias, py::handle h0) {
  const char* op = "gru";
  const auto f = args::gru_forward<A>(op, x, kernel, recurrent_kernel, bias, h0);
  const auto& a = f.a;
  float* scratch = nullptr;  // input projections (B,T,3U) and one step's recurrent product (B,3U)
  const py::object scratch_owner = scratch_array((a.batch * a.steps + a.batch) * 3 * a.units, &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::gru(args::floats(f.h), args::floats(f.gates), scratch, a.x_data, a.kernel_view, a.recurrent_view,
                    a.bias_data, args::data_or_null(f.h0), a.batch, a.steps, a.features, a.units, stream);
  }
  check_cuda(op, err);
  return f.outputs();
}

py::tuple gru_backward(py::handle dh_seq, py::handle x, py::handle kernel, py::handle recurrent_kernel, py::handle bias,
                       py::handle cache, py::handle h0, py::handle dh_T, py::handle need_dx) {
  const char* op = "gru_backward";
  const auto none = py::none();
  const auto b = args::rnn_backward<A>(op, "gru", args::kGruGates, dh_seq, x, kernel, recurrent_kernel, bias, cache, h0,
                                       none, dh_T, none, need_dx);
  const auto& a = b.a;
  const auto& g = b.grads;
  float* scratch = nullptr;  // dz of the input and recurrent terms (B,T,3U) each, hprev (B,T,U), one step's dh (B,U)
  const py::object scratch_owner = scratch_array(a.batch * a.steps * 7 * a.units + a.batch * a.units, &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::gru_backward(args::floats(g.dx), args::floats(g.dkernel), args::floats(g.drecurrent),
                             args::floats(g.dbias), args::floats(g.dh0), scratch, args::data_or_null(b.dh),
                             args::data_or_null(b.dh_T), a.x_data, a.kernel_view, a.recurrent_view, args::floats(b.h),
                             args::floats(b.gates), args::data_or_null(b.h0), a.batch, a.steps, a.features, a.units,
                             stream);
  }
  check_cuda(op, err);
  return g.outputs();
}

py::object simple_rnn(py::handle x, py::handle kernel, py::handle recurrent_kernel, py::handle bias, py::handle h0) {
  const char* op = "simple_rnn";
  const auto f = args::simple_rnn_forward<A>(op, x, kernel, recurrent_kernel, bias, h0);
  const auto& a = f.a;
  float* step = nullptr;  // h_{t-1} @ recurrent_kernel of one step
  const py::object step_owner = scratch_array(a.batch * a.units, &step);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::simple_rnn(args::floats(f.h), step, a.x_data, a.kernel_view, a.recurrent_view, a.bias_data,
                           args::data_or_null(f.h0), a.batch, a.steps, a.features, a.units, stream);
  }
  check_cuda(op, err);
  return f.h.object();
}

py::tuple simple_rnn_backward(py::handle dh_seq, py::handle x, py::handle kernel, py::handle recurrent_kernel,
                              py::handle bias, py::handle cache, py::handle h0, py::handle dh_T, py::handle need_dx) {
  const char* op = "simple_rnn_backward";
  const auto none = py::none();
  const auto b = args::rnn_backward<A>(op, "simple_rnn", 1, dh_seq, x, kernel, recurrent_kernel, bias, cache, h0, none,
                                       dh_T, none, need_dx);
  const auto& a = b.a;
  const auto& g = b.grads;
  float* scratch = nullptr;  // dz (B,T,U) and hprev (B,T,U)
  const py::object scratch_owner = scratch_array(a.batch * a.steps * 2 * a.units, &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::simple_rnn_backward(
        args::floats(g.dx), args::floats(g.dkernel), args::floats(g.drecurrent), args::floats(g.dbias),
        args::floats(g.dh0), scratch, args::data_or_null(b.dh), args::data_or_null(b.dh_T), a.x_data, a.kernel_view,
        a.recurrent_view, args::floats(b.h), args::data_or_null(b.h0), a.batch, a.steps, a.features, a.units, stream);
  }
  check_cuda(op, err);
  return g.outputs();
}

}  // namespace

void bind_rnn(py::module_& m) {
  m.def("lstm", &lstm, py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"),
        py::arg("h0") = py::none(), py::arg("c0") = py::none());
  m.def("lstm_backward", &lstm_backward, py::arg("dh_seq"), py::arg("x"), py::arg("kernel"),
        py::arg("recurrent_kernel"), py::arg("bias"), py::arg("cache"), py::arg("h0") = py::none(),
        py::arg("c0") = py::none(), py::arg("dh_T") = py::none(), py::arg("dc_T") = py::none(),
        py::arg("need_dx") = true);
  m.def("gru", &gru, py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"),
        py::arg("h0") = py::none());
  m.def("gru_backward", &gru_backward, py::arg("dh_seq"), py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"),
        py::arg("bias"), py::arg("cache"), py::arg("h0") = py::none(), py::arg("dh_T") = py::none(),
        py::arg("need_dx") = true);
  m.def("simple_rnn", &simple_rnn, py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"),
        py::arg("h0") = py::none());
  m.def("simple_rnn_backward", &simple_rnn_backward, py::arg("dh_seq"), py::arg("x"), py::arg("kernel"),
        py::arg("recurrent_kernel"), py::arg("bias"), py::arg("cache"), py::arg("h0") = py::none(),
        py::arg("dh_T") = py::none(), py::arg("need_dx") = true);
}

}  // namespace ranvier::bindings
