// Instruction-set selection: detected once from CPUID, overridable by
// RANVIER_ISA (for tests and unusual machines) and by set_isa().
#include "ranvier/runtime.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ranvier {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512:
      return "avx512";
    case Isa::avx2:
      return "avx2";
    default:
      return "generic";
  }
}

bool parse_isa(const char* name, Isa* out) {
  if (std::strcmp(name, "generic") == 0) {
    *out = Isa::generic;
    return true;
  }
  if (std::strcmp(name, "avx2") == 0) {
    *out = Isa::avx2;
    return true;
  }
  if (std::strcmp(name, "avx512") == 0) {
    *out = Isa::avx512;
    return true;
  }
  return false;
}

bool isa_supported(Isa isa) {
#if defined(RANVIER_HAVE_X86_ISAS)
  // __builtin_cpu_supports also checks that the OS saves the wide registers.
  __builtin_cpu_init();
  switch (isa) {
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    default:
      return true;
  }
#else
  return isa == Isa::generic;
#endif
}

Isa detect_isa() {
  if (isa_supported(Isa::avx512)) return Isa::avx512;
  if (isa_supported(Isa::avx2)) return Isa::avx2;
  return Isa::generic;
}

namespace {

Isa initial_isa() {
  Isa best = detect_isa();
  const char* env = std::getenv("RANVIER_ISA");
  if (env == nullptr || *env == '\0') return best;
  Isa wanted;
  if (!parse_isa(env, &wanted)) {
    std::fprintf(stderr, "ranvier: ignoring RANVIER_ISA=%s (expected generic, avx2 or avx512)\n", env);
    return best;
  }
  if (!isa_supported(wanted)) {
    std::fprintf(stderr, "ranvier: RANVIER_ISA=%s is not supported by this CPU; using %s\n", env, isa_name(best));
    return best;
  }
  return wanted;
}

std::atomic<int>& current_isa() {
  static std::atomic<int> isa{static_cast<int>(initial_isa())};
  return isa;
}

}  // namespace

Isa selected_isa() { return static_cast<Isa>(current_isa().load(std::memory_order_relaxed)); }

bool set_isa(Isa isa) {
  if (!isa_supported(isa)) return false;
  current_isa().store(static_cast<int>(isa), std::memory_order_relaxed);
  return true;
}

}  // namespace ranvier
