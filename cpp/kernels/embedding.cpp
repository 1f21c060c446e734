// Embedding: the forward copies rows (threads split the ids); the backward
// adds rows (threads split the table's rows, so repeated ids never race).
#include <algorithm>
#include <cstring>

#include "ranvier/embedding.h"
#include "ranvier/runtime.h"

namespace ranvier::cpu {

namespace {
// Elements per thread below which waking another thread costs more than it saves.
constexpr std::int64_t kGrain = 1 << 14;

std::int64_t rows_grain(std::int64_t d) { return std::max<std::int64_t>(1, kGrain / std::max<std::int64_t>(1, d)); }
}  // namespace

void embedding(float* y, const std::int64_t* ids, const float* table, std::int64_t n, std::int64_t, std::int64_t d) {
  parallel_for(n, rows_grain(d), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) std::memcpy(y + i * d, table + ids[i] * d, d * sizeof(float));
  });
}

void embedding_backward(float* dtable, const float* dy, const std::int64_t* ids, std::int64_t n, std::int64_t v,
                        std::int64_t d) {
  parallel_for(v, rows_grain(d), [&](std::int64_t r0, std::int64_t r1) {
    std::memset(dtable + r0 * d, 0, (r1 - r0) * d * sizeof(float));
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t r = ids[i];
      if (r < r0 || r >= r1) continue;
      float* dst = dtable + r * d;
      const float* src = dy + i * d;
      for (std::int64_t j = 0; j < d; ++j) dst[j] += src[j];
    }
  });
}

}  // namespace ranvier::cpu
