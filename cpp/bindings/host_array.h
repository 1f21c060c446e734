// HostArray: an array argument of the CPU module, the adapter that
// cpp/args/checks.h checks (its CUDA twin is cuda/bindings/cuda_array.h).
//
// A NumPy array is read in place from its header (type number, byte order,
// shape, strides: about 0.03 us, where pybind11's array_t caster builds a
// dtype object to compare, 0.27 us). Other CPU arrays (a PyTorch CPU tensor,
// anything with DLPack or the array interface) are viewed through NumPy
// without a copy. Nothing is converted to another dtype: the checks refuse it.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "args/checks.h"
#include "step_plan.h"

namespace ranvier::bindings {

namespace py = pybind11;
using args::Dims;
using args::DType;

class HostArray {
 public:
  // `obj` as an array; a TypeError that names op and argument when it is none.
  static HostArray read(const char* op, const char* name, py::handle obj) {
    if (py::detail::npy_api::get().PyArray_Check_(obj.ptr())) return HostArray(py::reinterpret_borrow<py::object>(obj));
    return HostArray(view_as_numpy(op, name, obj));
  }

  // An uninitialised C-ordered array: large ones from the output cache.
  static HostArray empty(const Dims& shape, DType dtype = DType::float32);

  int ndim() const { return header()->nd; }
  std::int64_t shape(int axis) const { return header()->dimensions[axis]; }
  std::int64_t stride(int axis) const { return header()->strides[axis]; }  // bytes
  DType dtype() const;
  std::string dtype_name() const { return py::str(object_.attr("dtype")); }
  bool c_contiguous() const { return (header()->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) != 0; }
  bool writeable() const { return (header()->flags & py::detail::npy_api::NPY_ARRAY_WRITEABLE_) != 0; }
  template <class T>
  T* data() const {
    return reinterpret_cast<T*>(header()->data);
  }
  void make_contiguous() {
    note_copy();
    object_ = py::module_::import("numpy").attr("ascontiguousarray")(object_);
  }
  // This array is a copy the call made of its input (dense or converted): a recorded step would read the
  // copy, not the input, so the step plan (step_plan.h) is told.
  static void note_copy() { note_input_copied(); }
  const py::object& object() const { return object_; }

 private:
  explicit HostArray(py::object object) : object_(std::move(object)) {}
  const py::detail::PyArray_Proxy* header() const { return py::detail::array_proxy(object_.ptr()); }
  static py::object view_as_numpy(const char* op, const char* name, py::handle obj);

  py::object object_;
};

}  // namespace ranvier::bindings
