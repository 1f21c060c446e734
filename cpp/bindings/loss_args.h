// Arguments shared by the loss bindings (softmax.cpp, losses.cpp).
#pragma once

#include <pybind11/stl.h>  // std::optional arguments

#include <string>

#include "array_args.h"
#include "ranvier/losses.h"

namespace ranvier::bindings {

inline Reduction reduction_arg(const char* op, const std::string& name) {
  Reduction r;
  if (!parse_reduction(name.c_str(), &r)) fail(op, "reduction must be one of none, mean, sum; got '" + name + "'");
  return r;
}

// The per-sample losses dloss (N,) of a backward, or null when absent.
inline const float* dloss_arg(const char* op, const OptionalArray& dloss, std::int64_t n) {
  if (!dloss) return nullptr;
  check_shape(op, "dloss", *dloss, {n});
  return contiguous_in(op, "dloss", *dloss);
}

}  // namespace ranvier::bindings
