// HostArray's slow paths: arrays that are not NumPy's, dtype numbers, and
// output allocation.
#include "host_array.h"

#include <utility>
#include <vector>

#include "output_array.h"

namespace ranvier::bindings {

py::object HostArray::view_as_numpy(const char* op, const char* name, py::handle obj) {
  if (py::hasattr(obj, "__cuda_array_interface__"))
    args::fail(op, std::string("arrays must all be on the same device: ") + name +
                       " is on the GPU and the op's first array on the CPU");
  const py::module_ numpy = py::module_::import("numpy");
  if (!PyList_Check(obj.ptr()) && !PyTuple_Check(obj.ptr())) {
    if (py::hasattr(obj, "__dlpack__")) {
      try {
        return numpy.attr("from_dlpack")(obj);
      } catch (const py::error_already_set&) {
        // e.g. a GPU tensor: refused below
      }
    } else if (py::hasattr(obj, "__array_interface__") || py::hasattr(obj, "__array__")) {
      return numpy.attr("asarray")(obj);
    }
  }
  args::type_fail(op, std::string(name) + " must be an array (NumPy, CuPy, or a CPU array with DLPack), got " +
                          args::type_name(obj));
}

DType HostArray::dtype() const {
  using api = py::detail::npy_api;
  const auto* descr = py::detail::array_descriptor_proxy(header()->descr);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  if (descr->byteorder == '<') return DType::other;
#else
  if (descr->byteorder == '>') return DType::other;
#endif
  // NumPy numbers long and long long apart; each is 32 or 64 bits by platform.
  constexpr bool long64 = sizeof(long) == 8;
  static const std::pair<int, DType> table[] = {
      {api::NPY_FLOAT_, DType::float32},  // first: what almost every call checks
      {api::NPY_DOUBLE_, DType::float64},
      {api::NPY_BOOL_, DType::bool_},
      {api::NPY_BYTE_, DType::int8},
      {api::NPY_UBYTE_, DType::uint8},
      {api::NPY_SHORT_, DType::int16},
      {api::NPY_USHORT_, DType::uint16},
      {api::NPY_INT_, DType::int32},
      {api::NPY_UINT_, DType::uint32},
      {api::NPY_LONG_, long64 ? DType::int64 : DType::int32},
      {api::NPY_ULONG_, long64 ? DType::uint64 : DType::uint32},
      {api::NPY_LONGLONG_, DType::int64},
      {api::NPY_ULONGLONG_, DType::uint64},
      {23 /* NPY_HALF */, DType::float16}};
  for (const auto& [number, dtype] : table)
    if (number == descr->type_num) return dtype;
  return DType::other;
}

HostArray HostArray::empty(const Dims& shape, DType dtype) {
  const std::vector<py::ssize_t> dims(shape.begin(), shape.end());
  switch (dtype) {
    case DType::float32:
      return HostArray(new_output(dims));
    case DType::uint8:
      return HostArray(new_output(dims, py::dtype::of<std::uint8_t>()));
    case DType::int64:
      return HostArray(new_output(dims, py::dtype::of<std::int64_t>()));
    default:
      throw std::logic_error("HostArray::empty: outputs are float32, uint8 or int64");
  }
}

}  // namespace ranvier::bindings
