// Element-wise activation kernels, compiled once per ISA.
#include "activation_apply.h"
#include "activation_kernels.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;

void forward(Activation act, float* y, const float* x, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes) simd::activate(act, V::load(x + i)).store(y + i);
  if (i < n) simd::activate(act, V::load_partial(x + i, n - i)).store_partial(y + i, n - i);
}

void backward(Activation act, float* dx, const float* dy, const float* saved, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + V::kLanes <= n; i += V::kLanes)
    simd::activate_backward(act, V::load(dy + i), V::load(saved + i)).store(dx + i);
  if (i < n) {
    V g = simd::activate_backward(act, V::load_partial(dy + i, n - i), V::load_partial(saved + i, n - i));
    g.store_partial(dx + i, n - i);
  }
}

}  // namespace

extern const ActivationKernels activation_kernels = {forward, backward};

}  // namespace ranvier::cpu::RANVIER_ISA_NS
