// Device arrays of the element types other than float32 that some bindings
// take: bool masks (attention), uint8 masks (dropout) and int64 ids
// (embedding). They are read from __cuda_array_interface__ as device_array()
// reads float32 arrays, and their layout is a DeviceArray (with data left
// null), so that check_shape() and the other checks of device_array.h apply.
#pragma once

#include <cstdint>
#include <string>

#include "device_array.h"

namespace ranvier::bindings {

// How __cuda_array_interface__ names an element type, and its size in bytes.
struct ElementType {
  const char* typestr;
  const char* name;
  std::int64_t size;
};

inline constexpr ElementType kBool = {"|b1", "bool", 1};
inline constexpr ElementType kUint8 = {"|u1", "uint8", 1};
inline constexpr ElementType kInt64 = {"<i8", "int64", 8};

template <class T>
struct TypedDeviceArray {
  DeviceArray layout;  // shape, strides in elements, readonly; layout.data is null
  T* data;
};

// obj.__cuda_array_interface__ as an array of `type`, whose elements the
// kernels read as T (one byte for bool and uint8, eight for int64).
template <class T>
TypedDeviceArray<T> typed_device_array(const char* op, const char* name, const py::handle& obj,
                                       const ElementType& type) {
  static_assert(sizeof(T) == 1 || sizeof(T) == 8, "the element types of ElementType");
  const std::string prefix = std::string("[") + op + "] " + name;
  if (!py::hasattr(obj, "__cuda_array_interface__"))
    throw py::type_error(prefix + " must be a CUDA array (e.g. a cupy.ndarray), got " +
                         Py_TYPE(obj.ptr())->tp_name);
  const py::dict cai = obj.attr("__cuda_array_interface__");

  const std::string typestr = py::str(cai["typestr"]);
  if (typestr != type.typestr)
    throw py::type_error(prefix + " must be " + type.name + ", got " + typestr);
  if (cai.contains("mask") && !cai["mask"].is_none())
    fail(op, std::string(name) + " is a masked array, which is not supported");

  TypedDeviceArray<T> a;
  const py::tuple data = cai["data"];
  const auto address = data[0].cast<std::uintptr_t>();
  if (address % static_cast<std::uintptr_t>(type.size) != 0)
    fail(op, std::string(name) + " is not aligned to " + std::to_string(type.size) + " bytes");
  a.data = reinterpret_cast<T*>(address);
  a.layout.readonly = data[1].cast<bool>();

  DeviceArray& l = a.layout;
  for (const py::handle d : py::tuple(cai["shape"])) l.shape.push_back(d.cast<std::int64_t>());
  if (cai.contains("strides") && !cai["strides"].is_none()) {
    for (const py::handle s : py::tuple(cai["strides"])) {
      const auto bytes = s.cast<std::int64_t>();
      if (bytes % type.size != 0)
        fail(op, std::string(name) + " has a stride that is not a whole number of " + type.name +
                     " elements");
      l.strides.push_back(bytes / type.size);
    }
    if (l.strides.size() != l.shape.size())
      fail(op, std::string(name) + " must have as many strides as dimensions in its interface");
  } else {
    l.strides.assign(l.shape.size(), 1);
    for (int i = l.rank() - 2; i >= 0; --i) l.strides[i] = l.strides[i + 1] * l.shape[i + 1];
  }
  return a;
}

template <class T>
const T* contiguous_in(const char* op, const char* name, const TypedDeviceArray<T>& a) {
  if (!a.layout.c_contiguous()) fail(op, std::string(name) + " must be C-contiguous");
  return a.data;
}

template <class T>
T* contiguous_out(const char* op, const char* name, const TypedDeviceArray<T>& a) {
  if (!a.layout.c_contiguous()) fail(op, std::string(name) + " (an output) must be C-contiguous");
  if (a.layout.readonly) fail(op, std::string(name) + " (an output) must be writeable");
  return a.data;
}

}  // namespace ranvier::bindings
