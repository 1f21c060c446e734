// Shared by the losses: per-row losses computed in parallel, then reduced.
#pragma once

#include <cstdint>
#include <functional>

#include "ranvier/losses.h"

namespace ranvier::cpu {

// Calls row_losses(out, begin, end) on chunks of [0, rows) in parallel (at
// least `grain` rows each) to write the loss of each row into out[begin, end),
// then reduces: reduction none writes them to loss (rows,), mean and sum
// write loss[0], summed in double in row order, so that the result does not
// depend on the number of threads. The mean of no rows is NaN, as in NumPy.
void reduce_row_losses(float* loss, Reduction reduction, std::int64_t rows, std::int64_t grain,
                       const std::function<void(float* out, std::int64_t begin, std::int64_t end)>& row_losses);

// Rows per thread chunk for rows of n elements.
std::int64_t row_grain(std::int64_t n);

}  // namespace ranvier::cpu
