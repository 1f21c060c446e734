// Column sums of a row-major matrix: the bias gradient of dense and conv.
#pragma once

#include <cstdint>

namespace ranvier::cpu {

// sums[j] += sum over r < rows of x[r * ld + j], for j in [begin, end).
inline void add_column_sums(float* sums, const float* x, std::int64_t rows, std::int64_t ld, std::int64_t begin,
                            std::int64_t end) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * ld;
    for (std::int64_t j = begin; j < end; ++j) sums[j] += row[j];
  }
}

}  // namespace ranvier::cpu
