// Arguments shared by the loss bindings (softmax.cpp, losses.cpp), with the
// messages of cpp/bindings/loss_args.h.
#pragma once

#include <cstring>
#include <string>

#include "device_array.h"
#include "ranvier/losses.h"

namespace ranvier::bindings {

// Parses the reduction as ranvier::parse_reduction does (which lives in the
// CPU kernels, not linked into this module).
inline Reduction reduction_arg(const char* op, const std::string& name) {
  static constexpr const char* kNames[] = {"none", "mean", "sum"};  // Reduction's order
  for (int i = 0; i < 3; ++i)
    if (name == kNames[i]) return static_cast<Reduction>(i);
  fail(op, "reduction must be one of none, mean, sum; got '" + name + "'");
}

// The per-sample losses dloss (N,) of a backward, or null when None.
inline const float* dloss_arg(const char* op, const py::object& dloss, std::int64_t n) {
  if (dloss.is_none()) return nullptr;
  const DeviceArray a = device_array(op, "dloss", dloss);
  check_shape(op, "dloss", a, {n});
  return contiguous_in(op, "dloss", a);
}

// Device scratch of `floats` float32 elements (none when 0).
inline py::object optional_scratch(std::int64_t floats, float** data) {
  *data = nullptr;
  return floats > 0 ? scratch_array(floats, data) : py::none();
}

}  // namespace ranvier::bindings
