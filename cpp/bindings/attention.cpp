// attention and attention_backward: checked by cpp/args/attention.h, outputs
// allocated here.
#include "args/attention.h"
#include "host_array.h"
#include "ranvier/attention.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

py::tuple attention(py::handle q, py::handle k, py::handle v, py::handle mask, bool causal, py::handle scale) {
  const char* op = "attention";
  const auto a = args::attention_args<A>(op, q, k, v, mask, causal, scale);
  const cpu::AttentionShape& s = a.shape;
  A out = A::empty({s.batch, s.heads, s.lq, s.dv}), lse = A::empty({s.batch, s.heads, s.lq});
  launch(op, [=] { cpu::attention(out.data<float>(), lse.data<float>(), a.qv, a.kv, a.vv, a.maskv, s); });
  return py::make_tuple(out.object(), lse.object());
}

py::tuple attention_backward(py::handle dout, py::handle q, py::handle k, py::handle v, py::handle out, py::handle lse,
                             py::handle mask, bool causal, py::handle scale) {
  const char* op = "attention_backward";
  const auto a = args::attention_args<A>(op, q, k, v, mask, causal, scale);
  const cpu::AttentionShape& s = a.shape;
  const auto g = args::attention_grad<A>(op, dout, out, lse, s);
  A dq = A::empty(args::dims(a.q)), dk = A::empty(args::dims(a.k)), dv = A::empty(args::dims(a.v));
  launch(op, [=] {
    cpu::attention_backward(dq.data<float>(), dk.data<float>(), dv.data<float>(), g.doutv, g.outv, g.lse_data, a.qv,
                            a.kv, a.vv, a.maskv, s);
  });
  return py::make_tuple(dq.object(), dk.object(), dv.object());
}

}  // namespace

void bind_attention(py::module_& m) {
  m.def("attention", &attention, py::arg("q"), py::arg("k"), py::arg("v"), py::arg("mask") = py::none(),
        py::arg("causal") = false, py::arg("scale") = py::none(),
        "(out, lse): out (B,H,Lq,Dv), lse (B,H,Lq) of attention of q (B,H,Lq,D), k (B,H,Lk,D), v (B,H,Lk,Dv); "
        "mask bool, broadcast to (B,H,Lq,Lk), or None; scale None for 1/sqrt(D)");
  m.def("attention_backward", &attention_backward, py::arg("dout"), py::arg("q"), py::arg("k"), py::arg("v"),
        py::arg("out"), py::arg("lse"), py::arg("mask") = py::none(), py::arg("causal") = false,
        py::arg("scale") = py::none(), "(dq, dk, dv) of attention from dout (B,H,Lq,Dv) and the forward's out and lse");
}

}  // namespace ranvier::bindings
