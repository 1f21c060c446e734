// Embedding lookup (a row gather) and its backward (a scatter-add).
#pragma once

#include <cstdint>

namespace ranvier::cpu {

// ids (n,) each in [0, v), table (v, d) -> y (n, d): y[i] = table[ids[i]].
// The caller guarantees the range (the bindings check it).
void embedding(float* y, const std::int64_t* ids, const float* table, std::int64_t n, std::int64_t v, std::int64_t d);

// dy (n, d), ids (n,) each in [0, v) -> dtable (v, d), overwritten:
//   dtable[r] = sum of dy[i] over every i with ids[i] == r
// Threads split the v rows of dtable; each scans all ids and adds those it
// owns in the order of ids, so repeated ids never race and the result does not
// depend on the thread count (rows of frequent ids weigh on one thread).
void embedding_backward(float* dtable, const float* dy, const std::int64_t* ids, std::int64_t n, std::int64_t v,
                        std::int64_t d);

}  // namespace ranvier::cpu
