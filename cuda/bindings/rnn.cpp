// lstm, simple_rnn and their backward on CUDA arrays: checked by
// cpp/args/rnn.h, outputs allocated here, as in the CPU module.
#include "args/rnn.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/rnn.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

float* out(A& a) { return a.data<float>(); }

py::tuple lstm(py::handle x, py::handle kernel, py::handle recurrent_kernel, py::handle bias, py::handle h0,
               py::handle c0) {
  const char* op = "lstm";
  auto a = args::rnn_args<A>(op, x, kernel, recurrent_kernel, bias, 4);
  auto h0a = args::rnn_state<A>(op, "h0", h0, a), c0a = args::rnn_state<A>(op, "c0", c0, a);
  const std::int64_t B = a.batch, T = a.steps, U = a.units;
  A h = A::empty({B, T, U}), c = A::empty({B, T, U}), gates = A::empty({B, T, 4 * U});
  float* step = nullptr;  // h_{t-1} @ recurrent_kernel of one step
  const py::object step_owner = scratch_array(B * 4 * U, &step);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::lstm(out(h), out(c), out(gates), step, a.x_data, a.kernel_view, a.recurrent_view, a.bias_data,
                     args::data_or_null(h0a), args::data_or_null(c0a), B, T, a.features, U, stream);
  }
  check_cuda(op, err);
  return py::make_tuple(h.object(), c.object(), gates.object());
}

py::tuple lstm_backward(py::handle dh_seq, py::handle x, py::handle kernel, py::handle recurrent_kernel,
                        py::handle bias, py::handle cache, py::handle h0, py::handle c0, py::handle dh_T,
                        py::handle dc_T) {
  const char* op = "lstm_backward";
  auto a = args::rnn_args<A>(op, x, kernel, recurrent_kernel, bias, 4);
  auto h0a = args::rnn_state<A>(op, "h0", h0, a), c0a = args::rnn_state<A>(op, "c0", c0, a);
  auto dhTa = args::rnn_state<A>(op, "dh_T", dh_T, a), dcTa = args::rnn_state<A>(op, "dc_T", dc_T, a);
  std::optional<A> dh;
  args::rnn_output_grad(op, dh_seq, a, &dh, &dhTa);
  const std::int64_t B = a.batch, T = a.steps, F = a.features, U = a.units;
  A h = args::rnn_cached<A>(op, "lstm", cache, "h", {B, T, U});
  A c = args::rnn_cached<A>(op, "lstm", cache, "c", {B, T, U});
  A gates = args::rnn_cached<A>(op, "lstm", cache, "gates", {B, T, 4 * U});
  A dx = A::empty({B, T, F}), dk = A::empty({F, 4 * U}), dr = A::empty({U, 4 * U}), db = A::empty({4 * U});
  A dh0 = A::empty({B, U}), dc0 = A::empty({B, U});
  float* scratch = nullptr;  // dgates (B,T,4U) and hprev (B,T,U)
  const py::object scratch_owner = scratch_array(B * T * 5 * U, &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::lstm_backward(out(dx), out(dk), out(dr), out(db), out(dh0), out(dc0), scratch, args::data_or_null(dh),
                              args::data_or_null(dhTa), args::data_or_null(dcTa), a.x_data, a.kernel_view,
                              a.recurrent_view, h.data<float>(), c.data<float>(), gates.data<float>(),
                              args::data_or_null(h0a), args::data_or_null(c0a), B, T, F, U, stream);
  }
  check_cuda(op, err);
  return py::make_tuple(dx.object(), dk.object(), dr.object(), db.object(), dh0.object(), dc0.object());
}

py::object simple_rnn(py::handle x, py::handle kernel, py::handle recurrent_kernel, py::handle bias, py::handle h0) {
  const char* op = "simple_rnn";
  auto a = args::rnn_args<A>(op, x, kernel, recurrent_kernel, bias, 1);
  auto h0a = args::rnn_state<A>(op, "h0", h0, a);
  A h = A::empty({a.batch, a.steps, a.units});
  float* step = nullptr;  // h_{t-1} @ recurrent_kernel of one step
  const py::object step_owner = scratch_array(a.batch * a.units, &step);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::simple_rnn(out(h), step, a.x_data, a.kernel_view, a.recurrent_view, a.bias_data,
                           args::data_or_null(h0a), a.batch, a.steps, a.features, a.units, stream);
  }
  check_cuda(op, err);
  return h.object();
}

py::tuple simple_rnn_backward(py::handle dh_seq, py::handle x, py::handle kernel, py::handle recurrent_kernel,
                              py::handle bias, py::handle cache, py::handle h0, py::handle dh_T) {
  const char* op = "simple_rnn_backward";
  auto a = args::rnn_args<A>(op, x, kernel, recurrent_kernel, bias, 1);
  auto h0a = args::rnn_state<A>(op, "h0", h0, a), dhTa = args::rnn_state<A>(op, "dh_T", dh_T, a);
  std::optional<A> dh;
  args::rnn_output_grad(op, dh_seq, a, &dh, &dhTa);
  const std::int64_t B = a.batch, T = a.steps, F = a.features, U = a.units;
  A h = args::rnn_cached<A>(op, "simple_rnn", cache, "h", {B, T, U});
  A dx = A::empty({B, T, F}), dk = A::empty({F, U}), dr = A::empty({U, U}), db = A::empty({U});
  A dh0 = A::empty({B, U});
  float* scratch = nullptr;  // dz (B,T,U) and hprev (B,T,U)
  const py::object scratch_owner = scratch_array(B * T * 2 * U, &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::simple_rnn_backward(out(dx), out(dk), out(dr), out(db), out(dh0), scratch, args::data_or_null(dh),
                                    args::data_or_null(dhTa), a.x_data, a.kernel_view, a.recurrent_view,
                                    h.data<float>(), args::data_or_null(h0a), B, T, F, U, stream);
  }
  check_cuda(op, err);
  return py::make_tuple(dx.object(), dk.object(), dr.object(), db.object(), dh0.object());
}

}  // namespace

void bind_rnn(py::module_& m) {
  m.def("lstm", &lstm, py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"),
        py::arg("h0") = py::none(), py::arg("c0") = py::none());
  m.def("lstm_backward", &lstm_backward, py::arg("dh_seq"), py::arg("x"), py::arg("kernel"),
        py::arg("recurrent_kernel"), py::arg("bias"), py::arg("cache"), py::arg("h0") = py::none(),
        py::arg("c0") = py::none(), py::arg("dh_T") = py::none(), py::arg("dc_T") = py::none());
  m.def("simple_rnn", &simple_rnn, py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"),
        py::arg("h0") = py::none());
  m.def("simple_rnn_backward", &simple_rnn_backward, py::arg("dh_seq"), py::arg("x"), py::arg("kernel"),
        py::arg("recurrent_kernel"), py::arg("bias"), py::arg("cache"), py::arg("h0") = py::none(),
        py::arg("dh_T") = py::none());
}

}  // namespace ranvier::bindings
