// Embedding lookup (a row gather) and its backward (a scatter-add) on the
// GPU: the same operations as ranvier/embedding.h (ranvier::cpu), plus the stream.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace ranvier::cuda {

// ids (n,) -> *first_bad (one device word): the smallest i with ids[i]
// outside [0, v), or ~0ull when every id is in range. The bindings check ids
// with it before any lookup.
cudaError_t first_id_out_of_range(unsigned long long* first_bad, const std::int64_t* ids, std::int64_t n,
                                  std::int64_t v, cudaStream_t stream);

// ids (n,) each in [0, v), table (v, d) -> y (n, d): y[i] = table[ids[i]].
cudaError_t embedding(float* y, const std::int64_t* ids, const float* table, std::int64_t n, std::int64_t v,
                      std::int64_t d, cudaStream_t stream);

// dy (n, d), ids (n,) each in [0, v) -> dtable (v, d), overwritten:
//   dtable[r] = sum of dy[i] over every i with ids[i] == r
// Each block owns a range of table rows and adds the rows of dy whose id it
// owns in the order of ids: no atomics, and the sums are those of the CPU
// kernel, operation for operation (rows of frequent ids weigh on one block).
cudaError_t embedding_backward(float* dtable, const float* dy, const std::int64_t* ids, std::int64_t n, std::int64_t v,
                               std::int64_t d, cudaStream_t stream);

}  // namespace ranvier::cuda
