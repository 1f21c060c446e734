// Picks the vector type for the object library being compiled. Files named
// *_simd.cpp are compiled once per ISA (see CMakeLists.txt) with one of
// RANVIER_TARGET_AVX512 / RANVIER_TARGET_AVX2 defined, or neither for the
// generic build; they write their kernels once against `Vec` and put their
// tables in namespace RANVIER_ISA_NS so the three copies never collide.
// Every Vec's max(a, b) and min(a, b) follow x86's rule: b where either is
// NaN. So max(lo, x) keeps a NaN in x and max(x, lo) drops it.
#pragma once

#if defined(RANVIER_TARGET_AVX512)
#include "simd/vec_avx512.h"
#define RANVIER_ISA_NS avx512
#elif defined(RANVIER_TARGET_AVX2)
#include "simd/vec_avx2.h"
#define RANVIER_ISA_NS avx2
#else
#include "simd/vec_generic.h"
#define RANVIER_ISA_NS generic
#endif

#include "simd/math.h"
