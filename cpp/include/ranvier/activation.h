// Element-wise activations and their derivatives.
#pragma once

#include <cstdint>
#include <cstring>

namespace ranvier {

enum class Activation { none = 0, relu = 1, sigmoid = 2, tanh = 3, gelu = 4 };

// The names ranvier.activations (Python) checks its registry against.
inline constexpr const char* kActivationNames[] = {"none", "relu", "sigmoid", "tanh", "gelu"};
inline constexpr int kActivationCount = sizeof(kActivationNames) / sizeof(kActivationNames[0]);

// Parses "none" | "relu" | "sigmoid" | "tanh" | "gelu"; false for anything else.
// Inline so that the CUDA module, which does not link the CPU kernels, shares it.
inline bool parse_activation(const char* name, Activation* out) {
  for (int i = 0; i < kActivationCount; ++i) {
    if (std::strcmp(name, kActivationNames[i]) == 0) {
      *out = static_cast<Activation>(i);
      return true;
    }
  }
  return false;
}

namespace cpu {

// x (n) -> y (n). y may alias x. fresh_output: y is an op's result, not read
// again soon (a kernel's own scratch is), so a large one (4 MB and up) is
// written past the caches, which saves reading every line before writing it.
void activation_forward(Activation act, float* y, const float* x, std::int64_t n, bool fresh_output = false);

// dy (n), saved (n) -> dx (n), where saved is y for relu/sigmoid/tanh and x
// for gelu. dx may alias dy. fresh_output as for activation_forward.
void activation_backward(Activation act, float* dx, const float* dy, const float* saved, std::int64_t n,
                         bool fresh_output = false);

}  // namespace cpu
}  // namespace ranvier
