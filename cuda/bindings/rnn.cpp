// lstm, simple_rnn and their backward on CUDA arrays; the same call
// signatures as the _cpu module's (cpp/bindings/rnn.cpp).
#include "device_array.h"
#include "ranvier_cuda/rnn.h"

namespace ranvier::bindings {

namespace {

struct RnnShape {
  std::int64_t batch, steps, features, units;
};

// x (B,T,F), kernel (F,G*U), recurrent_kernel (U,G*U) with G gates per unit
// (4 for the LSTM, 1 for SimpleRNN).
RnnShape rnn_shape(const char* op, const DeviceArray& x, const DeviceArray& kernel,
                   const DeviceArray& recurrent_kernel, std::int64_t gates) {
  check_rank(op, "x", x, 3);
  check_rank(op, "recurrent_kernel", recurrent_kernel, 2);
  const RnnShape s = {x.shape[0], x.shape[1], x.shape[2], recurrent_kernel.shape[0]};
  check_shape(op, "recurrent_kernel", recurrent_kernel, {s.units, gates * s.units});
  check_shape(op, "kernel", kernel, {s.features, gates * s.units});
  return s;
}

// The inputs shared by the four functions: shape, weights (any strides) and x.
struct RnnInputs {
  RnnShape shape;
  cpu::MatrixView kernel, recurrent_kernel;
  const float* x;
};

RnnInputs rnn_inputs(const char* op, const py::object& x_obj, const py::object& kernel_obj,
                     const py::object& recurrent_obj, std::int64_t gates) {
  const DeviceArray x = device_array(op, "x", x_obj);
  const DeviceArray kernel = device_array(op, "kernel", kernel_obj);
  const DeviceArray recurrent = device_array(op, "recurrent_kernel", recurrent_obj);
  RnnInputs in;
  in.shape = rnn_shape(op, x, kernel, recurrent, gates);
  in.kernel = matrix_view(op, "kernel", kernel);
  in.recurrent_kernel = matrix_view(op, "recurrent_kernel", recurrent);
  in.x = contiguous_in(op, "x", x);
  return in;
}

void lstm(const py::object& h, const py::object& c, const py::object& gates, const py::object& x,
          const py::object& kernel, const py::object& recurrent_kernel, const py::object& bias,
          const py::object& h0, const py::object& c0) {
  const char* op = "lstm";
  const RnnInputs in = rnn_inputs(op, x, kernel, recurrent_kernel, 4);
  const std::int64_t B = in.shape.batch, T = in.shape.steps, U = in.shape.units;
  const float* bp = array_in(op, "bias", bias, {4 * U});
  const float* h0p = optional_in(op, "h0", h0, {B, U});
  const float* c0p = optional_in(op, "c0", c0, {B, U});
  float* hp = array_out(op, "h", h, {B, T, U});
  float* cp = array_out(op, "c", c, {B, T, U});
  float* gp = array_out(op, "gates", gates, {B, T, 4 * U});
  float* step = nullptr;  // h_{t-1} @ recurrent_kernel of one step
  const py::object step_owner = scratch_array(B * 4 * U, &step);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::lstm(hp, cp, gp, step, in.x, in.kernel, in.recurrent_kernel, bp, h0p, c0p, B, T,
                     in.shape.features, U, stream);
  }
  check_cuda(op, err);
}

void lstm_backward(const py::object& dx, const py::object& dkernel,
                   const py::object& drecurrent_kernel, const py::object& dbias,
                   const py::object& dh0, const py::object& dc0, const py::object& dh,
                   const py::object& dh_T, const py::object& dc_T, const py::object& x,
                   const py::object& kernel, const py::object& recurrent_kernel,
                   const py::object& h, const py::object& c, const py::object& gates,
                   const py::object& h0, const py::object& c0) {
  const char* op = "lstm_backward";
  const RnnInputs in = rnn_inputs(op, x, kernel, recurrent_kernel, 4);
  const std::int64_t B = in.shape.batch, T = in.shape.steps, F = in.shape.features;
  const std::int64_t U = in.shape.units;
  const float* dhp = optional_in(op, "dh", dh, {B, T, U});
  const float* dhTp = optional_in(op, "dh_T", dh_T, {B, U});
  const float* dcTp = optional_in(op, "dc_T", dc_T, {B, U});
  const float* h0p = optional_in(op, "h0", h0, {B, U});
  const float* c0p = optional_in(op, "c0", c0, {B, U});
  const float* hp = array_in(op, "h", h, {B, T, U});
  const float* cp = array_in(op, "c", c, {B, T, U});
  const float* gp = array_in(op, "gates", gates, {B, T, 4 * U});
  float* dxp = array_out(op, "dx", dx, {B, T, F});
  float* dkp = array_out(op, "dkernel", dkernel, {F, 4 * U});
  float* drp = array_out(op, "drecurrent_kernel", drecurrent_kernel, {U, 4 * U});
  float* dbp = array_out(op, "dbias", dbias, {4 * U});
  float* dh0p = array_out(op, "dh0", dh0, {B, U});
  float* dc0p = array_out(op, "dc0", dc0, {B, U});
  float* scratch = nullptr;  // dgates (B,T,4U) and hprev (B,T,U)
  const py::object scratch_owner = scratch_array(B * T * 5 * U, &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::lstm_backward(dxp, dkp, drp, dbp, dh0p, dc0p, scratch, dhp, dhTp, dcTp, in.x,
                              in.kernel, in.recurrent_kernel, hp, cp, gp, h0p, c0p, B, T, F, U,
                              stream);
  }
  check_cuda(op, err);
}

void simple_rnn(const py::object& h, const py::object& x, const py::object& kernel,
                const py::object& recurrent_kernel, const py::object& bias, const py::object& h0) {
  const char* op = "simple_rnn";
  const RnnInputs in = rnn_inputs(op, x, kernel, recurrent_kernel, 1);
  const std::int64_t B = in.shape.batch, T = in.shape.steps, U = in.shape.units;
  const float* bp = array_in(op, "bias", bias, {U});
  const float* h0p = optional_in(op, "h0", h0, {B, U});
  float* hp = array_out(op, "h", h, {B, T, U});
  float* step = nullptr;  // h_{t-1} @ recurrent_kernel of one step
  const py::object step_owner = scratch_array(B * U, &step);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::simple_rnn(hp, step, in.x, in.kernel, in.recurrent_kernel, bp, h0p, B, T,
                           in.shape.features, U, stream);
  }
  check_cuda(op, err);
}

void simple_rnn_backward(const py::object& dx, const py::object& dkernel,
                         const py::object& drecurrent_kernel, const py::object& dbias,
                         const py::object& dh0, const py::object& dh, const py::object& dh_T,
                         const py::object& x, const py::object& kernel,
                         const py::object& recurrent_kernel, const py::object& h,
                         const py::object& h0) {
  const char* op = "simple_rnn_backward";
  const RnnInputs in = rnn_inputs(op, x, kernel, recurrent_kernel, 1);
  const std::int64_t B = in.shape.batch, T = in.shape.steps, F = in.shape.features;
  const std::int64_t U = in.shape.units;
  const float* dhp = optional_in(op, "dh", dh, {B, T, U});
  const float* dhTp = optional_in(op, "dh_T", dh_T, {B, U});
  const float* h0p = optional_in(op, "h0", h0, {B, U});
  const float* hp = array_in(op, "h", h, {B, T, U});
  float* dxp = array_out(op, "dx", dx, {B, T, F});
  float* dkp = array_out(op, "dkernel", dkernel, {F, U});
  float* drp = array_out(op, "drecurrent_kernel", drecurrent_kernel, {U, U});
  float* dbp = array_out(op, "dbias", dbias, {U});
  float* dh0p = array_out(op, "dh0", dh0, {B, U});
  float* scratch = nullptr;  // dz (B,T,U) and hprev (B,T,U)
  const py::object scratch_owner = scratch_array(B * T * 2 * U, &scratch);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::simple_rnn_backward(dxp, dkp, drp, dbp, dh0p, scratch, dhp, dhTp, in.x, in.kernel,
                                    in.recurrent_kernel, hp, h0p, B, T, F, U, stream);
  }
  check_cuda(op, err);
}

}  // namespace

void bind_rnn(py::module_& m) {
  m.def("lstm", &lstm, py::arg("h"), py::arg("c"), py::arg("gates"), py::arg("x"),
        py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"), py::arg("h0").none(true),
        py::arg("c0").none(true),
        "h, c (B,T,U) and gates (B,T,4U) [i f g o] of an LSTM over x (B,T,F); h0, c0 (B,U) or None");
  m.def("lstm_backward", &lstm_backward, py::arg("dx"), py::arg("dkernel"),
        py::arg("drecurrent_kernel"), py::arg("dbias"), py::arg("dh0"), py::arg("dc0"),
        py::arg("dh").none(true), py::arg("dh_T").none(true), py::arg("dc_T").none(true),
        py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("h"), py::arg("c"),
        py::arg("gates"), py::arg("h0").none(true), py::arg("c0").none(true),
        "BPTT of lstm: every gradient from dh (B,T,U) or None and dh_T, dc_T (B,U) or None");
  m.def("simple_rnn", &simple_rnn, py::arg("h"), py::arg("x"), py::arg("kernel"),
        py::arg("recurrent_kernel"), py::arg("bias"), py::arg("h0").none(true),
        "h (B,T,U) of a tanh SimpleRNN over x (B,T,F); h0 (B,U) or None");
  m.def("simple_rnn_backward", &simple_rnn_backward, py::arg("dx"), py::arg("dkernel"),
        py::arg("drecurrent_kernel"), py::arg("dbias"), py::arg("dh0"), py::arg("dh").none(true),
        py::arg("dh_T").none(true), py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"),
        py::arg("h"), py::arg("h0").none(true),
        "BPTT of simple_rnn: every gradient from dh (B,T,U) or None and dh_T (B,U) or None");
}

}  // namespace ranvier::bindings
