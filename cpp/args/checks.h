// The one argument-checking layer of ranvier's compiled modules.
//
// Every check of an op's arguments lives here or in a family's header beside
// it (cpp/args/<family>.h), written once over an array adapter `A` that both
// modules provide: HostArray (cpp/bindings/host_array.h: NumPy and other CPU
// arrays) and CudaArray (cuda/bindings/cuda_array.h: anything with
// __cuda_array_interface__). ranvier.ops only routes a call to the module of
// its arrays; the messages users read are written here, in one form:
//
//   [op] argument must be <what>, got <what it was>
//
// TypeError for a wrong type or dtype, ValueError for a wrong shape or value.
//
// An adapter A has: static A read(op, name, handle), ndim(), shape(i),
// stride(i) (bytes), dtype(), dtype_name(), c_contiguous(), writeable(),
// data<T>(), make_contiguous(), object(), and static A empty(dims, dtype).
#pragma once

#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "ranvier/activation.h"
#include "ranvier/gemm.h"

namespace ranvier::args {

namespace py = pybind11;

enum class DType { float32, float64, float16, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool_, other };

inline bool is_integer(DType t) { return t >= DType::int8 && t <= DType::uint64; }

[[noreturn]] inline void fail(const char* op, const std::string& what) {
  throw py::value_error(std::string("[") + op + "] " + what);
}

[[noreturn]] inline void type_fail(const char* op, const std::string& what) {
  throw py::type_error(std::string("[") + op + "] " + what);
}

using Dims = std::vector<std::int64_t>;

inline std::string dims_str(const Dims& d) {
  std::string s = "(";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + (d.size() == 1 ? ",)" : ")");
}

template <class A>
Dims dims(const A& a) {
  Dims d(static_cast<std::size_t>(a.ndim()));
  for (int i = 0; i < a.ndim(); ++i) d[i] = a.shape(i);
  return d;
}

template <class A>
std::string shape_str(const A& a) {
  return dims_str(dims(a));
}

// "(3, 4) float64": how a message shows the array it refuses.
template <class A>
std::string describe(const A& a) {
  return shape_str(a) + " " + a.dtype_name();
}

template <class A>
bool has_dims(const A& a, const Dims& want) {
  if (a.ndim() != static_cast<int>(want.size())) return false;
  for (int i = 0; i < a.ndim(); ++i)
    if (a.shape(i) != want[i]) return false;
  return true;
}

template <class A>
std::int64_t size(const A& a) {
  std::int64_t n = 1;
  for (int i = 0; i < a.ndim(); ++i) n *= a.shape(i);
  return n;
}

// A float32 array of one of `ranks` (any rank when empty). `layout`, such as
// "(N, H, W, C)", only makes the message clearer. A wrong rank is a
// ValueError, a right rank of the wrong dtype a TypeError.
template <class A>
void require_float32(const char* op, const char* name, const A& a, const char* layout = nullptr,
                     std::initializer_list<int> ranks = {}) {
  bool rank_ok = ranks.size() == 0;
  for (int r : ranks) rank_ok = rank_ok || a.ndim() == r;
  if (a.dtype() == DType::float32 && rank_ok) return;
  std::string want;
  if (layout) {
    want = std::string(layout) + " float32";
  } else if (ranks.size()) {
    want = "a float32 array of rank ";
    int i = 0;
    for (int r : ranks) want += (i++ ? " or " : "") + std::to_string(r);
  } else {
    want = "a float32 array";
  }
  const std::string message = std::string(name) + " must be " + want + ", got " + describe(a);
  if (!rank_ok) fail(op, message);
  type_fail(op, message);
}

// A float32 array of exactly `want`'s shape: "name must be (2, 3) float32, got ...".
template <class A>
void require_float32_dims(const char* op, const char* name, const A& a, const Dims& want, const std::string& why = "") {
  if (a.dtype() == DType::float32 && has_dims(a, want)) return;
  const std::string message =
      std::string(name) + " must be " + dims_str(want) + " float32" + why + ", got " + describe(a);
  if (has_dims(a, want)) type_fail(op, message);
  fail(op, message);
}

// An output the caller passed: its shape must be the one the op computes.
template <class A>
void check_output_dims(const char* op, const char* name, const A& a, const Dims& want) {
  if (!has_dims(a, want))
    fail(op, std::string(name) + " has shape " + shape_str(a) + ", which does not match the other arguments");
  if (!a.c_contiguous()) fail(op, std::string(name) + " (an output) must be C-contiguous");
  if (!a.writeable()) fail(op, std::string(name) + " (an output) must be writeable");
}

// Stride of `axis` in elements of T; the array must be aligned to T.
template <class T = float, class A>
std::int64_t elem_stride(const char* op, const char* name, const A& a, int axis) {
  const std::int64_t bytes = a.stride(axis);
  if (bytes % static_cast<std::int64_t>(sizeof(T)) != 0)
    fail(op, std::string(name) + " has a stride that is not a whole number of its elements");
  return bytes / static_cast<std::int64_t>(sizeof(T));
}

// A rank-2 float32 array read in place with any strides.
template <class A>
cpu::MatrixView matrix_view(const char* op, const char* name, const A& a) {
  return {a.template data<float>(), elem_stride(op, name, a, 0), elem_stride(op, name, a, 1)};
}

// The data of an input the kernels read densely: copied once when it is not
// C-contiguous (the caller's array is never changed).
template <class T = float, class A>
const T* dense(A& a) {
  if (!a.c_contiguous()) a.make_contiguous();
  return a.template data<T>();
}

template <class T = float, class A>
const T* dense(std::optional<A>& a) {
  return a ? dense<T>(*a) : nullptr;
}

// The data of an optional input already made dense, or null: for the kernel
// call, which runs without the GIL.
template <class T = float, class A>
const T* data_or_null(const std::optional<A>& a) {
  return a ? a->template data<T>() : nullptr;
}

// The float32 data of an array (an allocated output or a checked input), for
// the kernel call.
template <class A>
float* floats(const A& a) {
  return a.template data<float>();
}

// An optional output: null (not computed) when absent.
template <class A>
float* floats(const std::optional<A>& a) {
  return a ? a->template data<float>() : nullptr;
}

// An optional output as the op returns it: None when not computed.
template <class A>
py::object object_or_none(const std::optional<A>& a) {
  return a ? a->object() : py::none();
}

template <class A>
std::optional<A> read_optional(const char* op, const char* name, py::handle obj) {
  if (obj.is_none()) return std::nullopt;
  return A::read(op, name, obj);
}

// The forward array an activation's derivative needs, dense, of shape `want`:
// the pre-activation z where derivative_needs_input (gelu, silu, softplus,
// softsign), else the output y; nothing without an activation.
template <class A>
std::optional<A> saved_for_backward(const char* op, Activation act, py::handle y_obj, py::handle z_obj,
                                    const Dims& want) {
  if (act == Activation::none) return std::nullopt;
  const bool from_input = derivative_needs_input(act);
  const char* name = from_input ? "z" : "y";
  const py::handle saved = from_input ? z_obj : y_obj;
  if (saved.is_none())
    fail(op, std::string("activation '") + kActivationNames[static_cast<int>(act)] + "' needs " + name +
                 "= (the forward " + (from_input ? "pre-activation" : "output") + ")");
  A a = A::read(op, name, saved);
  require_float32(op, name, a);
  require_float32_dims(op, name, a, want);
  dense(a);
  return a;
}

// ---- scalars ---------------------------------------------------------------

inline std::string type_name(py::handle v) { return Py_TYPE(v.ptr())->tp_name; }

// v as an int64 when it is an integer (Python or NumPy, not a bool); false for
// anything else. Values beyond int64 saturate and set *overflow.
inline bool int64_value(py::handle v, std::int64_t* out, bool* overflow = nullptr) {
  if (PyBool_Check(v.ptr()) || !PyIndex_Check(v.ptr())) return false;
  const py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(v.ptr()));
  if (!index) throw py::error_already_set();
  int over = 0;
  const long long x = PyLong_AsLongLongAndOverflow(index.ptr(), &over);
  *out = over ? (over > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min()) : x;
  if (overflow) *overflow = over != 0;
  return true;
}

// An int (Python or NumPy, not bool) in [low, high): "must be an integer >= 1".
inline std::int64_t integer(const char* op, const char* name, py::handle v, std::int64_t low,
                            std::optional<std::int64_t> high = std::nullopt) {
  std::int64_t x = 0;
  bool overflow = false;
  if (!int64_value(v, &x, &overflow)) type_fail(op, std::string(name) + " must be an integer, got " + type_name(v));
  if (overflow || x < low || (high && x >= *high)) {
    const std::string want =
        high ? "in [" + std::to_string(low) + ", " + std::to_string(*high) + ")" : ">= " + std::to_string(low);
    fail(op, std::string(name) + " must be an integer " + want + ", got " + std::string(py::str(v)));
  }
  return x;
}

// An int in [0, 2^64), such as a seed.
inline std::uint64_t uint64(const char* op, const char* name, py::handle v) {
  if (PyBool_Check(v.ptr()) || !PyIndex_Check(v.ptr()))
    type_fail(op, std::string(name) + " must be an integer, got " + type_name(v));
  const py::object index = py::reinterpret_steal<py::object>(PyNumber_Index(v.ptr()));
  if (!index) throw py::error_already_set();
  const unsigned long long x = PyLong_AsUnsignedLongLong(index.ptr());
  if (PyErr_Occurred()) {
    PyErr_Clear();
    fail(op,
         std::string(name) + " must be an integer in [0, 18446744073709551616), got " + std::string(py::str(index)));
  }
  return x;
}

inline std::string number_str(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", x);
  return buffer;
}

// isinstance(v, numbers.Real): NumPy's scalars and other registered types.
inline bool is_real_number(py::handle v) { return py::isinstance(v, py::module_::import("numbers").attr("Real")); }

// v as a double when it is a real number (Python or NumPy, not a bool); false
// for anything else.
inline bool real_value(py::handle v, double* out) {
  PyObject* p = v.ptr();
  if (PyBool_Check(p) || !(PyFloat_Check(p) || PyLong_Check(p) || is_real_number(v))) return false;
  *out = PyFloat_AsDouble(p);
  if (*out == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  return true;
}

// A finite real number (Python or NumPy, not bool) in [low, high] (or [low,
// high) when high_open); its value as a double.
inline double real(const char* op, const char* name, py::handle v, std::optional<double> low = std::nullopt,
                   std::optional<double> high = std::nullopt, bool high_open = false) {
  double x = 0.0;
  if (!real_value(v, &x)) type_fail(op, std::string(name) + " must be a real number, got " + type_name(v));
  bool ok = std::isfinite(x) && (!low || x >= *low);
  if (high) ok = ok && (high_open ? x < *high : x <= *high);
  if (!ok) {
    std::string want;
    if (!high) {
      want = low ? "a finite number >= " + number_str(*low) : "a finite number";
    } else {
      want = "in [" + number_str(low.value_or(-INFINITY)) + ", " + number_str(*high) + (high_open ? ")" : "]");
    }
    fail(op, std::string(name) + " must be " + want + ", got " + std::string(py::repr(v)));
  }
  return x;
}

// A str argument (a mode or a name).
inline std::string text(const char* op, const char* name, py::handle v) {
  if (!PyUnicode_Check(v.ptr())) type_fail(op, std::string(name) + " must be a str, got " + type_name(v));
  return v.cast<std::string>();
}

// A bool argument (Python's or NumPy's), such as need_dx.
inline bool flag(const char* op, const char* name, py::handle v) {
  if (PyBool_Check(v.ptr())) return v.ptr() == Py_True;
  if (type_name(v) == std::string("numpy.bool") || type_name(v) == std::string("numpy.bool_"))
    return PyObject_IsTrue(v.ptr()) == 1;
  type_fail(op, std::string(name) + " must be a bool, got " + type_name(v));
}

// None or "linear" is no activation; otherwise one of kActivationNames.
inline Activation activation(const char* op, py::handle v) {
  Activation act = Activation::none;
  if (v.is_none()) return act;
  if (PyUnicode_Check(v.ptr())) {
    const std::string name = v.cast<std::string>();
    if (name == "linear") return act;
    if (name != "none" && parse_activation(name.c_str(), &act)) return act;  // Keras names no "none"
  }
  std::string names;
  for (int i = 1; i < kActivationCount; ++i) names += (i > 1 ? ", " : "") + std::string(kActivationNames[i]);
  fail(op, "activation must be None or one of " + names + ", got " + std::string(py::repr(v)));
}

}  // namespace ranvier::args
