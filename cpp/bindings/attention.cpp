// attention and attention_backward. q, k, v, dout and out may have any
// strides (a (B, L, H, D) array viewed as (B, H, L, D) is read in place); the
// mask is a bool array already broadcast to (B, H, Lq, Lk), stride 0 on the
// broadcast axes, so it is never copied either.
#include <pybind11/stl.h>

#include <cmath>
#include <string>

#include "array_args.h"
#include "ranvier/attention.h"

namespace ranvier::bindings {

namespace {

using BoolArray = NdArray<bool>;
using OptionalBoolArray = std::optional<BoolArray>;

cpu::AttentionView attention_view(const char* op, const char* name, const Array& a,
                                  std::initializer_list<std::int64_t> shape) {
  check_shape(op, name, a, shape);
  return {a.data(), elem_stride(op, name, a, 0), elem_stride(op, name, a, 1),
          elem_stride(op, name, a, 2), elem_stride(op, name, a, 3)};
}

// q (B,H,Lq,D), k (B,H,Lk,D), v (B,H,Lk,Dv): the sizes, checked to agree.
cpu::AttentionShape attention_shape(const char* op, const Array& q, const Array& k, const Array& v,
                                    bool causal, double scale) {
  check_rank(op, "q", q, 4);
  check_rank(op, "k", k, 4);
  check_rank(op, "v", v, 4);
  if (!(std::isfinite(scale) && scale > 0.0)) fail(op, "scale must be finite and > 0");
  return {q.shape(0), q.shape(1), q.shape(2), k.shape(2), q.shape(3), v.shape(3),
          static_cast<float>(scale), causal};
}

struct Inputs {
  cpu::AttentionShape shape;
  cpu::AttentionView q, k, v;
  cpu::AttentionMask mask;
};

Inputs attention_inputs(const char* op, const Array& q, const Array& k, const Array& v,
                        const OptionalBoolArray& mask, bool causal, double scale) {
  Inputs in;
  in.shape = attention_shape(op, q, k, v, causal, scale);
  const cpu::AttentionShape& s = in.shape;
  in.q = attention_view(op, "q", q, {s.batch, s.heads, s.lq, s.d});
  in.k = attention_view(op, "k", k, {s.batch, s.heads, s.lk, s.d});
  in.v = attention_view(op, "v", v, {s.batch, s.heads, s.lk, s.dv});
  if (mask) {
    // bool is one byte, so byte strides are element strides.
    check_shape(op, "mask", *mask, {s.batch, s.heads, s.lq, s.lk});
    in.mask = {reinterpret_cast<const std::uint8_t*>(mask->data()), mask->strides(0),
               mask->strides(1), mask->strides(2), mask->strides(3)};
  }
  return in;
}

void attention(Array out, Array lse, const Array& q, const Array& k, const Array& v,
               const OptionalBoolArray& mask, bool causal, double scale) {
  const char* op = "attention";
  const Inputs in = attention_inputs(op, q, k, v, mask, causal, scale);
  const cpu::AttentionShape& s = in.shape;
  check_shape(op, "out", out, {s.batch, s.heads, s.lq, s.dv});
  check_shape(op, "lse", lse, {s.batch, s.heads, s.lq});
  float* outp = contiguous_out(op, "out", out);
  float* lsep = contiguous_out(op, "lse", lse);
  py::gil_scoped_release release;
  cpu::attention(outp, lsep, in.q, in.k, in.v, in.mask, s);
}

void attention_backward(Array dq, Array dk, Array dv, const Array& dout, const Array& out,
                        const Array& lse, const Array& q, const Array& k, const Array& v,
                        const OptionalBoolArray& mask, bool causal, double scale) {
  const char* op = "attention_backward";
  const Inputs in = attention_inputs(op, q, k, v, mask, causal, scale);
  const cpu::AttentionShape& s = in.shape;
  const cpu::AttentionView doutv = attention_view(op, "dout", dout, {s.batch, s.heads, s.lq, s.dv});
  const cpu::AttentionView outv = attention_view(op, "out", out, {s.batch, s.heads, s.lq, s.dv});
  check_shape(op, "lse", lse, {s.batch, s.heads, s.lq});
  const float* lsep = contiguous_in(op, "lse", lse);
  check_shape(op, "dq", dq, {s.batch, s.heads, s.lq, s.d});
  check_shape(op, "dk", dk, {s.batch, s.heads, s.lk, s.d});
  check_shape(op, "dv", dv, {s.batch, s.heads, s.lk, s.dv});
  float* dqp = contiguous_out(op, "dq", dq);
  float* dkp = contiguous_out(op, "dk", dk);
  float* dvp = contiguous_out(op, "dv", dv);
  py::gil_scoped_release release;
  cpu::attention_backward(dqp, dkp, dvp, doutv, outv, lsep, in.q, in.k, in.v, in.mask, s);
}

}  // namespace

void bind_attention(py::module_& m) {
  m.def("attention", &attention, py::arg("out").noconvert(), py::arg("lse").noconvert(),
        py::arg("q").noconvert(), py::arg("k").noconvert(), py::arg("v").noconvert(),
        py::arg("mask").noconvert(), py::arg("causal"), py::arg("scale"),
        "out (B,H,Lq,Dv), lse (B,H,Lq) = attention of q (B,H,Lq,D), k (B,H,Lk,D), v (B,H,Lk,Dv); "
        "mask bool (B,H,Lq,Lk) (broadcast strides allowed) or None");
  m.def("attention_backward", &attention_backward, py::arg("dq").noconvert(),
        py::arg("dk").noconvert(), py::arg("dv").noconvert(), py::arg("dout").noconvert(),
        py::arg("out").noconvert(), py::arg("lse").noconvert(), py::arg("q").noconvert(),
        py::arg("k").noconvert(), py::arg("v").noconvert(), py::arg("mask").noconvert(),
        py::arg("causal"), py::arg("scale"),
        "dq, dk, dv of attention from dout (B,H,Lq,Dv) and the forward's out and lse");
}

}  // namespace ranvier::bindings
