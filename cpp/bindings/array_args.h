// Checks shared by the bindings. The Python layer (ranvier.ops) validates
// first and gives the friendly messages; these checks make sure that no call
// of the raw module, however wrong, reaches a kernel with a bad pointer.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "ndarray_view.h"
#include "ranvier/activation.h"
#include "ranvier/gemm.h"

namespace ranvier::bindings {

namespace py = pybind11;
using Array = NdArray<float>;  // any strides, never converted
using OptionalArray = std::optional<Array>;

[[noreturn]] inline void fail(const char* op, const std::string& what) {
  throw py::value_error(std::string("[") + op + "] " + what);
}

inline std::string shape_str(const ArrayView& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

inline void check_rank(const char* op, const char* name, const ArrayView& a, int rank) {
  if (a.ndim() != rank)
    fail(op, std::string(name) + " must have rank " + std::to_string(rank) + ", got shape " + shape_str(a));
}

inline void check_shape(const char* op, const char* name, const ArrayView& a,
                        std::initializer_list<std::int64_t> shape) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
  int i = 0;
  for (std::int64_t d : shape) ok = ok && a.shape(i++) == d;
  if (!ok) fail(op, std::string(name) + " has shape " + shape_str(a) + ", which does not match the other arguments");
}

// Stride of axis `axis` in elements; the array must be float-aligned.
inline std::int64_t elem_stride(const char* op, const char* name, const ArrayView& a, int axis) {
  py::ssize_t bytes = a.strides(axis);
  if (bytes % static_cast<py::ssize_t>(sizeof(float)) != 0)
    fail(op, std::string(name) + " has a stride that is not a whole number of float32 elements");
  return bytes / static_cast<py::ssize_t>(sizeof(float));
}

inline cpu::MatrixView matrix_view(const char* op, const char* name, const Array& a) {
  check_rank(op, name, a, 2);
  return {a.data(), elem_stride(op, name, a, 0), elem_stride(op, name, a, 1)};
}

inline bool is_c_contiguous(const ArrayView& a) { return a.c_contiguous(); }

// Element type T is float for Array; other types serve ids (int64) and masks (uint8).
template <class T>
const T* contiguous_in(const char* op, const char* name, const NdArray<T>& a) {
  if (!is_c_contiguous(a)) fail(op, std::string(name) + " must be C-contiguous");
  return a.data();
}

template <class T>
T* contiguous_out(const char* op, const char* name, const NdArray<T>& a) {
  if (!is_c_contiguous(a)) fail(op, std::string(name) + " (an output) must be C-contiguous");
  if (!a.writeable()) fail(op, std::string(name) + " (an output) must be writeable");
  return a.mutable_data();
}

// An optional output: null when absent, else checked like contiguous_out.
inline float* optional_out(const char* op, const char* name, OptionalArray& a,
                           std::initializer_list<std::int64_t> shape) {
  if (!a) return nullptr;
  check_shape(op, name, *a, shape);
  return contiguous_out(op, name, *a);
}

inline Activation activation_arg(const char* op, const std::string& name) {
  Activation act;
  if (!parse_activation(name.c_str(), &act))
    fail(op, "activation must be one of none, relu, sigmoid, tanh, gelu; got '" + name + "'");
  return act;
}

}  // namespace ranvier::bindings
