// softmax, log_softmax, their backward, and softmax_cross_entropy on rows of
// contiguous float32 CUDA arrays; the same call signatures and checks as the
// _cpu module's (cpp/bindings/softmax.cpp). Class-index labels are checked on
// the device, and a label outside [0, C) raises the CPU's ValueError.
#include <string>
#include <utility>

#include "device_array.h"
#include "index_array.h"
#include "loss_args.h"
#include "ranvier_cuda/softmax.h"

namespace ranvier::bindings {

namespace {

// (rows, n) of an array seen as rows along its last axis.
std::pair<std::int64_t, std::int64_t> rows_of(const char* op, const DeviceArray& a) {
  if (a.rank() < 1) fail(op, "x must have at least one axis");
  const std::int64_t n = a.shape[a.rank() - 1];
  return {n == 0 ? 0 : a.size() / n, n};
}

void same_shape(const char* op, const char* name, const DeviceArray& a, const char* other,
                const DeviceArray& b) {
  if (a.shape != b.shape)
    fail(op, std::string(name) + " " + shape_str(a) + " and " + other + " " + shape_str(b) +
                 " must have the same shape");
}

using RowsForward = cudaError_t (*)(float*, const float*, std::int64_t, std::int64_t,
                                    cudaStream_t);
using RowsBackward = cudaError_t (*)(float*, const float*, const float*, std::int64_t,
                                     std::int64_t, cudaStream_t);

void rows_forward(const char* op, RowsForward kernel, const py::object& y_obj,
                  const py::object& x_obj) {
  const DeviceArray y = device_array(op, "y", y_obj), x = device_array(op, "x", x_obj);
  same_shape(op, "y", y, "x", x);
  const auto [rows, n] = rows_of(op, x);
  const float* xp = contiguous_in(op, "x", x);
  float* yp = contiguous_out(op, "y", y);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = kernel(yp, xp, rows, n, stream);
  }
  check_cuda(op, err);
}

void rows_backward(const char* op, RowsBackward kernel, const py::object& dx_obj,
                   const py::object& dy_obj, const py::object& y_obj) {
  const DeviceArray dx = device_array(op, "dx", dx_obj), dy = device_array(op, "dy", dy_obj);
  const DeviceArray y = device_array(op, "y", y_obj);
  same_shape(op, "dy", dy, "y", y);
  same_shape(op, "dx", dx, "y", y);
  const auto [rows, n] = rows_of(op, y);
  const float* dyp = contiguous_in(op, "dy", dy);
  const float* yp = contiguous_in(op, "y", y);
  float* dxp = contiguous_out(op, "dx", dx);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = kernel(dxp, dyp, yp, rows, n, stream);
  }
  check_cuda(op, err);
}

// logits (N, C) with C >= 1; returns (N, C).
std::pair<std::int64_t, std::int64_t> logits_shape(const char* op, const DeviceArray& logits) {
  check_rank(op, "logits", logits, 2);
  if (logits.shape[1] < 1)
    fail(op, "logits must have at least one class, got shape " + shape_str(logits));
  return {logits.shape[0], logits.shape[1]};
}

// labels: int64 class indices (N,) or float32 probabilities (N, C), the two
// overloads of the _cpu module.
cuda::Labels labels_arg(const char* op, const py::object& obj, std::int64_t n, std::int64_t c) {
  const std::string typestr = cuda_typestr(op, "labels", obj);
  cuda::Labels labels;
  if (typestr == "<i8") {
    const DeviceIndexArray index = device_index_array(op, "labels", obj);
    check_shape(op, "labels", index.layout, {n});
    if (!index.layout.c_contiguous()) fail(op, "labels must be C-contiguous");
    labels.index = index.data;
  } else if (typestr == "<f4") {
    const DeviceArray prob = device_array(op, "labels", obj);
    check_shape(op, "labels", prob, {n, c});
    labels.prob = contiguous_in(op, "labels", prob);
  } else {
    throw py::type_error(std::string("[") + op +
                         "] labels must be int64 class indices (N,) or float32 probabilities "
                         "(N, C), got " + typestr);
  }
  return labels;
}

// Device scratch: the bad-label word, then `floats` floats.
struct CrossEntropyScratch {
  py::object owner;
  unsigned long long* bad_label = nullptr;
  float* floats = nullptr;
};

CrossEntropyScratch cross_entropy_scratch(std::int64_t floats) {
  CrossEntropyScratch s;
  float* base = nullptr;
  // Two floats hold the 8-byte word (CuPy allocations are 256-byte aligned).
  s.owner = scratch_array(2 + floats, &base);
  s.bad_label = reinterpret_cast<unsigned long long*>(base);
  s.floats = base + 2;
  return s;
}

// After a cross-entropy launch: raises the CPU's error for the first row with
// a label outside [0, c) (waits for the stream).
void check_labels(const char* op, const cuda::Labels& labels, const CrossEntropyScratch& scratch,
                  std::int64_t c, cudaStream_t stream) {
  if (labels.index == nullptr) return;
  bool found = false;
  std::int64_t row = 0, label = 0;
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::find_bad_label(scratch.bad_label, labels.index, &found, &row, &label, stream);
  }
  check_cuda(op, err);
  if (found)
    fail(op, "labels must be class indices in [0, " + std::to_string(c) + "), got " +
                 std::to_string(label) + " at position " + std::to_string(row));
}

void softmax_cross_entropy(const py::object& loss_obj, const py::object& logits_obj,
                           const py::object& labels_obj, const std::string& reduction_name) {
  const char* op = "softmax_cross_entropy";
  const DeviceArray logits = device_array(op, "logits", logits_obj);
  const auto [n, c] = logits_shape(op, logits);
  const cuda::Labels labels = labels_arg(op, labels_obj, n, c);
  const Reduction reduction = reduction_arg(op, reduction_name);
  const DeviceArray loss = device_array(op, "loss", loss_obj);
  check_shape(op, "loss", loss, {reduction == Reduction::none ? n : 1});
  const float* lp = contiguous_in(op, "logits", logits);
  float* outp = contiguous_out(op, "loss", loss);
  const CrossEntropyScratch scratch = cross_entropy_scratch(reduction == Reduction::none ? 0 : n);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::softmax_cross_entropy(outp, lp, labels, n, c, reduction, scratch.floats,
                                      scratch.bad_label, stream);
  }
  check_cuda(op, err);
  check_labels(op, labels, scratch, c, stream);
}

void softmax_cross_entropy_backward(const py::object& dlogits_obj, const py::object& logits_obj,
                                    const py::object& labels_obj, const py::object& dloss_obj,
                                    float scale) {
  const char* op = "softmax_cross_entropy_backward";
  const DeviceArray logits = device_array(op, "logits", logits_obj);
  const auto [n, c] = logits_shape(op, logits);
  const cuda::Labels labels = labels_arg(op, labels_obj, n, c);
  const DeviceArray dlogits = device_array(op, "dlogits", dlogits_obj);
  check_shape(op, "dlogits", dlogits, {n, c});
  const float* dlp = dloss_arg(op, dloss_obj, n);
  const float* lp = contiguous_in(op, "logits", logits);
  float* outp = contiguous_out(op, "dlogits", dlogits);
  const CrossEntropyScratch scratch = cross_entropy_scratch(0);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::softmax_cross_entropy_backward(outp, lp, labels, dlp, scale, n, c,
                                               scratch.bad_label, stream);
  }
  check_cuda(op, err);
  check_labels(op, labels, scratch, c, stream);
}

}  // namespace

void bind_softmax(py::module_& m) {
  m.def(
      "softmax",
      [](const py::object& y, const py::object& x) {
        rows_forward("softmax", cuda::softmax, y, x);
      },
      py::arg("y"), py::arg("x"), "y = softmax of each row (last axis) of x");
  m.def(
      "log_softmax",
      [](const py::object& y, const py::object& x) {
        rows_forward("log_softmax", cuda::log_softmax, y, x);
      },
      py::arg("y"), py::arg("x"), "y = log_softmax of each row (last axis) of x");
  m.def(
      "softmax_backward",
      [](const py::object& dx, const py::object& dy, const py::object& y) {
        rows_backward("softmax_backward", cuda::softmax_backward, dx, dy, y);
      },
      py::arg("dx"), py::arg("dy"), py::arg("y"), "dx = y (dy - sum(dy y)) per row, y = softmax(x)");
  m.def(
      "log_softmax_backward",
      [](const py::object& dx, const py::object& dy, const py::object& y) {
        rows_backward("log_softmax_backward", cuda::log_softmax_backward, dx, dy, y);
      },
      py::arg("dx"), py::arg("dy"), py::arg("y"),
      "dx = dy - exp(y) sum(dy) per row, y = log_softmax(x)");
  m.def("softmax_cross_entropy", &softmax_cross_entropy, py::arg("loss"), py::arg("logits"),
        py::arg("labels"), py::arg("reduction"),
        "loss (N,) for reduction none, else (1,), of logits (N, C) against labels: int64 class "
        "indices (N,) or float32 probabilities (N, C)");
  m.def("softmax_cross_entropy_backward", &softmax_cross_entropy_backward, py::arg("dlogits"),
        py::arg("logits"), py::arg("labels"), py::arg("dloss").none(true), py::arg("scale"),
        "dlogits (N, C) = (softmax(logits) sum(t) - t) * scale * dloss (N,) (dloss None: 1)");
}

}  // namespace ranvier::bindings
