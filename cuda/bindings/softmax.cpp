// softmax, log_softmax, their backward, and softmax_cross_entropy on CUDA
// arrays: checked by cpp/args/softmax.h, outputs allocated here, as in the CPU
// module. Class indices are checked on the device: a label outside [0, C)
// raises the CPU's ValueError after the launch.
#include "args/softmax.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/softmax.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

using RowsForward = cudaError_t (*)(float*, const float*, std::int64_t, std::int64_t, cudaStream_t);
using RowsBackward = cudaError_t (*)(float*, const float*, const float*, std::int64_t, std::int64_t, cudaStream_t);

py::object rows_forward(const char* op, RowsForward kernel, py::handle x, py::handle axis) {
  const auto r = args::softmax_input<A>(op, x, axis);
  A y = A::empty(args::dims(r.a));
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = kernel(y.data<float>(), r.a.data<float>(), r.rows, r.n, stream);
  }
  check_cuda(op, err);
  return args::unrows(y, r);
}

py::object rows_backward(const char* op, RowsBackward kernel, py::handle dy, py::handle y, py::handle axis) {
  const auto [dyr, yr] = args::softmax_grad_inputs<A>(op, dy, y, axis);
  A dx = A::empty(args::dims(yr.a));
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = kernel(dx.data<float>(), dyr.a.data<float>(), yr.a.data<float>(), yr.rows, yr.n, stream);
  }
  check_cuda(op, err);
  return args::unrows(dx, yr);
}

// Reads the array back, as ranvier.ops did: cupy.isnan(a).any().
bool any_nan(const A& a) { return py::module_::import("cupy").attr("isnan")(a.object()).attr("any")().cast<bool>(); }

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
void check_labels(const char* op, const args::CrossEntropyArgs<A>& e, const CrossEntropyScratch& scratch,
                  cudaStream_t stream) {
  if (e.labels.index == nullptr) return;
  bool found = false;
  std::int64_t row = 0, label = 0;
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::find_bad_label(scratch.bad_label, e.labels.index, &found, &row, &label, stream);
  }
  check_cuda(op, err);
  if (found) args::bad_label(op, e, label, row);
}

py::object softmax_cross_entropy(py::handle logits, py::handle labels, py::handle reduction) {
  const char* op = "softmax_cross_entropy";
  const Reduction r = args::reduction(op, reduction);
  const auto e = args::cross_entropy_args<A>(op, logits, labels, any_nan);
  A loss = args::loss_output<A>(r, e.n);
  const CrossEntropyScratch scratch = cross_entropy_scratch(r == Reduction::none ? 0 : e.n);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::softmax_cross_entropy(loss.data<float>(), e.logits.data<float>(), e.labels, e.n, e.c, r, scratch.floats,
                                      scratch.bad_label, stream);
  }
  check_cuda(op, err);
  check_labels(op, e, scratch, stream);
  return loss.object();
}

py::object softmax_cross_entropy_backward(py::handle logits, py::handle labels, py::handle reduction,
                                          py::handle dloss) {
  const char* op = "softmax_cross_entropy_backward";
  const Reduction r = args::reduction(op, reduction);
  const auto e = args::cross_entropy_args<A>(op, logits, labels, any_nan);
  const auto up = args::upstream_gradient<A>(op, dloss, r, e.n);
  A dlogits = A::empty({e.n, e.c});
  const CrossEntropyScratch scratch = cross_entropy_scratch(0);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::softmax_cross_entropy_backward(dlogits.data<float>(), e.logits.data<float>(), e.labels,
                                               args::data_or_null(up.dloss), up.scale, e.n, e.c, scratch.bad_label,
                                               stream);
  }
  check_cuda(op, err);
  check_labels(op, e, scratch, stream);
  return dlogits.object();
}

}  // namespace

void bind_softmax(py::module_& m) {
  m.def(
      "softmax", [](py::handle x, py::handle axis) { return rows_forward("softmax", cuda::softmax, x, axis); },
      py::arg("x"), py::arg("axis") = -1);
  m.def(
      "log_softmax",
      [](py::handle x, py::handle axis) { return rows_forward("log_softmax", cuda::log_softmax, x, axis); },
      py::arg("x"), py::arg("axis") = -1);
  m.def(
      "softmax_backward",
      [](py::handle dy, py::handle y, py::handle axis) {
        return rows_backward("softmax_backward", cuda::softmax_backward, dy, y, axis);
      },
      py::arg("dy"), py::arg("y"), py::arg("axis") = -1);
  m.def(
      "log_softmax_backward",
      [](py::handle dy, py::handle y, py::handle axis) {
        return rows_backward("log_softmax_backward", cuda::log_softmax_backward, dy, y, axis);
      },
      py::arg("dy"), py::arg("y"), py::arg("axis") = -1);
  m.def("softmax_cross_entropy", &softmax_cross_entropy, py::arg("logits"), py::arg("labels"),
        py::arg("reduction") = "mean");
  m.def("softmax_cross_entropy_backward", &softmax_cross_entropy_backward, py::arg("logits"), py::arg("labels"),
        py::arg("reduction") = "mean", py::arg("dloss") = 1.0);
}

}  // namespace ranvier::bindings
