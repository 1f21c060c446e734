// NdArray<T>: a NumPy array argument of element type T, borrowed for one call.
//
// pybind11's py::array_t<T> caster runs every argument through
// PyArray_FromAny and builds a dtype object to compare against: about 0.27 us
// an array, which is a fifth of a small layer's whole call (a linear
// backward takes seven arrays). This caster reads the array's header in place
// (type number and byte order), about 0.03 us, and accepts exactly what
// array_t<T> with noconvert accepted: a NumPy array (or subclass) whose
// elements are T in native byte order, any strides. Anything else is not
// converted; pybind11 then raises its usual TypeError.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <type_traits>

namespace ranvier::bindings {

namespace py = pybind11;

// The parts of an array argument that do not depend on its element type.
class ArrayView {
 public:
  ArrayView() = default;
  explicit ArrayView(py::handle object) : object_(object) {}

  py::handle object() const { return object_; }
  int ndim() const { return header()->nd; }
  py::ssize_t shape(int axis) const { return header()->dimensions[axis]; }
  py::ssize_t strides(int axis) const { return header()->strides[axis]; }
  py::ssize_t size() const {
    py::ssize_t n = 1;
    for (int i = 0; i < ndim(); ++i) n *= shape(i);
    return n;
  }
  bool c_contiguous() const { return (header()->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) != 0; }
  bool writeable() const { return (header()->flags & py::detail::npy_api::NPY_ARRAY_WRITEABLE_) != 0; }

 protected:
  const py::detail::PyArray_Proxy* header() const { return py::detail::array_proxy(object_.ptr()); }

 private:
  py::handle object_;  // borrowed: the caller's argument outlives the call
};

template <class T>
class NdArray : public ArrayView {
 public:
  using ArrayView::ArrayView;

  const T* data() const { return reinterpret_cast<const T*>(header()->data); }
  T* mutable_data() const { return reinterpret_cast<T*>(header()->data); }

  // Whether `object` is an array this type may view.
  static bool accepts(py::handle object) {
    if (!py::detail::npy_api::get().PyArray_Check_(object.ptr())) return false;
    const auto* descr = py::detail::array_descriptor_proxy(py::detail::array_proxy(object.ptr())->descr);
    return descr->byteorder != kForeignOrder && type_matches(descr->type_num);
  }

 private:
  // The byte-order character of a non-native array ('=' and '|' are native).
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  static constexpr char kForeignOrder = '<';
#else
  static constexpr char kForeignOrder = '>';
#endif

  static bool type_matches(int num) {
    using api = py::detail::npy_api;
    if constexpr (std::is_same_v<T, float>) {
      return num == api::NPY_FLOAT_;
    } else if constexpr (std::is_same_v<T, bool>) {
      return num == api::NPY_BOOL_;
    } else if constexpr (std::is_same_v<T, std::uint8_t>) {
      return num == api::NPY_UBYTE_;
    } else {
      static_assert(std::is_same_v<T, std::int64_t>, "NdArray of float, bool, uint8 or int64");
      // int64 is `long` on LP64 platforms and `long long` elsewhere; NumPy
      // numbers the two differently.
      return num == api::NPY_LONGLONG_ || (sizeof(long) == sizeof(std::int64_t) && num == api::NPY_LONG_);
    }
  }
};

}  // namespace ranvier::bindings

namespace pybind11::detail {

template <class T>
struct type_caster<ranvier::bindings::NdArray<T>> {
  PYBIND11_TYPE_CASTER(ranvier::bindings::NdArray<T>, const_name("numpy.ndarray[") + npy_format_descriptor<T>::name + const_name("]"));

  bool load(handle src, bool /*convert: never; inputs are checked, not copied*/) {
    if (!ranvier::bindings::NdArray<T>::accepts(src)) return false;
    value = ranvier::bindings::NdArray<T>(src);
    return true;
  }

  static handle cast(const ranvier::bindings::NdArray<T>& array, return_value_policy, handle) {
    return array.object().inc_ref();
  }
};

}  // namespace pybind11::detail
