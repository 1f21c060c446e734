// matmul, linear and linear_backward on CUDA arrays: checked by
// cpp/args/dense.h, outputs allocated here, as in the CPU module.
#include "args/dense.h"
#include "cuda_array.h"
#include "cuda_call.h"
#include "ranvier_cuda/gemm.h"

namespace ranvier::bindings {

namespace {

using A = CudaArray;

py::object matmul(py::handle a, py::handle b, bool transpose_a, bool transpose_b) {
  const char* op = "matmul";
  const auto p = args::matmul_args<A>(op, a, b, transpose_a, transpose_b);
  A c = A::empty(p.out_dims);
  const cudaStream_t stream = current_stream();
  cudaError_t err = cudaSuccess;
  {
    py::gil_scoped_release release;
    args::for_each_batch(
        p, args::floats(c),
        [&](float* cp, cpu::MatrixView av, std::int64_t as, cpu::MatrixView bv, std::int64_t bs, std::int64_t count) {
          if (err == cudaSuccess) err = cuda::matmul(cp, av, as, bv, bs, count, p.m, p.n, p.k, stream);
        });
  }
  check_cuda(op, err);
  return c.object();
}

py::object linear(py::handle x, py::handle w, py::handle b, py::handle activation) {
  const char* op = "linear";
  const auto a = args::linear_args<A>(op, x, w, b, activation);
  A y = A::empty(a.y_dims);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::linear(args::floats(y), a.x_view, a.w_view, a.bias, a.rows, a.in, a.out, a.act, stream);
  }
  check_cuda(op, err);
  return y.object();
}

py::tuple linear_backward(py::handle dy, py::handle x, py::handle w, py::handle activation, py::handle y, py::handle z,
                          py::handle need_dx) {
  const char* op = "linear_backward";
  const auto a = args::linear_backward_args<A>(op, dy, x, w, activation, y, z, need_dx);
  std::optional<A> dx;
  if (a.need_dx) dx = A::empty(args::dims(a.x));
  A dw = A::empty({a.in, a.out}), db = A::empty({a.out});
  float* dz = nullptr;  // act'(saved) * dy, (rows, out)
  py::object dz_owner;
  if (a.act != Activation::none) dz_owner = scratch_array(a.rows * a.out, &dz);
  const cudaStream_t stream = current_stream();
  cudaError_t err;
  {
    py::gil_scoped_release release;
    err = cuda::linear_backward(args::floats(dx), args::floats(dw), args::floats(db), dz, a.dy_data, a.saved_data,
                                a.x_view, a.w_view, a.rows, a.in, a.out, a.act, stream);
  }
  check_cuda(op, err);
  return py::make_tuple(args::object_or_none(dx), dw.object(), db.object());
}

}  // namespace

void bind_dense(py::module_& m) {
  m.def("matmul", &matmul, py::arg("a"), py::arg("b"), py::arg("transpose_a") = false, py::arg("transpose_b") = false);
  m.def("linear", &linear, py::arg("x"), py::arg("w"), py::arg("b") = py::none(), py::arg("activation") = py::none());
  m.def("linear_backward", &linear_backward, py::arg("dy"), py::arg("x"), py::arg("w"),
        py::arg("activation") = py::none(), py::arg("y") = py::none(), py::arg("z") = py::none(),
        py::arg("need_dx") = true);
}

}  // namespace ranvier::bindings
