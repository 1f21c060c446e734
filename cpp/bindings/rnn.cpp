// lstm, simple_rnn and their backward.
#include <pybind11/stl.h>

#include "array_args.h"
#include "ranvier/rnn.h"

namespace ranvier::bindings {

namespace {

struct RnnShape {
  std::int64_t batch, steps, features, units;
};

// x (B,T,F), kernel (F,G*U), recurrent_kernel (U,G*U) with G gates per unit
// (4 for the LSTM, 1 for SimpleRNN).
RnnShape rnn_shape(const char* op, const Array& x, const Array& kernel,
                   const Array& recurrent_kernel, std::int64_t gates) {
  check_rank(op, "x", x, 3);
  check_rank(op, "recurrent_kernel", recurrent_kernel, 2);
  const RnnShape s = {x.shape(0), x.shape(1), x.shape(2), recurrent_kernel.shape(0)};
  check_shape(op, "recurrent_kernel", recurrent_kernel, {s.units, gates * s.units});
  check_shape(op, "kernel", kernel, {s.features, gates * s.units});
  return s;
}

const float* optional_in(const char* op, const char* name, const OptionalArray& a,
                         std::initializer_list<std::int64_t> shape) {
  if (!a) return nullptr;
  check_shape(op, name, *a, shape);
  return contiguous_in(op, name, *a);
}

float* out_array(const char* op, const char* name, Array& a,
                 std::initializer_list<std::int64_t> shape) {
  check_shape(op, name, a, shape);
  return contiguous_out(op, name, a);
}

void lstm(Array h, Array c, Array gates, const Array& x, const Array& kernel,
          const Array& recurrent_kernel, const Array& bias, const OptionalArray& h0,
          const OptionalArray& c0) {
  const char* op = "lstm";
  const RnnShape s = rnn_shape(op, x, kernel, recurrent_kernel, 4);
  const std::int64_t B = s.batch, T = s.steps, U = s.units;
  const cpu::MatrixView kv = matrix_view(op, "kernel", kernel);
  const cpu::MatrixView rv = matrix_view(op, "recurrent_kernel", recurrent_kernel);
  check_shape(op, "bias", bias, {4 * U});
  const float* bp = contiguous_in(op, "bias", bias);
  const float* xp = contiguous_in(op, "x", x);
  const float* h0p = optional_in(op, "h0", h0, {B, U});
  const float* c0p = optional_in(op, "c0", c0, {B, U});
  float* hp = out_array(op, "h", h, {B, T, U});
  float* cp = out_array(op, "c", c, {B, T, U});
  float* gp = out_array(op, "gates", gates, {B, T, 4 * U});
  py::gil_scoped_release release;
  cpu::lstm(hp, cp, gp, xp, kv, rv, bp, h0p, c0p, B, T, s.features, U);
}

void lstm_backward(Array dx, Array dkernel, Array drecurrent_kernel, Array dbias, Array dh0,
                   Array dc0, const OptionalArray& dh, const OptionalArray& dh_T,
                   const OptionalArray& dc_T, const Array& x, const Array& kernel,
                   const Array& recurrent_kernel, const Array& h, const Array& c,
                   const Array& gates, const OptionalArray& h0, const OptionalArray& c0) {
  const char* op = "lstm_backward";
  const RnnShape s = rnn_shape(op, x, kernel, recurrent_kernel, 4);
  const std::int64_t B = s.batch, T = s.steps, F = s.features, U = s.units;
  const cpu::MatrixView kv = matrix_view(op, "kernel", kernel);
  const cpu::MatrixView rv = matrix_view(op, "recurrent_kernel", recurrent_kernel);
  const float* xp = contiguous_in(op, "x", x);
  const float* dhp = optional_in(op, "dh", dh, {B, T, U});
  const float* dhTp = optional_in(op, "dh_T", dh_T, {B, U});
  const float* dcTp = optional_in(op, "dc_T", dc_T, {B, U});
  const float* h0p = optional_in(op, "h0", h0, {B, U});
  const float* c0p = optional_in(op, "c0", c0, {B, U});
  check_shape(op, "h", h, {B, T, U});
  check_shape(op, "c", c, {B, T, U});
  check_shape(op, "gates", gates, {B, T, 4 * U});
  const float* hp = contiguous_in(op, "h", h);
  const float* cp = contiguous_in(op, "c", c);
  const float* gp = contiguous_in(op, "gates", gates);
  float* dxp = out_array(op, "dx", dx, {B, T, F});
  float* dkp = out_array(op, "dkernel", dkernel, {F, 4 * U});
  float* drp = out_array(op, "drecurrent_kernel", drecurrent_kernel, {U, 4 * U});
  float* dbp = out_array(op, "dbias", dbias, {4 * U});
  float* dh0p = out_array(op, "dh0", dh0, {B, U});
  float* dc0p = out_array(op, "dc0", dc0, {B, U});
  py::gil_scoped_release release;
  cpu::lstm_backward(dxp, dkp, drp, dbp, dh0p, dc0p, dhp, dhTp, dcTp, xp, kv, rv, hp, cp, gp, h0p,
                     c0p, B, T, F, U);
}

void simple_rnn(Array h, const Array& x, const Array& kernel, const Array& recurrent_kernel,
                const Array& bias, const OptionalArray& h0) {
  const char* op = "simple_rnn";
  const RnnShape s = rnn_shape(op, x, kernel, recurrent_kernel, 1);
  const std::int64_t B = s.batch, T = s.steps, U = s.units;
  const cpu::MatrixView kv = matrix_view(op, "kernel", kernel);
  const cpu::MatrixView rv = matrix_view(op, "recurrent_kernel", recurrent_kernel);
  check_shape(op, "bias", bias, {U});
  const float* bp = contiguous_in(op, "bias", bias);
  const float* xp = contiguous_in(op, "x", x);
  const float* h0p = optional_in(op, "h0", h0, {B, U});
  float* hp = out_array(op, "h", h, {B, T, U});
  py::gil_scoped_release release;
  cpu::simple_rnn(hp, xp, kv, rv, bp, h0p, B, T, s.features, U);
}

void simple_rnn_backward(Array dx, Array dkernel, Array drecurrent_kernel, Array dbias, Array dh0,
                         const OptionalArray& dh, const OptionalArray& dh_T, const Array& x,
                         const Array& kernel, const Array& recurrent_kernel, const Array& h,
                         const OptionalArray& h0) {
  const char* op = "simple_rnn_backward";
  const RnnShape s = rnn_shape(op, x, kernel, recurrent_kernel, 1);
  const std::int64_t B = s.batch, T = s.steps, F = s.features, U = s.units;
  const cpu::MatrixView kv = matrix_view(op, "kernel", kernel);
  const cpu::MatrixView rv = matrix_view(op, "recurrent_kernel", recurrent_kernel);
  const float* xp = contiguous_in(op, "x", x);
  const float* dhp = optional_in(op, "dh", dh, {B, T, U});
  const float* dhTp = optional_in(op, "dh_T", dh_T, {B, U});
  const float* h0p = optional_in(op, "h0", h0, {B, U});
  check_shape(op, "h", h, {B, T, U});
  const float* hp = contiguous_in(op, "h", h);
  float* dxp = out_array(op, "dx", dx, {B, T, F});
  float* dkp = out_array(op, "dkernel", dkernel, {F, U});
  float* drp = out_array(op, "drecurrent_kernel", drecurrent_kernel, {U, U});
  float* dbp = out_array(op, "dbias", dbias, {U});
  float* dh0p = out_array(op, "dh0", dh0, {B, U});
  py::gil_scoped_release release;
  cpu::simple_rnn_backward(dxp, dkp, drp, dbp, dh0p, dhp, dhTp, xp, kv, rv, hp, h0p, B, T, F, U);
}

}  // namespace

void bind_rnn(py::module_& m) {
  m.def("lstm", &lstm, py::arg("h").noconvert(), py::arg("c").noconvert(),
        py::arg("gates").noconvert(), py::arg("x").noconvert(), py::arg("kernel").noconvert(),
        py::arg("recurrent_kernel").noconvert(), py::arg("bias").noconvert(),
        py::arg("h0").noconvert(), py::arg("c0").noconvert(),
        "h, c (B,T,U) and gates (B,T,4U) [i f g o] of an LSTM over x (B,T,F); h0, c0 (B,U) or None");
  m.def("lstm_backward", &lstm_backward, py::arg("dx").noconvert(), py::arg("dkernel").noconvert(),
        py::arg("drecurrent_kernel").noconvert(), py::arg("dbias").noconvert(),
        py::arg("dh0").noconvert(), py::arg("dc0").noconvert(), py::arg("dh").noconvert(),
        py::arg("dh_T").noconvert(), py::arg("dc_T").noconvert(), py::arg("x").noconvert(),
        py::arg("kernel").noconvert(), py::arg("recurrent_kernel").noconvert(),
        py::arg("h").noconvert(), py::arg("c").noconvert(), py::arg("gates").noconvert(),
        py::arg("h0").noconvert(), py::arg("c0").noconvert(),
        "BPTT of lstm: every gradient from dh (B,T,U) or None and dh_T, dc_T (B,U) or None");
  m.def("simple_rnn", &simple_rnn, py::arg("h").noconvert(), py::arg("x").noconvert(),
        py::arg("kernel").noconvert(), py::arg("recurrent_kernel").noconvert(),
        py::arg("bias").noconvert(), py::arg("h0").noconvert(),
        "h (B,T,U) of a tanh SimpleRNN over x (B,T,F); h0 (B,U) or None");
  m.def("simple_rnn_backward", &simple_rnn_backward, py::arg("dx").noconvert(),
        py::arg("dkernel").noconvert(), py::arg("drecurrent_kernel").noconvert(),
        py::arg("dbias").noconvert(), py::arg("dh0").noconvert(), py::arg("dh").noconvert(),
        py::arg("dh_T").noconvert(), py::arg("x").noconvert(), py::arg("kernel").noconvert(),
        py::arg("recurrent_kernel").noconvert(), py::arg("h").noconvert(),
        py::arg("h0").noconvert(),
        "BPTT of simple_rnn: every gradient from dh (B,T,U) or None and dh_T (B,U) or None");
}

}  // namespace ranvier::bindings
