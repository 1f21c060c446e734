// embedding and embedding_backward on CUDA arrays; ids are int64
// (ranvier.ops converts the other integer types) and are range-checked here,
// before any memory is touched: one pass over the ids on the device, whose
// answer is read back (one synchronisation of the stream).
#include <cstdint>
#include <string>

#include "device_array.h"
#include "ranvier_cuda/embedding.h"
#include "typed_device_array.h"

namespace ranvier::bindings {

namespace {

// Copies `bytes` from the device to the host in stream order and waits for them.
void read_back(const char* op, void* host, const void* device, std::size_t bytes,
               cudaStream_t stream) {
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream);
    if (err == cudaSuccess) err = cudaStreamSynchronize(stream);
  }
  check_cuda(op, err);
}

struct Ids {
  const std::int64_t* data;
  std::int64_t n;
};

// ids (n,) int64 on the device, each checked to lie in [0, v); the message
// names the first one that does not, as the CPU bindings do.
Ids checked_ids(const char* op, const py::object& obj, std::int64_t v, cudaStream_t stream) {
  const auto ids = typed_device_array<const std::int64_t>(op, "ids", obj, kInt64);
  check_rank(op, "ids", ids.layout, 1);
  const std::int64_t* p = contiguous_in(op, "ids", ids);
  const std::int64_t n = ids.layout.size();
  if (n == 0) return {p, n};
  float* word = nullptr;  // two floats hold the one 8-byte answer (the arena aligns to 256 bytes)
  const py::object word_owner = scratch_array(2, &word);
  auto* first_bad = reinterpret_cast<unsigned long long*>(word);
  check_cuda(op, cuda::first_id_out_of_range(first_bad, p, n, v, stream));
  unsigned long long bad = 0;
  read_back(op, &bad, first_bad, sizeof(bad), stream);
  if (bad != ~0ull) {
    std::int64_t id = 0;
    read_back(op, &id, p + bad, sizeof(id), stream);
    fail(op, "ids must be in [0, " + std::to_string(v) + "), got " + std::to_string(id));
  }
  return {p, n};
}

void embedding(const py::object& y_obj, const py::object& ids, const py::object& table_obj) {
  const char* op = "embedding";
  const DeviceArray table = device_array(op, "table", table_obj);
  check_rank(op, "table", table, 2);
  const std::int64_t v = table.shape[0], d = table.shape[1];
  const cudaStream_t stream = current_stream();
  const Ids id = checked_ids(op, ids, v, stream);
  const std::int64_t n = id.n;
  const DeviceArray y = device_array(op, "y", y_obj);
  check_shape(op, "y", y, {n, d});
  const float* tp = contiguous_in(op, "table", table);
  float* yp = contiguous_out(op, "y", y);
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::embedding(yp, id.data, tp, n, v, d, stream);
  }
  check_cuda(op, err);
}

void embedding_backward(const py::object& dtable_obj, const py::object& dy_obj,
                        const py::object& ids) {
  const char* op = "embedding_backward";
  const DeviceArray dtable = device_array(op, "dtable", dtable_obj);
  check_rank(op, "dtable", dtable, 2);
  const std::int64_t v = dtable.shape[0], d = dtable.shape[1];
  const cudaStream_t stream = current_stream();
  const Ids id = checked_ids(op, ids, v, stream);
  const std::int64_t n = id.n;
  const DeviceArray dy = device_array(op, "dy", dy_obj);
  check_shape(op, "dy", dy, {n, d});
  const float* dyp = contiguous_in(op, "dy", dy);
  float* dtp = contiguous_out(op, "dtable", dtable);
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::embedding_backward(dtp, dyp, id.data, n, v, d, stream);
  }
  check_cuda(op, err);
}

}  // namespace

void bind_embedding(py::module_& m) {
  m.def("embedding", &embedding, py::arg("y"), py::arg("ids"), py::arg("table"),
        "y (n, d) = table (v, d)[ids (n,) int64]");
  m.def("embedding_backward", &embedding_backward, py::arg("dtable"), py::arg("dy"),
        py::arg("ids"), "dtable (v, d) = scatter-add of dy (n, d) rows at ids (n,) int64");
}

}  // namespace ranvier::bindings
