// New arrays for op outputs: large ones from the output cache (runtime.h),
// which hands a buffer its array no longer needs to the next output of the
// same size instead of fresh memory that faults on its first write.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <vector>

namespace ranvier::bindings {

namespace py = pybind11;

// Outputs of at least this many bytes come from the cache; smaller ones from
// NumPy (the heap serves them without page faults).
constexpr std::size_t kCachedOutputMinBytes = std::size_t{256} << 10;

// An uninitialised C-ordered array of `shape` and `dtype`, from the cache
// whatever its size (ranvier._cpu.empty; ranvier.backend.empty applies the
// threshold).
py::array cached_empty(const std::vector<py::ssize_t>& shape, const py::dtype& dtype);

// An uninitialised C-ordered array of `shape` and `dtype` (float32 by
// default), from the cache when it has at least kCachedOutputMinBytes.
py::array new_output(const std::vector<py::ssize_t>& shape, const py::dtype& dtype);
py::array_t<float> new_output(const std::vector<py::ssize_t>& shape);

}  // namespace ranvier::bindings
