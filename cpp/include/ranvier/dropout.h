// Inverted dropout with a counter-based random mask.
#pragma once

#include <cstdint>

namespace ranvier::cpu {

// x (n,) -> y (n,), mask (n,) uint8 in {0, 1}: y = x * mask * scale, with
// scale = float(1 / (1 - rate)), rate in [0, 1).
// mask[i] is a pure function of (seed, i), so it is the same for any thread
// count, ISA or device. One splitmix64 output serves two elements: with
// key = mix64(seed + golden) and z = mix64(key + golden * (i / 2)) (mod 2^64),
// element i draws u = the low 32 bits of z for even i, the high 32 bits for
// odd i, and is kept when u >= floor(rate * 2^32): probability 1 - rate to
// within 2^-32. mix64 is splitmix64's output function, golden = 0x9e3779b97f4a7c15.
void dropout(float* y, std::uint8_t* mask, const float* x, std::int64_t n, double rate, std::uint64_t seed);

// dy (n,), mask (n,) -> dx (n,) = dy * mask * scale. dx may alias dy.
void dropout_backward(float* dx, const float* dy, const std::uint8_t* mask, std::int64_t n, double rate);

}  // namespace ranvier::cpu
