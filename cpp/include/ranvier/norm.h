// Layer normalisation over the last axis.
#pragma once

#include <cstdint>

namespace ranvier::cpu {

// x (rows, d), gamma (d,), beta (d,) -> y (rows, d), and when not null
// mean (rows,) and rstd (rows,) = 1 / sqrt(var + eps), the biased variance:
//   y = (x - mean) * rstd * gamma + beta
// The statistics take one pass over each row (Welford per vector lane), so
// rows with a large mean (1e4 with unit spread) keep their variance.
void layer_norm(float* y, float* mean, float* rstd, const float* x, const float* gamma, const float* beta,
                std::int64_t rows, std::int64_t d, float eps);

// dy (rows, d), x (rows, d), gamma (d,), mean (rows,), rstd (rows,)
//   -> dx (rows, d), dgamma (d,), dbeta (d,)
// dgamma and dbeta are summed over rows in a fixed order of row blocks, so
// they do not depend on the thread count.
void layer_norm_backward(float* dx, float* dgamma, float* dbeta, const float* dy, const float* x, const float* gamma,
                         const float* mean, const float* rstd, std::int64_t rows, std::int64_t d);

}  // namespace ranvier::cpu
