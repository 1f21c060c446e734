// The host's ceilings on the threads in use: what `python -m ranvier bench`
// divides its rates by, measured rather than assumed (machines differ).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <vector>

#include "ceiling_kernels.h"
#include "ranvier/runtime.h"

namespace ranvier {

namespace cpu {
namespace {
const CeilingKernels& ceiling_loops() { return RANVIER_ISA_TABLE(ceiling_kernels); }
}  // namespace
}  // namespace cpu

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// FMA rounds between two looks at the clock: about 10 us on any ISA.
constexpr std::int64_t kRoundsPerCheck = 4096;
// Floats per triad array: 64 MB each, beyond any L3 of this class of machine.
constexpr std::int64_t kTriadFloats = std::int64_t{1} << 24;
constexpr std::int64_t kTriadGrain = std::int64_t{1} << 16;

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float[], FreeDeleter>;

Buffer aligned_floats(std::int64_t n) {
  void* p = std::aligned_alloc(64, static_cast<std::size_t>(n) * sizeof(float));
  if (p == nullptr) throw std::bad_alloc();
  return Buffer(static_cast<float*>(p));
}

}  // namespace

double measure_fma_peak(double seconds) {
  const cpu::CeilingKernels& k = cpu::ceiling_loops();
  const int threads = num_threads();
  // Each thread times itself, so a late wake-up costs no share of the figure;
  // the first fifth of its time is a warm-up (clock ramps, AVX-512 licences).
  std::vector<double> rates(static_cast<std::size_t>(threads), 0.0);
  parallel_for(threads, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t t = begin; t < end; ++t) {
      const Clock::time_point start = Clock::now();
      while (since(start) < 0.2 * seconds) k.fma_chains(kRoundsPerCheck);
      const Clock::time_point timed = Clock::now();
      double flops = 0.0;
      do flops += k.fma_chains(kRoundsPerCheck);
      while (since(timed) < 0.8 * seconds);
      rates[static_cast<std::size_t>(t)] = flops / since(timed);
    }
  });
  double total = 0.0;
  for (double r : rates) total += r;
  return total / 1e9;
}

double measure_triad_bandwidth(double seconds) {
  const cpu::CeilingKernels& k = cpu::ceiling_loops();
  Buffer a = aligned_floats(kTriadFloats), b = aligned_floats(kTriadFloats), c = aligned_floats(kTriadFloats);
  float *pa = a.get(), *pb = b.get(), *pc = c.get();
  // First touch by the threads that run the triad, so pages sit where they are read.
  parallel_for(kTriadFloats, kTriadGrain, [&](std::int64_t begin, std::int64_t end) {
    std::fill(pa + begin, pa + end, 0.f);
    std::fill(pb + begin, pb + end, 1.f);
    std::fill(pc + begin, pc + end, 2.f);
  });
  // STREAM's rule: the best pass, counting 3 arrays moved (no write-allocate).
  double best = 0.0;
  const Clock::time_point start = Clock::now();
  do {
    const Clock::time_point pass = Clock::now();
    parallel_for(kTriadFloats, kTriadGrain, [&](std::int64_t begin, std::int64_t end) {
      k.triad(pa + begin, pb + begin, pc + begin, 3.f, end - begin);
    });
    best = std::max(best, 3.0 * sizeof(float) * static_cast<double>(kTriadFloats) / since(pass));
  } while (since(start) < seconds);
  return best / 1e9;
}

}  // namespace ranvier
