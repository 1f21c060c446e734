// lstm, gru, simple_rnn and their backward: checked and allocated by cpp/args/rnn.h.
#include "args/rnn.h"
#include "host_array.h"
#include "ranvier/rnn.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

py::tuple lstm(py::handle x, py::handle kernel, py::handle recurrent_kernel, py::handle bias, py::handle h0,
               py::handle c0) {
  const auto f = args::lstm_forward<A>("lstm", x, kernel, recurrent_kernel, bias, h0, c0);
  const auto& a = f.a;
  launch("lstm", [=] {
    cpu::lstm(args::floats(f.h), args::floats(f.c), args::floats(f.gates), a.x_data, a.kernel_view, a.recurrent_view,
              a.bias_data, args::data_or_null(f.h0), args::data_or_null(f.c0), a.batch, a.steps, a.features, a.units);
  });
  return f.outputs();
}

py::tuple lstm_backward(py::handle dh_seq, py::handle x, py::handle kernel, py::handle recurrent_kernel,
                        py::handle bias, py::handle cache, py::handle h0, py::handle c0, py::handle dh_T,
                        py::handle dc_T, py::handle need_dx) {
  const auto b = args::rnn_backward<A>("lstm_backward", "lstm", 4, dh_seq, x, kernel, recurrent_kernel, bias, cache, h0,
                                       c0, dh_T, dc_T, need_dx);
  const auto& a = b.a;
  const auto& g = b.grads;
  launch("lstm_backward", [=] {
    cpu::lstm_backward(args::floats(g.dx), args::floats(g.dkernel), args::floats(g.drecurrent), args::floats(g.dbias),
                       args::floats(g.dh0), args::floats(g.dc0), args::data_or_null(b.dh), args::data_or_null(b.dh_T),
                       args::data_or_null(b.dc_T), a.x_data, a.kernel_view, a.recurrent_view, args::floats(b.h),
                       args::floats(b.c), args::floats(b.gates), args::data_or_null(b.h0), args::data_or_null(b.c0),
                       a.batch, a.steps, a.features, a.units);
  });
  return g.outputs();
}

py::tuple gru(py::handle x, py::handle kernel, py::handle recurrent_kernel, py::handle bias, py::handle h0) {
  const auto f = args::gru_forward<A>("gru", x, kernel, recurrent_kernel, bias, h0);
  const auto& a = f.a;
  launch("gru", [=] {
    cpu::gru(args::floats(f.h), args::floats(f.gates), a.x_data, a.kernel_view, a.recurrent_view, a.bias_data,
             args::data_or_null(f.h0), a.batch, a.steps, a.features, a.units);
  });
  return f.outputs();
}

py::tuple gru_backward(py::handle dh_seq, py::handle x, py::handle kernel, py::handle recurrent_kernel, py::handle bias,
                       py::handle cache, py::handle h0, py::handle dh_T, py::handle need_dx) {
  const auto none = py::none();
  const auto b = args::rnn_backward<A>("gru_backward", "gru", args::kGruGates, dh_seq, x, kernel, recurrent_kernel,
                                       bias, cache, h0, none, dh_T, none, need_dx);
  const auto& a = b.a;
  const auto& g = b.grads;
  launch("gru_backward", [=] {
    cpu::gru_backward(args::floats(g.dx), args::floats(g.dkernel), args::floats(g.drecurrent), args::floats(g.dbias),
                      args::floats(g.dh0), args::data_or_null(b.dh), args::data_or_null(b.dh_T), a.x_data,
                      a.kernel_view, a.recurrent_view, args::floats(b.h), args::floats(b.gates),
                      args::data_or_null(b.h0), a.batch, a.steps, a.features, a.units);
  });
  return g.outputs();
}

py::object simple_rnn(py::handle x, py::handle kernel, py::handle recurrent_kernel, py::handle bias, py::handle h0) {
  const auto f = args::simple_rnn_forward<A>("simple_rnn", x, kernel, recurrent_kernel, bias, h0);
  const auto& a = f.a;
  launch("simple_rnn", [=] {
    cpu::simple_rnn(args::floats(f.h), a.x_data, a.kernel_view, a.recurrent_view, a.bias_data, args::data_or_null(f.h0),
                    a.batch, a.steps, a.features, a.units);
  });
  return f.h.object();
}

py::tuple simple_rnn_backward(py::handle dh_seq, py::handle x, py::handle kernel, py::handle recurrent_kernel,
                              py::handle bias, py::handle cache, py::handle h0, py::handle dh_T, py::handle need_dx) {
  const auto none = py::none();
  const auto b = args::rnn_backward<A>("simple_rnn_backward", "simple_rnn", 1, dh_seq, x, kernel, recurrent_kernel,
                                       bias, cache, h0, none, dh_T, none, need_dx);
  const auto& a = b.a;
  const auto& g = b.grads;
  launch("simple_rnn_backward", [=] {
    cpu::simple_rnn_backward(args::floats(g.dx), args::floats(g.dkernel), args::floats(g.drecurrent),
                             args::floats(g.dbias), args::floats(g.dh0), args::data_or_null(b.dh),
                             args::data_or_null(b.dh_T), a.x_data, a.kernel_view, a.recurrent_view, args::floats(b.h),
                             args::data_or_null(b.h0), a.batch, a.steps, a.features, a.units);
  });
  return g.outputs();
}

}  // namespace

void bind_rnn(py::module_& m) {
  m.def("lstm", &lstm, py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"),
        py::arg("h0") = py::none(), py::arg("c0") = py::none(),
        "(h, c, gates): h, c (B,T,U) and gates (B,T,4U) [i f g o] of an LSTM over x (B,T,F)");
  m.def("lstm_backward", &lstm_backward, py::arg("dh_seq"), py::arg("x"), py::arg("kernel"),
        py::arg("recurrent_kernel"), py::arg("bias"), py::arg("cache"), py::arg("h0") = py::none(),
        py::arg("c0") = py::none(), py::arg("dh_T") = py::none(), py::arg("dc_T") = py::none(),
        py::arg("need_dx") = true, "BPTT of lstm: (dx, dkernel, drecurrent_kernel, dbias, dh0, dc0)");
  m.def("gru", &gru, py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"),
        py::arg("h0") = py::none(),
        "(h, gates): h (B,T,U) and gates (B,T,4U) [z r hh hn] of a GRU (reset_after=True) over x (B,T,F)");
  m.def("gru_backward", &gru_backward, py::arg("dh_seq"), py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"),
        py::arg("bias"), py::arg("cache"), py::arg("h0") = py::none(), py::arg("dh_T") = py::none(),
        py::arg("need_dx") = true, "BPTT of gru: (dx, dkernel, drecurrent_kernel, dbias, dh0)");
  m.def("simple_rnn", &simple_rnn, py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias"),
        py::arg("h0") = py::none(), "h (B,T,U) of a tanh SimpleRNN over x (B,T,F)");
  m.def("simple_rnn_backward", &simple_rnn_backward, py::arg("dh_seq"), py::arg("x"), py::arg("kernel"),
        py::arg("recurrent_kernel"), py::arg("bias"), py::arg("cache"), py::arg("h0") = py::none(),
        py::arg("dh_T") = py::none(), py::arg("need_dx") = true,
        "BPTT of simple_rnn: (dx, dkernel, drecurrent_kernel, dbias, dh0)");
}

}  // namespace ranvier::bindings
