// Arguments of lstm, gru, simple_rnn and their backward (ranvier.ops.rnn).
//
// Keras layout: x (B, T, F), kernel (F, G*U), recurrent_kernel (U, G*U),
// bias (G*U,), with G = 4 gate blocks (i, f, c, o) for the LSTM, 1 for
// SimpleRNN; the GRU has G = 3 (z, r, h) and bias (2, 3U) (input, recurrent).
#pragma once

#include <optional>
#include <string>

#include "checks.h"

namespace ranvier::args {

template <class A>
struct RnnArgs {
  A x, kernel, recurrent_kernel, bias;
  std::int64_t batch, steps, features, units;
  cpu::MatrixView kernel_view, recurrent_view;  // any strides
  const float* x_data;
  const float* bias_data;
};

// The GRU's gate count: 3 blocks, and a bias of two rows.
constexpr int kGruGates = 3;

// x and the weights; `gates` is the number of gate blocks (4, 3 or 1).
template <class A>
RnnArgs<A> rnn_args(const char* op, py::handle x_obj, py::handle kernel_obj, py::handle recurrent_obj,
                    py::handle bias_obj, int gates) {
  const std::string cols = gates == 1 ? "units" : std::to_string(gates) + "*units";
  const bool gru = gates == kGruGates;
  RnnArgs<A> a{A::read(op, "x", x_obj), A::read(op, "kernel", kernel_obj),
               A::read(op, "recurrent_kernel", recurrent_obj), A::read(op, "bias", bias_obj)};
  require_float32(op, "x", a.x, "(batch, timesteps, features)", {3});
  require_float32(op, "kernel", a.kernel, ("(features, " + cols + ")").c_str(), {2});
  require_float32(op, "recurrent_kernel", a.recurrent_kernel, ("(units, " + cols + ")").c_str(), {2});
  const std::string bias_shape = gru ? "(2, " + cols + ")" : "(" + cols + ",)";
  require_float32(op, "bias", a.bias, bias_shape.c_str(), {gru ? 2 : 1});
  if (gru && a.bias.shape(0) != 2)
    fail(op, "bias must be " + bias_shape + " (input bias, recurrent bias: reset_after=True), got " + describe(a.bias));
  const std::int64_t units = a.recurrent_kernel.shape(0);
  if (a.recurrent_kernel.shape(1) != gates * units)
    fail(op, "recurrent_kernel must be (units, " + cols + "), got " + shape_str(a.recurrent_kernel));
  const std::pair<const char*, const A*> with_columns[] = {{"kernel", &a.kernel}, {"bias", &a.bias}};
  for (const auto& [name, w] : with_columns) {
    const std::int64_t columns = w->shape(w->ndim() - 1);
    if (columns != gates * units)
      fail(op, std::string(name) + " " + shape_str(*w) + " and recurrent_kernel " + shape_str(a.recurrent_kernel) +
                   " disagree on units: " + name + " has " + std::to_string(columns) +
                   " columns, recurrent_kernel has units=" + std::to_string(units) + " so " + cols + "=" +
                   std::to_string(gates * units));
  }
  if (a.x.shape(2) != a.kernel.shape(0))
    fail(op, "x has " + std::to_string(a.x.shape(2)) + " features on its last axis but kernel is " +
                 shape_str(a.kernel) + " (expects features=" + std::to_string(a.kernel.shape(0)) + ")");
  if (a.x.shape(1) == 0) fail(op, "x must have at least one time step, got " + describe(a.x));
  a.batch = a.x.shape(0);
  a.steps = a.x.shape(1);
  a.features = a.x.shape(2);
  a.units = units;
  a.kernel_view = matrix_view(op, "kernel", a.kernel);
  a.recurrent_view = matrix_view(op, "recurrent_kernel", a.recurrent_kernel);
  a.x_data = dense(a.x);
  a.bias_data = dense(a.bias);
  return a;
}

// An optional (batch, units) state or state gradient, dense.
template <class A>
std::optional<A> rnn_state(const char* op, const char* name, py::handle obj, const RnnArgs<A>& a) {
  std::optional<A> s = read_optional<A>(op, name, obj);
  if (!s) return s;
  require_float32(op, name, *s, "(batch, units)", {2});
  if (!has_dims(*s, {a.batch, a.units}))
    fail(op, std::string(name) + " must be (batch, units) = " + dims_str({a.batch, a.units}) + " float32, got " +
                 describe(*s));
  dense(*s);
  return s;
}

// The gradient of the output, dh_seq: (B, T, U), or (B, U) when the forward ran
// with return_sequences=False, or None. A (B, U) one is the gradient of the
// last output only, so it joins dh_T (their sum when both are given).
template <class A>
void rnn_output_grad(const char* op, py::handle dh_obj, const RnnArgs<A>& a, std::optional<A>* dh_seq,
                     std::optional<A>* dh_T) {
  *dh_seq = read_optional<A>(op, "dh_seq", dh_obj);
  if (!*dh_seq) return;
  require_float32(op, "dh_seq", **dh_seq, "(batch, timesteps, units) or (batch, units)", {2, 3});
  if ((*dh_seq)->ndim() == 2) {
    std::optional<A> last = rnn_state(op, "dh_seq", dh_obj, a);
    if (*dh_T) {
      const py::object sum =
          py::reinterpret_steal<py::object>(PyNumber_Add(last->object().ptr(), (*dh_T)->object().ptr()));
      if (!sum) throw py::error_already_set();
      last = A::read(op, "dh_T", sum);
    }
    *dh_T = last;
    dh_seq->reset();
    return;
  }
  if (!has_dims(**dh_seq, {a.batch, a.steps, a.units}))
    fail(op, "dh_seq must be (batch, timesteps, units) = " + dims_str({a.batch, a.steps, a.units}) + " float32, got " +
                 describe(**dh_seq));
  dense(**dh_seq);
}

// cache[key] of the dict that `forward`(..., return_cache=True) returned, dense.
template <class A>
A rnn_cached(const char* op, const char* forward, py::handle cache, const char* key, const Dims& want) {
  const std::string name = std::string("cache['") + key + "']";
  if (!PyDict_Check(cache.ptr()) || !py::reinterpret_borrow<py::dict>(cache).contains(key))
    fail(op, std::string("cache must be the dict returned by ") + forward + "(..., return_cache=True) (with '" + key +
                 "'), got " + type_name(cache));
  A c = A::read(op, name.c_str(), py::reinterpret_borrow<py::dict>(cache)[key]);
  require_float32(op, name.c_str(), c, nullptr, {static_cast<int>(want.size())});
  if (!has_dims(c, want)) fail(op, name + " must be " + dims_str(want) + " float32, got " + describe(c));
  dense(c);
  return c;
}

// lstm's checked arguments and its allocated outputs h, c (B,T,U), gates (B,T,4U).
template <class A>
struct LstmForward {
  RnnArgs<A> a;
  std::optional<A> h0, c0;
  A h, c, gates;
  py::tuple outputs() const { return py::make_tuple(h.object(), c.object(), gates.object()); }
};

template <class A>
LstmForward<A> lstm_forward(const char* op, py::handle x, py::handle kernel, py::handle recurrent_kernel,
                            py::handle bias, py::handle h0, py::handle c0) {
  RnnArgs<A> a = rnn_args<A>(op, x, kernel, recurrent_kernel, bias, 4);
  auto h0a = rnn_state<A>(op, "h0", h0, a), c0a = rnn_state<A>(op, "c0", c0, a);
  const Dims seq = {a.batch, a.steps, a.units};
  return {a, h0a, c0a, A::empty(seq), A::empty(seq), A::empty({a.batch, a.steps, 4 * a.units})};
}

// gru's checked arguments and its allocated outputs h (B,T,U), gates (B,T,4U).
template <class A>
struct GruForward {
  RnnArgs<A> a;
  std::optional<A> h0;
  A h, gates;
  py::tuple outputs() const { return py::make_tuple(h.object(), gates.object()); }
};

template <class A>
GruForward<A> gru_forward(const char* op, py::handle x, py::handle kernel, py::handle recurrent_kernel, py::handle bias,
                          py::handle h0) {
  RnnArgs<A> a = rnn_args<A>(op, x, kernel, recurrent_kernel, bias, kGruGates);
  auto h0a = rnn_state<A>(op, "h0", h0, a);
  return {a, h0a, A::empty({a.batch, a.steps, a.units}), A::empty({a.batch, a.steps, 4 * a.units})};
}

// simple_rnn's checked arguments and its allocated output h (B,T,U).
template <class A>
struct SimpleRnnForward {
  RnnArgs<A> a;
  std::optional<A> h0;
  A h;
};

template <class A>
SimpleRnnForward<A> simple_rnn_forward(const char* op, py::handle x, py::handle kernel, py::handle recurrent_kernel,
                                       py::handle bias, py::handle h0) {
  RnnArgs<A> a = rnn_args<A>(op, x, kernel, recurrent_kernel, bias, 1);
  auto h0a = rnn_state<A>(op, "h0", h0, a);
  return {a, h0a, A::empty({a.batch, a.steps, a.units})};
}

// The gradients every RNN backward returns: dx (None when need_dx is False:
// the input is data), dkernel, drecurrent_kernel, dbias, dh0 (and dc0 for the
// LSTM), allocated for `gates` gate blocks.
template <class A>
struct RnnGrads {
  std::optional<A> dx;
  A dkernel, drecurrent, dbias, dh0;
  std::optional<A> dc0;
  py::tuple outputs() const {
    py::tuple t(dc0 ? 6 : 5);
    t[0] = object_or_none(dx);
    const A* weights_and_state[] = {&dkernel, &drecurrent, &dbias, &dh0};
    for (int i = 0; i < 4; ++i) t[i + 1] = weights_and_state[i]->object();
    if (dc0) t[5] = dc0->object();
    return t;
  }
};

template <class A>
RnnGrads<A> rnn_grads(const RnnArgs<A>& a, int gates, bool need_dx) {
  const std::int64_t B = a.batch, U = a.units, G = gates * a.units;
  RnnGrads<A> g{need_dx ? std::optional<A>(A::empty({B, a.steps, a.features})) : std::nullopt,
                A::empty({a.features, G}),
                A::empty({U, G}),
                gates == kGruGates ? A::empty({2, G}) : A::empty({G}),
                A::empty({B, U}),
                std::nullopt};
  if (gates == 4) g.dc0 = A::empty({B, U});
  return g;
}

// lstm_backward's, gru_backward's and simple_rnn_backward's checked arguments
// (cache, states, output gradients) and allocated gradients. c only for the
// LSTM, gates for the LSTM (B,T,4U) and the GRU (B,T,4U: [z r hh hn]).
template <class A>
struct RnnBackward {
  RnnArgs<A> a;
  std::optional<A> h0, c0, dh, dh_T, dc_T, c, gates;
  A h;
  RnnGrads<A> grads;
};

template <class A>
RnnBackward<A> rnn_backward(const char* op, const char* forward, int gates, py::handle dh_seq, py::handle x,
                            py::handle kernel, py::handle recurrent_kernel, py::handle bias, py::handle cache,
                            py::handle h0, py::handle c0, py::handle dh_T, py::handle dc_T, py::handle need_dx) {
  RnnArgs<A> a = rnn_args<A>(op, x, kernel, recurrent_kernel, bias, gates);
  const bool want_dx = flag(op, "need_dx", need_dx);
  const bool lstm = gates == 4;
  auto h0a = rnn_state<A>(op, "h0", h0, a);
  std::optional<A> c0a = lstm ? rnn_state<A>(op, "c0", c0, a) : std::nullopt;
  auto dhTa = rnn_state<A>(op, "dh_T", dh_T, a);
  std::optional<A> dcTa = lstm ? rnn_state<A>(op, "dc_T", dc_T, a) : std::nullopt;
  std::optional<A> dh;
  rnn_output_grad(op, dh_seq, a, &dh, &dhTa);
  const Dims seq = {a.batch, a.steps, a.units};
  A h = rnn_cached<A>(op, forward, cache, "h", seq);
  std::optional<A> c, gate_values;
  if (lstm) c = rnn_cached<A>(op, forward, cache, "c", seq);
  if (lstm || gates == kGruGates)
    gate_values = rnn_cached<A>(op, forward, cache, "gates", {a.batch, a.steps, 4 * a.units});
  RnnGrads<A> grads = rnn_grads(a, gates, want_dx);
  return {a, h0a, c0a, dh, dhTa, dcTa, c, gate_values, h, grads};
}

}  // namespace ranvier::args
