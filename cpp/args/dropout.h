// Arguments of dropout and dropout_backward (ranvier.ops.dropout): float32
// arrays of any shape and their uint8 mask, read densely in flat C order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "checks.h"

namespace ranvier::args {

inline double dropout_rate(const char* op, py::handle rate) { return real(op, "rate", rate, 0.0, 1.0, true); }

template <class A>
struct DropoutArgs {
  A x;
  double rate;
  std::uint64_t seed;
  bool identity;  // not training, or rate 0: the op returns x itself and no mask
};

template <class A>
DropoutArgs<A> dropout_args(py::handle x_obj, py::handle rate_obj, py::handle seed_obj, bool training) {
  const char* op = "dropout";
  const double rate = dropout_rate(op, rate_obj);
  const std::uint64_t seed = uint64(op, "seed", seed_obj);
  A x = A::read(op, "x", x_obj);
  require_float32(op, "x", x);
  const bool identity = !training || rate == 0.0;
  if (!identity) dense(x);
  return {std::move(x), rate, seed, identity};
}

template <class A>
struct DropoutGrad {
  A dy;
  std::optional<A> mask;  // none: dropout was the identity, the op returns dy itself
  double rate;
};

template <class A>
DropoutGrad<A> dropout_grad(py::handle dy_obj, py::handle mask_obj, py::handle rate_obj) {
  const char* op = "dropout_backward";
  const double rate = dropout_rate(op, rate_obj);
  A dy = A::read(op, "dy", dy_obj);
  require_float32(op, "dy", dy);
  std::optional<A> mask = read_optional<A>(op, "mask", mask_obj);
  if (!mask) return {std::move(dy), std::nullopt, rate};
  if (mask->dtype() != DType::uint8)
    type_fail(op, "mask must be the uint8 mask that dropout returned, got " + describe(*mask));
  if (!has_dims(*mask, dims(dy)))
    fail(op, "mask and dy must have the same shape, got " + shape_str(*mask) + " and " + shape_str(dy));
  dense(dy);
  dense<std::uint8_t>(mask);
  return {std::move(dy), std::move(mask), rate};
}

}  // namespace ranvier::args
