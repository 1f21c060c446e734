// attention and attention_backward on CUDA arrays: checked by
// cpp/args/attention.h, outputs allocated here, as in the CPU module.
#include "args/attention.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/attention.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

py::tuple attention(py::handle q, py::handle k, py::handle v, py::handle mask, bool causal, py::handle scale) {
  const char* op = "attention";
  const cudaStream_t stream = current_stream();
  const auto a = args::attention_args<A>(op, q, k, v, mask, causal, scale);
  const cuda::AttentionShape& s = a.shape;
  A out = A::empty({s.batch, s.heads, s.lq, s.dv}), lse = A::empty({s.batch, s.heads, s.lq});
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::attention(out.data<float>(), lse.data<float>(), a.qv, a.kv, a.vv, a.maskv, s, stream);
  }
  check_cuda(op, err);
  return py::make_tuple(out.object(), lse.object());
}

py::tuple attention_backward(py::handle dout, py::handle q, py::handle k, py::handle v, py::handle out, py::handle lse,
                             py::handle mask, bool causal, py::handle scale) {
  const char* op = "attention_backward";
  const cudaStream_t stream = current_stream();
  const auto a = args::attention_args<A>(op, q, k, v, mask, causal, scale);
  const cuda::AttentionShape& s = a.shape;
  const auto g = args::attention_grad<A>(op, dout, out, lse, s);
  A dq = A::empty(args::dims(a.q)), dk = A::empty(args::dims(a.k)), dv = A::empty(args::dims(a.v));
  float* delta = nullptr;  // rowsum(dout * out), one float per query row
  const py::object delta_owner = scratch_array(s.batch * s.heads * s.lq, &delta);
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::attention_backward(dq.data<float>(), dk.data<float>(), dv.data<float>(), delta, g.doutv, g.outv,
                                   g.lse_data, a.qv, a.kv, a.vv, a.maskv, s, stream);
  }
  check_cuda(op, err);
  return py::make_tuple(dq.object(), dk.object(), dv.object());
}

}  // namespace

void bind_attention(py::module_& m) {
  m.def("attention", &attention, py::arg("q"), py::arg("k"), py::arg("v"), py::arg("mask") = py::none(),
        py::arg("causal") = false, py::arg("scale") = py::none());
  m.def("attention_backward", &attention_backward, py::arg("dout"), py::arg("q"), py::arg("k"), py::arg("v"),
        py::arg("out"), py::arg("lse"), py::arg("mask") = py::none(), py::arg("causal") = false,
        py::arg("scale") = py::none());
}

}  // namespace ranvier::bindings
