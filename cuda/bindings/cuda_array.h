// CudaArray: an array argument of the CUDA module, the adapter that
// cpp/args/checks.h checks (its CPU twin is cpp/bindings/host_array.h). The
// one reader of __cuda_array_interface__ (CuPy, or any producer of it), for
// every element type.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "args/checks.h"

namespace ranvier::bindings {

namespace py = pybind11;

class CudaArray {
 public:
  static CudaArray read(const char* op, const char* name, py::handle obj) {
    if (!py::hasattr(obj, "__cuda_array_interface__")) {
      if (py::hasattr(obj, "__array_interface__") || py::hasattr(obj, "__dlpack__"))
        args::fail(op, std::string("arrays must all be on the same device: ") + name +
                           " is on the CPU and the op's first array on the GPU");
      args::type_fail(op, std::string(name) + " must be an array (NumPy, CuPy, or a CPU array with DLPack), got " +
                              args::type_name(obj));
    }
    return CudaArray(op, name, py::reinterpret_borrow<py::object>(obj));
  }

  // An uninitialised C-ordered array from CuPy's memory pool.
  static CudaArray empty(const args::Dims& shape, args::DType dtype = args::DType::float32) {
    const py::module_ cupy = py::module_::import("cupy");
    py::tuple dims(shape.size());
    for (std::size_t i = 0; i < shape.size(); ++i) dims[i] = py::int_(shape[i]);
    const char* type = dtype == args::DType::float32 ? "float32" : dtype == args::DType::uint8 ? "uint8" : "int64";
    return read("empty", "out", cupy.attr("empty")(dims, cupy.attr(type)));
  }

  int ndim() const { return static_cast<int>(shape_.size()); }
  std::int64_t shape(int axis) const { return shape_[axis]; }
  std::int64_t stride(int axis) const { return strides_[axis]; }  // bytes
  args::DType dtype() const { return dtype_; }
  std::string dtype_name() const { return typestr_name(typestr_); }
  bool c_contiguous() const {
    std::int64_t expected = itemsize_;
    for (int i = ndim() - 1; i >= 0; --i) {
      if (shape_[i] == 0) return true;
      if (shape_[i] != 1 && strides_[i] != expected) return false;
      expected *= shape_[i];
    }
    return true;
  }
  bool writeable() const { return !readonly_; }
  template <class T>
  T* data() const {
    return reinterpret_cast<T*>(address_);
  }
  void make_contiguous() {
    *this = CudaArray("ascontiguousarray", "array", py::module_::import("cupy").attr("ascontiguousarray")(object_));
  }
  const py::object& object() const { return object_; }
  static void note_copy() {}  // no step plan records CUDA calls (HostArray::note_copy)

 private:
  CudaArray(const char* op, const char* name, py::object obj) : object_(std::move(obj)) {
    const py::dict cai = object_.attr("__cuda_array_interface__");
    typestr_ = py::str(cai["typestr"]);
    dtype_ = typestr_dtype(typestr_, &itemsize_);
    if (cai.contains("mask") && !cai["mask"].is_none())
      args::fail(op, std::string(name) + " is a masked array, which is not supported");
    const py::tuple data = cai["data"];
    address_ = data[0].cast<std::uintptr_t>();
    readonly_ = data[1].cast<bool>();
    if (itemsize_ > 0 && address_ % static_cast<std::uintptr_t>(itemsize_) != 0)
      args::fail(op, std::string(name) + " is not aligned to its element size");
    for (const py::handle d : py::tuple(cai["shape"])) shape_.push_back(d.cast<std::int64_t>());
    if (cai.contains("strides") && !cai["strides"].is_none()) {
      for (const py::handle s : py::tuple(cai["strides"])) strides_.push_back(s.cast<std::int64_t>());
      if (strides_.size() != shape_.size())
        args::fail(op, std::string(name) + " must have as many strides as dimensions in its interface");
    } else {
      strides_.assign(shape_.size(), itemsize_);
      for (int i = ndim() - 2; i >= 0; --i) strides_[i] = strides_[i + 1] * shape_[i + 1];
    }
  }

  // '<f4' -> float32 (4 bytes); anything ranvier does not read -> other.
  static args::DType typestr_dtype(const std::string& t, std::int64_t* itemsize) {
    struct Entry {
      const char* typestr;
      args::DType dtype;
      std::int64_t size;
    };
    static const Entry table[] = {
        {"<f4", args::DType::float32, 4}, {"<f8", args::DType::float64, 8}, {"<f2", args::DType::float16, 2},
        {"|i1", args::DType::int8, 1},    {"<i2", args::DType::int16, 2},   {"<i4", args::DType::int32, 4},
        {"<i8", args::DType::int64, 8},   {"|u1", args::DType::uint8, 1},   {"<u2", args::DType::uint16, 2},
        {"<u4", args::DType::uint32, 4},  {"<u8", args::DType::uint64, 8},  {"|b1", args::DType::bool_, 1}};
    for (const Entry& e : table) {
      if (t == e.typestr) {
        *itemsize = e.size;
        return e.dtype;
      }
    }
    *itemsize = 1;
    return args::DType::other;
  }

  // NumPy's name for a typestr, as the CPU module's messages show it.
  static std::string typestr_name(const std::string& t) {
    return py::str(py::module_::import("numpy").attr("dtype")(t));
  }

  py::object object_;
  std::string typestr_;
  args::DType dtype_ = args::DType::other;
  std::int64_t itemsize_ = 1;
  std::uintptr_t address_ = 0;
  bool readonly_ = false;
  std::vector<std::int64_t> shape_, strides_;
};

}  // namespace ranvier::bindings
