// Arguments of the CUDA bindings: device arrays read from
// __cuda_array_interface__ (CuPy, or any producer of it), the stream to launch
// on, scratch memory and CUDA errors. The Python layer (ranvier.ops) validates
// first; these checks make sure that no call of the raw module, however wrong,
// reaches a kernel with a bad pointer. Messages follow cpp/bindings/array_args.h.
#pragma once

#include <cuda_runtime_api.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "ranvier/activation.h"
#include "ranvier/gemm.h"

namespace ranvier::bindings {

namespace py = pybind11;

[[noreturn]] inline void fail(const char* op, const std::string& what) {
  throw py::value_error(std::string("[") + op + "] " + what);
}

// A float32 device array as its producer describes it. Strides are in elements.
struct DeviceArray {
  float* data = nullptr;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;
  bool readonly = false;

  int rank() const { return static_cast<int>(shape.size()); }

  std::int64_t size() const {
    std::int64_t n = 1;
    for (std::int64_t d : shape) n *= d;
    return n;
  }

  bool c_contiguous() const {
    if (size() == 0) return true;
    std::int64_t expected = 1;
    for (int i = rank() - 1; i >= 0; --i) {
      if (shape[i] != 1 && strides[i] != expected) return false;
      expected *= shape[i];
    }
    return true;
  }
};

// Reads obj.__cuda_array_interface__: data pointer, shape, typestr (must be
// '<f4') and strides (None means C-contiguous).
inline DeviceArray device_array(const char* op, const char* name, const py::handle& obj) {
  const std::string prefix = std::string("[") + op + "] " + name;
  if (!py::hasattr(obj, "__cuda_array_interface__"))
    throw py::type_error(prefix + " must be a CUDA array (e.g. a cupy.ndarray), got " +
                         Py_TYPE(obj.ptr())->tp_name);
  const py::dict cai = obj.attr("__cuda_array_interface__");

  const std::string typestr = py::str(cai["typestr"]);
  if (typestr != "<f4") throw py::type_error(prefix + " must be float32, got " + typestr);
  if (cai.contains("mask") && !cai["mask"].is_none())
    fail(op, std::string(name) + " is a masked array, which is not supported");

  DeviceArray a;
  const py::tuple data = cai["data"];
  const auto address = data[0].cast<std::uintptr_t>();
  if (address % alignof(float) != 0)
    fail(op, std::string(name) + " is not aligned to " + std::to_string(alignof(float)) + " bytes");
  a.data = reinterpret_cast<float*>(address);
  a.readonly = data[1].cast<bool>();

  for (const py::handle d : py::tuple(cai["shape"])) a.shape.push_back(d.cast<std::int64_t>());
  if (cai.contains("strides") && !cai["strides"].is_none()) {
    for (const py::handle s : py::tuple(cai["strides"])) {
      const auto bytes = s.cast<std::int64_t>();
      if (bytes % static_cast<std::int64_t>(sizeof(float)) != 0)
        fail(op, std::string(name) +
                     " has a stride that is not a whole number of float32 elements");
      a.strides.push_back(bytes / static_cast<std::int64_t>(sizeof(float)));
    }
    if (a.strides.size() != a.shape.size())
      fail(op, std::string(name) + " must have as many strides as dimensions in its interface");
  } else {
    a.strides.assign(a.shape.size(), 1);
    for (int i = a.rank() - 2; i >= 0; --i) a.strides[i] = a.strides[i + 1] * a.shape[i + 1];
  }
  return a;
}

inline std::string shape_str(const DeviceArray& a) {
  std::string s = "(";
  for (int i = 0; i < a.rank(); ++i) s += (i ? ", " : "") + std::to_string(a.shape[i]);
  return s + (a.rank() == 1 ? ",)" : ")");
}

inline void check_rank(const char* op, const char* name, const DeviceArray& a, int rank) {
  if (a.rank() != rank)
    fail(op, std::string(name) + " must have rank " + std::to_string(rank) + ", got shape " +
                 shape_str(a));
}

inline void check_shape(const char* op, const char* name, const DeviceArray& a,
                        std::initializer_list<std::int64_t> shape) {
  bool ok = a.shape.size() == shape.size();
  int i = 0;
  for (std::int64_t d : shape) ok = ok && a.shape[i++] == d;
  if (!ok)
    fail(op, std::string(name) + " has shape " + shape_str(a) +
                 ", which does not match the other arguments");
}

inline cpu::MatrixView matrix_view(const char* op, const char* name, const DeviceArray& a) {
  check_rank(op, name, a, 2);
  return {a.data, a.strides[0], a.strides[1]};
}

inline const float* contiguous_in(const char* op, const char* name, const DeviceArray& a) {
  if (!a.c_contiguous()) fail(op, std::string(name) + " must be C-contiguous");
  return a.data;
}

inline float* contiguous_out(const char* op, const char* name, const DeviceArray& a) {
  if (!a.c_contiguous()) fail(op, std::string(name) + " (an output) must be C-contiguous");
  if (a.readonly) fail(op, std::string(name) + " (an output) must be writeable");
  return a.data;
}

inline Activation activation_arg(const char* op, const std::string& name) {
  Activation act;
  if (!parse_activation(name.c_str(), &act))
    fail(op, "activation must be one of none, relu, sigmoid, tanh, gelu; got '" + name + "'");
  return act;
}

// A checked, contiguous device array of the given shape, in one call.
inline const float* array_in(const char* op, const char* name, const py::object& obj,
                             std::initializer_list<std::int64_t> shape) {
  const DeviceArray a = device_array(op, name, obj);
  check_shape(op, name, a, shape);
  return contiguous_in(op, name, a);
}

inline float* array_out(const char* op, const char* name, const py::object& obj,
                        std::initializer_list<std::int64_t> shape) {
  const DeviceArray a = device_array(op, name, obj);
  check_shape(op, name, a, shape);
  return contiguous_out(op, name, a);
}

// The same for arguments that may be None (null then).
inline const float* optional_in(const char* op, const char* name, const py::object& obj,
                                std::initializer_list<std::int64_t> shape) {
  return obj.is_none() ? nullptr : array_in(op, name, obj, shape);
}

inline float* optional_out(const char* op, const char* name, const py::object& obj,
                           std::initializer_list<std::int64_t> shape) {
  return obj.is_none() ? nullptr : array_out(op, name, obj, shape);
}

// CuPy's current stream (cupy.cuda.get_current_stream().ptr): kernels run in
// order with the CuPy work around them.
inline cudaStream_t current_stream() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  const py::object& get = storage
                              .call_once_and_store_result([] {
                                return py::module_::import("cupy.cuda").attr("get_current_stream");
                              })
                              .get_stored();
  return reinterpret_cast<cudaStream_t>(get().attr("ptr").cast<std::uintptr_t>());
}

// `floats` float32 elements of device scratch from cupy.empty. CuPy's memory
// pool hands blocks back in stream order, so it is the reusable arena that
// scratch comes from; keep the returned array alive until the kernels that use
// it are enqueued.
inline py::object scratch_array(std::int64_t floats, float** data) {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  const py::object& cupy = storage
                               .call_once_and_store_result(
                                   [] { return py::object(py::module_::import("cupy")); })
                               .get_stored();
  py::object array = cupy.attr("empty")(py::make_tuple(floats), cupy.attr("float32"));
  *data = reinterpret_cast<float*>(array.attr("data").attr("ptr").cast<std::uintptr_t>());
  return array;
}

// Turns a CUDA error code into RuntimeError("[op] CUDA error: ...").
inline void check_cuda(const char* op, cudaError_t err) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("[") + op + "] CUDA error: " + cudaGetErrorName(err) +
                             ": " + cudaGetErrorString(err));
}

}  // namespace ranvier::bindings
