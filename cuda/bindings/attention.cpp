// attention and attention_backward on CUDA arrays; the same call signatures as
// the _cpu module's (cpp/bindings/attention.cpp). q, k, v, dout and out may
// have any strides; the mask is a bool array already broadcast to
// (B, H, Lq, Lk), stride 0 on the broadcast axes, so it is never copied.
#include <cmath>
#include <string>

#include "device_array.h"
#include "ranvier_cuda/attention.h"
#include "typed_device_array.h"

namespace ranvier::bindings {

namespace {

cuda::AttentionView attention_view(const char* op, const char* name, const DeviceArray& a,
                                   std::initializer_list<std::int64_t> shape) {
  check_shape(op, name, a, shape);
  return {a.data, a.strides[0], a.strides[1], a.strides[2], a.strides[3]};
}

// q (B,H,Lq,D), k (B,H,Lk,D), v (B,H,Lk,Dv): the sizes, checked to agree below.
cuda::AttentionShape attention_shape(const char* op, const DeviceArray& q, const DeviceArray& k,
                                     const DeviceArray& v, bool causal, double scale) {
  check_rank(op, "q", q, 4);
  check_rank(op, "k", k, 4);
  check_rank(op, "v", v, 4);
  if (!(std::isfinite(scale) && scale > 0.0)) fail(op, "scale must be finite and > 0");
  return {q.shape[0], q.shape[1], q.shape[2], k.shape[2], q.shape[3], v.shape[3],
          static_cast<float>(scale), causal};
}

struct Inputs {
  cuda::AttentionShape shape;
  cuda::AttentionView q, k, v;
  cuda::AttentionMask mask;
};

Inputs attention_inputs(const char* op, const py::object& q_obj, const py::object& k_obj,
                        const py::object& v_obj, const py::object& mask_obj, bool causal,
                        double scale) {
  const DeviceArray q = device_array(op, "q", q_obj), k = device_array(op, "k", k_obj);
  const DeviceArray v = device_array(op, "v", v_obj);
  Inputs in;
  in.shape = attention_shape(op, q, k, v, causal, scale);
  const cuda::AttentionShape& s = in.shape;
  in.q = attention_view(op, "q", q, {s.batch, s.heads, s.lq, s.d});
  in.k = attention_view(op, "k", k, {s.batch, s.heads, s.lk, s.d});
  in.v = attention_view(op, "v", v, {s.batch, s.heads, s.lk, s.dv});
  if (!mask_obj.is_none()) {
    const auto mask = typed_device_array<std::uint8_t>(op, "mask", mask_obj, kBool);
    check_shape(op, "mask", mask.layout, {s.batch, s.heads, s.lq, s.lk});
    const std::vector<std::int64_t>& st = mask.layout.strides;
    in.mask = {mask.data, st[0], st[1], st[2], st[3]};
  }
  return in;
}

void attention(const py::object& out_obj, const py::object& lse_obj, const py::object& q,
               const py::object& k, const py::object& v, const py::object& mask, bool causal,
               double scale) {
  const char* op = "attention";
  const Inputs in = attention_inputs(op, q, k, v, mask, causal, scale);
  const cuda::AttentionShape& s = in.shape;
  const DeviceArray out = device_array(op, "out", out_obj), lse = device_array(op, "lse", lse_obj);
  check_shape(op, "out", out, {s.batch, s.heads, s.lq, s.dv});
  check_shape(op, "lse", lse, {s.batch, s.heads, s.lq});
  float* outp = contiguous_out(op, "out", out);
  float* lsep = contiguous_out(op, "lse", lse);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::attention(outp, lsep, in.q, in.k, in.v, in.mask, s, stream);
  }
  check_cuda(op, err);
}

void attention_backward(const py::object& dq_obj, const py::object& dk_obj,
                        const py::object& dv_obj, const py::object& dout_obj,
                        const py::object& out_obj, const py::object& lse_obj, const py::object& q,
                        const py::object& k, const py::object& v, const py::object& mask,
                        bool causal, double scale) {
  const char* op = "attention_backward";
  const Inputs in = attention_inputs(op, q, k, v, mask, causal, scale);
  const cuda::AttentionShape& s = in.shape;
  const cuda::AttentionView doutv =
      attention_view(op, "dout", device_array(op, "dout", dout_obj), {s.batch, s.heads, s.lq, s.dv});
  const cuda::AttentionView outv =
      attention_view(op, "out", device_array(op, "out", out_obj), {s.batch, s.heads, s.lq, s.dv});
  const DeviceArray lse = device_array(op, "lse", lse_obj);
  check_shape(op, "lse", lse, {s.batch, s.heads, s.lq});
  const float* lsep = contiguous_in(op, "lse", lse);
  const DeviceArray dq = device_array(op, "dq", dq_obj), dk = device_array(op, "dk", dk_obj);
  const DeviceArray dv = device_array(op, "dv", dv_obj);
  check_shape(op, "dq", dq, {s.batch, s.heads, s.lq, s.d});
  check_shape(op, "dk", dk, {s.batch, s.heads, s.lk, s.d});
  check_shape(op, "dv", dv, {s.batch, s.heads, s.lk, s.dv});
  float* dqp = contiguous_out(op, "dq", dq);
  float* dkp = contiguous_out(op, "dk", dk);
  float* dvp = contiguous_out(op, "dv", dv);
  float* delta = nullptr;  // rowsum(dout * out), one float per query row
  const py::object delta_owner = scratch_array(s.batch * s.heads * s.lq, &delta);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::attention_backward(dqp, dkp, dvp, delta, doutv, outv, lsep, in.q, in.k, in.v,
                                   in.mask, s, stream);
  }
  check_cuda(op, err);
}

}  // namespace

void bind_attention(py::module_& m) {
  m.def("attention", &attention, py::arg("out"), py::arg("lse"), py::arg("q"), py::arg("k"),
        py::arg("v"), py::arg("mask").none(true), py::arg("causal"), py::arg("scale"),
        "out (B,H,Lq,Dv), lse (B,H,Lq) = attention of q (B,H,Lq,D), k (B,H,Lk,D), v (B,H,Lk,Dv); "
        "mask bool (B,H,Lq,Lk) (broadcast strides allowed) or None");
  m.def("attention_backward", &attention_backward, py::arg("dq"), py::arg("dk"), py::arg("dv"),
        py::arg("dout"), py::arg("out"), py::arg("lse"), py::arg("q"), py::arg("k"), py::arg("v"),
        py::arg("mask").none(true), py::arg("causal"), py::arg("scale"),
        "dq, dk, dv of attention from dout (B,H,Lq,Dv) and the forward's out and lse");
}

}  // namespace ranvier::bindings
