// int64 device arrays (class labels), read from __cuda_array_interface__ as
// device_array (device_array.h) reads float32 ones, with its messages.
#pragma once

#include <cstdint>
#include <string>

#include "device_array.h"

namespace ranvier::bindings {

// The typestr of a CUDA array ('<f4', '<i8', ...), to choose between overloads.
inline std::string cuda_typestr(const char* op, const char* name, const py::handle& obj) {
  if (!py::hasattr(obj, "__cuda_array_interface__"))
    throw py::type_error(std::string("[") + op + "] " + name +
                         " must be a CUDA array (e.g. a cupy.ndarray), got " +
                         Py_TYPE(obj.ptr())->tp_name);
  return py::str(obj.attr("__cuda_array_interface__")["typestr"]);
}

// An int64 device array: its data, and its shape and strides (in int64
// elements) as a DeviceArray without data, for the shape and layout checks.
struct DeviceIndexArray {
  const std::int64_t* data = nullptr;
  DeviceArray layout;
};

inline DeviceIndexArray device_index_array(const char* op, const char* name,
                                           const py::handle& obj) {
  const std::string typestr = cuda_typestr(op, name, obj);
  if (typestr != "<i8")
    throw py::type_error(std::string("[") + op + "] " + name + " must be int64, got " + typestr);
  const py::dict cai = obj.attr("__cuda_array_interface__");
  if (cai.contains("mask") && !cai["mask"].is_none())
    fail(op, std::string(name) + " is a masked array, which is not supported");
  DeviceIndexArray a;
  const auto address = py::tuple(cai["data"])[0].cast<std::uintptr_t>();
  if (address % alignof(std::int64_t) != 0)
    fail(op, std::string(name) + " is not aligned to " + std::to_string(alignof(std::int64_t)) +
                 " bytes");
  a.data = reinterpret_cast<const std::int64_t*>(address);
  std::vector<std::int64_t>& shape = a.layout.shape;
  std::vector<std::int64_t>& strides = a.layout.strides;
  for (const py::handle d : py::tuple(cai["shape"])) shape.push_back(d.cast<std::int64_t>());
  if (cai.contains("strides") && !cai["strides"].is_none()) {
    for (const py::handle s : py::tuple(cai["strides"])) {
      const auto bytes = s.cast<std::int64_t>();
      if (bytes % static_cast<std::int64_t>(sizeof(std::int64_t)) != 0)
        fail(op, std::string(name) + " has a stride that is not a whole number of int64 elements");
      strides.push_back(bytes / static_cast<std::int64_t>(sizeof(std::int64_t)));
    }
    if (strides.size() != shape.size())
      fail(op, std::string(name) + " must have as many strides as dimensions in its interface");
  } else {
    strides.assign(shape.size(), 1);
    for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i)
      strides[i] = strides[i + 1] * shape[i + 1];
  }
  return a;
}

}  // namespace ranvier::bindings
