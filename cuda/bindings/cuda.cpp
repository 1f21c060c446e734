// PYBIND11_MODULE(_cuda): each kernel family registers its functions from its
// own bindings file, with the same names and arguments as the _cpu module.
// Arrays come in through __cuda_array_interface__; kernels run on CuPy's
// current stream.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace ranvier::bindings {
void bind_runtime(py::module_& m);
void bind_activation(py::module_& m);
void bind_dense(py::module_& m);
void bind_conv(py::module_& m);
void bind_pool(py::module_& m);
void bind_softmax(py::module_& m);
void bind_losses(py::module_& m);
void bind_attention(py::module_& m);
void bind_rnn(py::module_& m);
void bind_norm(py::module_& m);
void bind_embedding(py::module_& m);
void bind_dropout(py::module_& m);
void bind_optim(py::module_& m);
}  // namespace ranvier::bindings

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "ranvier CUDA kernels (raw; use ranvier.ops)";
  ranvier::bindings::bind_runtime(m);
  ranvier::bindings::bind_activation(m);
  ranvier::bindings::bind_dense(m);
  ranvier::bindings::bind_conv(m);
  ranvier::bindings::bind_pool(m);
  ranvier::bindings::bind_softmax(m);
  ranvier::bindings::bind_losses(m);
  ranvier::bindings::bind_attention(m);
  ranvier::bindings::bind_rnn(m);
  ranvier::bindings::bind_norm(m);
  ranvier::bindings::bind_embedding(m);
  ranvier::bindings::bind_dropout(m);
  ranvier::bindings::bind_optim(m);
}
