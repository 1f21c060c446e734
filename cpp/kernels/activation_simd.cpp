// Element-wise activation kernels, compiled once per ISA.
#include "activation_apply.h"
#include "activation_kernels.h"
#include "simd/blocks.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using V = simd::RANVIER_ISA_NS::Vec;

void forward(Activation act, const ActivationParams& p, float* y, const float* x, std::int64_t n, bool stream) {
  simd::write_blocks<V>(y, n, stream, [&](std::int64_t i, std::int64_t lanes) {
    return simd::activate(act, simd::load_block<V>(x + i, lanes), p);
  });
  if (stream) simd::RANVIER_ISA_NS::stream_fence();
}

void backward(Activation act, const ActivationParams& p, float* dx, const float* dy, const float* saved, std::int64_t n,
              bool stream) {
  simd::write_blocks<V>(dx, n, stream, [&](std::int64_t i, std::int64_t lanes) {
    return simd::activate_backward(act, simd::load_block<V>(dy + i, lanes), simd::load_block<V>(saved + i, lanes), p);
  });
  if (stream) simd::RANVIER_ISA_NS::stream_fence();
}

}  // namespace

extern const ActivationKernels activation_kernels = {forward, backward};

}  // namespace ranvier::cpu::RANVIER_ISA_NS
