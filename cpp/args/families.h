// The kernel families both compiled modules register, each from its own
// bindings file (cpp/bindings/<family>.cpp, cuda/bindings/<family>.cpp): one
// list, so the two modules cannot drift apart. Adding a family: one line here.
#pragma once

#include <pybind11/pybind11.h>

#define RANVIER_FAMILIES(X) \
  X(runtime)                \
  X(activation)             \
  X(attention)              \
  X(conv)                   \
  X(dense)                  \
  X(dropout)                \
  X(embedding)              \
  X(losses)                 \
  X(norm)                   \
  X(optim)                  \
  X(pool)                   \
  X(rnn)                    \
  X(softmax)                \
  X(spatial)

namespace ranvier::bindings {

#define RANVIER_DECLARE_BIND(family) void bind_##family(pybind11::module_& m);
RANVIER_FAMILIES(RANVIER_DECLARE_BIND)
#undef RANVIER_DECLARE_BIND

// Registers every family's functions in `m`.
inline void bind_families(pybind11::module_& m) {
#define RANVIER_CALL_BIND(family) bind_##family(m);
  RANVIER_FAMILIES(RANVIER_CALL_BIND)
#undef RANVIER_CALL_BIND
}

}  // namespace ranvier::bindings
