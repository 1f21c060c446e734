// Every kernel family with per-ISA code defines a table of function pointers
// in each of the namespaces generic / avx2 / avx512 (one *_simd.cpp compiled
// three times); RANVIER_ISA_TABLE(name) picks the one for the selected ISA.
#pragma once

#include "ranvier/runtime.h"

#define RANVIER_DECLARE_ISA_TABLE(Type, name) \
  namespace generic {                         \
  extern const Type name;                     \
  }                                           \
  namespace avx2 {                            \
  extern const Type name;                     \
  }                                           \
  namespace avx512 {                          \
  extern const Type name;                     \
  }

#if defined(RANVIER_HAVE_X86_ISAS)
#define RANVIER_ISA_TABLE(name)                                       \
  (::ranvier::selected_isa() == ::ranvier::Isa::avx512 ? avx512::name \
   : ::ranvier::selected_isa() == ::ranvier::Isa::avx2 ? avx2::name   \
                                                       : generic::name)
#else
#define RANVIER_ISA_TABLE(name) (generic::name)
#endif
