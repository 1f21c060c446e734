// Element-wise activations and their derivatives.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "ranvier/index_math.h"  // RANVIER_HOST_DEVICE

namespace ranvier {

// The named ones (kActivationNames) are those the dense and conv epilogues
// fuse, with Keras' default parameters; relu_general is Keras' ReLU layer
// (negative_slope, max_value, threshold), element-wise only.
enum class Activation {
  none = 0,
  relu = 1,
  sigmoid = 2,
  tanh = 3,
  gelu = 4,
  leaky_relu = 5,
  elu = 6,
  selu = 7,
  silu = 8,
  softplus = 9,
  softsign = 10,
  hard_sigmoid = 11,
  exponential = 12,
  relu_general = 13,
};

// The names ranvier.activations (Python) checks its registry against.
inline constexpr const char* kActivationNames[] = {"none",       "relu",         "sigmoid",    "tanh", "gelu",
                                                   "leaky_relu", "elu",          "selu",       "silu", "softplus",
                                                   "softsign",   "hard_sigmoid", "exponential"};
inline constexpr int kActivationCount = sizeof(kActivationNames) / sizeof(kActivationNames[0]);

// Whether the derivative takes the forward input x (its output does not
// determine it, or only inaccurately); the others take the output y.
RANVIER_HOST_DEVICE inline constexpr bool derivative_needs_input(Activation act) {
  return act == Activation::gelu || act == Activation::silu || act == Activation::softplus ||
         act == Activation::softsign || act == Activation::relu_general;
}

// The parameters of leaky_relu (alpha = negative_slope), elu (alpha) and
// relu_general (alpha = negative_slope, max_value, threshold).
struct ActivationParams {
  float alpha;
  float max_value;
  float threshold;
};

// Keras' defaults: what a name fused into an epilogue means.
RANVIER_HOST_DEVICE inline constexpr ActivationParams default_params(Activation act) {
  return {act == Activation::leaky_relu ? 0.2f : (act == Activation::elu ? 1.0f : 0.0f), INFINITY, 0.0f};
}

// Parses one of kActivationNames; false for anything else.
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
void activation_forward(Activation act, const ActivationParams& p, float* y, const float* x, std::int64_t n,
                        bool fresh_output = false);

// dy (n), saved (n) -> dx (n), where saved is x where derivative_needs_input
// and y otherwise. dx may alias dy. fresh_output as for activation_forward.
void activation_backward(Activation act, float* dx, const float* dy, const float* saved, std::int64_t n,
                         bool fresh_output = false);
void activation_backward(Activation act, const ActivationParams& p, float* dx, const float* dy, const float* saved,
                         std::int64_t n, bool fresh_output = false);

}  // namespace cpu
}  // namespace ranvier
