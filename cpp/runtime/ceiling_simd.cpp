// The loops that measure the host's ceilings, compiled once per ISA so that
// each ISA's peak is what its own vectors can reach.
#include "ceiling_kernels.h"
#include "simd/vec.h"

namespace ranvier::cpu::RANVIER_ISA_NS {

namespace {

using simd::RANVIER_ISA_NS::Vec;

// Enough independent chains to cover FMA latency (4) times FMA ports (2),
// and few enough to stay in AVX2's 16 registers with the two constants.
constexpr int kChains = 12;

// Keeps the compiler from dropping the chains' results.
volatile float g_sink;

double fma_chains(std::int64_t rounds) {
  // c = c * a + b converges to b / (1 - a): no overflow, no denormals.
  const Vec a = Vec::set1(0.999f), b = Vec::set1(1e-3f);
  Vec c[kChains];
  for (int j = 0; j < kChains; ++j) c[j] = Vec::set1(static_cast<float>(j));
  for (std::int64_t r = 0; r < rounds; ++r) {
    for (int j = 0; j < kChains; ++j) c[j] = simd::RANVIER_ISA_NS::fmadd(c[j], a, b);
  }
  Vec sum = c[0];
  for (int j = 1; j < kChains; ++j) sum = sum + c[j];
  float lanes[Vec::kLanes];
  sum.store(lanes);
  g_sink = lanes[0];
  return 2.0 * kChains * Vec::kLanes * static_cast<double>(rounds);
}

void triad(float* a, const float* b, const float* c, float s, std::int64_t n) {
  const Vec vs = Vec::set1(s);
  std::int64_t i = 0;
  for (; i + Vec::kLanes <= n; i += Vec::kLanes)
    simd::RANVIER_ISA_NS::fmadd(vs, Vec::load(c + i), Vec::load(b + i)).store(a + i);
  for (; i < n; ++i) a[i] = b[i] + s * c[i];
}

}  // namespace

extern const CeilingKernels ceiling_kernels = {fma_chains, triad};

}  // namespace ranvier::cpu::RANVIER_ISA_NS
