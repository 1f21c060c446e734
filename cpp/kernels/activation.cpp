// Activation dispatch: ISA choice and threading over chunks.
#include "activation_kernels.h"
#include "ranvier/runtime.h"
#include "simd/blocks.h"

namespace ranvier {

namespace {
// Elements per thread below which waking another thread costs more than it saves.
constexpr std::int64_t kGrain = 1 << 15;
}  // namespace

namespace cpu {

void activation_forward(Activation act, const ActivationParams& p, float* y, const float* x, std::int64_t n,
                        bool fresh_output) {
  const ActivationKernels& k = RANVIER_ISA_TABLE(activation_kernels);
  const bool stream = fresh_output && n >= simd::kStreamFloats;
  parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    k.forward(act, p, y + begin, x + begin, end - begin, stream);
  });
}

void activation_forward(Activation act, float* y, const float* x, std::int64_t n, bool fresh_output) {
  activation_forward(act, default_params(act), y, x, n, fresh_output);
}

void activation_backward(Activation act, const ActivationParams& p, float* dx, const float* dy, const float* saved,
                         std::int64_t n, bool fresh_output) {
  const ActivationKernels& k = RANVIER_ISA_TABLE(activation_kernels);
  const bool stream = fresh_output && n >= simd::kStreamFloats;
  parallel_for(n, kGrain, [&](std::int64_t begin, std::int64_t end) {
    k.backward(act, p, dx + begin, dy + begin, saved + begin, end - begin, stream);
  });
}

void activation_backward(Activation act, float* dx, const float* dy, const float* saved, std::int64_t n,
                         bool fresh_output) {
  activation_backward(act, default_params(act), dx, dy, saved, n, fresh_output);
}

}  // namespace cpu
}  // namespace ranvier
