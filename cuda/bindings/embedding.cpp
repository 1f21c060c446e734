// embedding and embedding_backward on CUDA arrays: checked by
// cpp/args/embedding.h, outputs allocated here, as in the CPU module. The ids
// are scanned on the device and the answer read back: one synchronisation of
// the stream per call.
#include "args/embedding.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/embedding.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

// The scan that cpp/args/embedding.h asks for, on `stream`.
auto first_bad(const char* op, cudaStream_t stream) {
  return [op, stream](const std::int64_t* ids, std::int64_t n, std::int64_t v) -> std::int64_t {
    float* word = nullptr;  // two floats hold the one 8-byte answer (the arena aligns to 256 bytes)
    const py::object word_owner = scratch_array(2, &word);
    auto* answer = reinterpret_cast<unsigned long long*>(word);
    unsigned long long bad = 0;
    cudaError_t err;
    {
      py::gil_scoped_release release;
      err = cuda::first_id_out_of_range(answer, ids, n, v, stream);
      if (err == cudaSuccess) err = cudaMemcpyAsync(&bad, answer, sizeof bad, cudaMemcpyDeviceToHost, stream);
      if (err == cudaSuccess) err = cudaStreamSynchronize(stream);
    }
    check_cuda(op, err);
    return bad == ~0ull ? -1 : static_cast<std::int64_t>(bad);
  };
}

py::object embedding(py::handle ids, py::handle table) {
  const char* op = "embedding";
  const cudaStream_t stream = current_stream();
  const auto a = args::embedding_args<A>(ids, table, first_bad(op, stream));
  A y = A::empty(a.y_dims);
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::embedding(y.data<float>(), a.ids.flat.data<std::int64_t>(), a.table.data<float>(), a.ids.n,
                          a.table.shape(0), a.table.shape(1), stream);
  }
  check_cuda(op, err);
  return y.object();
}

py::object embedding_backward(py::handle dy, py::handle ids, py::handle num_embeddings) {
  const char* op = "embedding_backward";
  const cudaStream_t stream = current_stream();
  const auto a = args::embedding_grad<A>(dy, ids, num_embeddings, first_bad(op, stream));
  A dtable = A::empty({a.v, a.d});
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::embedding_backward(dtable.data<float>(), a.dy.data<float>(), a.ids.flat.data<std::int64_t>(), a.ids.n,
                                   a.v, a.d, stream);
  }
  check_cuda(op, err);
  return dtable.object();
}

}  // namespace

void bind_embedding(py::module_& m) {
  m.def("embedding", &embedding, py::arg("ids"), py::arg("table"));
  m.def("embedding_backward", &embedding_backward, py::arg("dy"), py::arg("ids"), py::arg("num_embeddings"));
}

}  // namespace ranvier::bindings
