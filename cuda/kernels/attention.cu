// Attention in tiles (flash-attention 2 on the GPU): the steps of
// cpp/kernels/attention.cpp, with each 64 x 64 tile of scores held by one
// thread block (16 x 16 threads, 4 x 4 entries each) and staged through
// shared memory; no (Lq, Lk) matrix is ever written to global memory.
//
// Forward: a block owns 64 queries of one head and 64 output columns of it
// (more blocks when Dv > 64; each recomputes the same scores). For each tile
// of 64 keys: S = Q K^T, masked logits become -inf, the running row max m and
// sum l are updated, the output rescaled by exp(m_old - m_new), and
// O += exp(scale S - m) V. At the end O /= l and lse = m + log l.
//
// Backward, with delta = rowsum(dO * O) and P = exp(scale S - lse)
// recomputed tile by tile, dS = scale P (dP - delta), dP = dO V^T:
//   dq blocks own 64 queries and 64 columns of dQ: dQ = sum over key tiles of dS K;
//   dk/dv blocks own 64 keys and 64 columns of dK or dV:
//     dV = sum over query tiles of P^T dO, dK = sum over query tiles of dS^T Q.
// Every output element is summed by one thread in a fixed order: no atomics,
// and the same result on every run.
#include <cmath>

#include "ranvier/index_math.h"
#include "ranvier_cuda/attention.h"
#include "ranvier_cuda/launch.cuh"

namespace ranvier::cuda {

namespace {

constexpr int kTile = 64;             // score tile rows and columns; output column chunk
constexpr int kLd = kTile + 1;        // odd shared row length: column walks hit 32 banks
constexpr int kGroup = 16;            // the block is a kGroup x kGroup grid of threads
constexpr int kSub = kTile / kGroup;  // each owns kSub x kSub entries of a tile
constexpr int kThreads = kGroup * kGroup;
constexpr int kTileFloats = kTile * kLd;
// Three tiles: the rows operand, the columns operand (or the value tile) and P.
constexpr std::size_t kSharedBytes = 3 * kTileFloats * sizeof(float);
constexpr float kInf = INFINITY;

// Thread (ty, tx) of the block owns tile rows ty + kGroup * i and columns
// tx + kGroup * j, i, j < kSub: a row's 16 owners are one half of a warp.
__device__ __forceinline__ int thread_col() { return threadIdx.x % kGroup; }
__device__ __forceinline__ int thread_row() { return threadIdx.x / kGroup; }

// One head of a (B,H,L,C) view as an (L, C) = (rows, cols) matrix; reads
// outside it give 0, so partial tiles need no other special case.
struct HeadMatrix {
  const float* data;
  std::int64_t row_stride, col_stride, rows, cols;

  __device__ float at(std::int64_t r, std::int64_t c) const {
    return r < rows && c < cols ? data[r * row_stride + c * col_stride] : 0.0f;
  }
};

__device__ HeadMatrix head_matrix(const AttentionView& t, std::int64_t b, std::int64_t h, std::int64_t rows,
                                  std::int64_t cols) {
  return {t.data + b * t.batch_stride + h * t.head_stride, t.row_stride, t.col_stride, rows, cols};
}

// Whether query i may attend key j (the rules of ranvier/attention.h).
__device__ bool allowed(const AttentionMask& mask, const AttentionShape& s, std::int64_t b, std::int64_t h,
                        std::int64_t i, std::int64_t j) {
  if (i >= s.lq || j >= s.lk) return false;
  if (s.causal && j > i + (s.lk - s.lq)) return false;
  return mask.data == nullptr ||
         mask.data[b * mask.batch_stride + h * mask.head_stride + i * mask.query_stride + j * mask.key_stride] != 0;
}

// Keys that query i may see under the causal rule: j < causal_end(i).
__device__ std::int64_t causal_end(const AttentionShape& s, std::int64_t i) {
  const std::int64_t end = i + 1 + s.lk - s.lq;
  return end < 0 ? 0 : (end > s.lk ? s.lk : end);
}

// Max and sum over the kGroup threads that own a tile row; all of them get
// the same result (a butterfly: both partners of each step add the same pair).
__device__ __forceinline__ float row_group_max(float x) {
#pragma unroll
  for (int offset = kGroup / 2; offset > 0; offset /= 2) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, offset));
  return x;
}

__device__ __forceinline__ float row_group_sum(float x) {
#pragma unroll
  for (int offset = kGroup / 2; offset > 0; offset /= 2) x += __shfl_xor_sync(0xffffffffu, x, offset);
  return x;
}

// tile[r][c] = m(r0 + r, c0 + c) over a kTile x kTile block, or tile[c][r]
// when TRANSPOSE. Consecutive threads read consecutive columns of m and write
// different banks either way (kLd is odd).
template <bool TRANSPOSE>
__device__ void load_tile(float* tile, const HeadMatrix& m, std::int64_t r0, std::int64_t c0) {
#pragma unroll 4
  for (int e = threadIdx.x; e < kTile * kTile; e += kThreads) {
    const int r = e / kTile, c = e % kTile;
    const float x = m.at(r0 + r, c0 + c);
    if (TRANSPOSE) {
      tile[c * kLd + r] = x;
    } else {
      tile[r * kLd + c] = x;
    }
  }
}

// acc[i][j] += sum over c < depth of a[row i][c] * b[c][col j], for this
// thread's rows and columns: a and b are tiles in shared memory (row stride kLd).
__device__ __forceinline__ void accumulate_tile_product(float (&acc)[kSub][kSub], const float* a, const float* b,
                                                        int depth) {
  const int tx = thread_col(), ty = thread_row();
  for (int c = 0; c < depth; ++c) {
    float af[kSub], bf[kSub];
#pragma unroll
    for (int i = 0; i < kSub; ++i) af[i] = a[(ty + kGroup * i) * kLd + c];
#pragma unroll
    for (int j = 0; j < kSub; ++j) bf[j] = b[c * kLd + tx + kGroup * j];
#pragma unroll
    for (int i = 0; i < kSub; ++i) {
#pragma unroll
      for (int j = 0; j < kSub; ++j) acc[i][j] = fmaf(af[i], bf[j], acc[i][j]);
    }
  }
}

// acc[i][j] = a(r0 + row i) . b(c0 + col j) over their common depth (a.cols),
// for this thread's rows and columns of the tile; a and b are (rows, depth).
// The depth is staged in chunks of kTile: a's chunk in a_tile, b's transposed
// in bt_tile. load_a == false reuses a_tile as it is (allowed only when the
// depth fits one chunk and a_tile already holds these rows).
__device__ void tile_scores(float (&acc)[kSub][kSub], float* a_tile, float* bt_tile, const HeadMatrix& a,
                            const HeadMatrix& b, std::int64_t r0, std::int64_t c0, bool load_a) {
#pragma unroll
  for (int i = 0; i < kSub; ++i) {
#pragma unroll
    for (int j = 0; j < kSub; ++j) acc[i][j] = 0.0f;
  }
  for (std::int64_t d0 = 0; d0 < a.cols; d0 += kTile) {
    __syncthreads();  // nobody still reads the previous contents
    if (load_a) load_tile<false>(a_tile, a, r0, d0);
    load_tile<true>(bt_tile, b, c0, d0);
    __syncthreads();
    accumulate_tile_product(acc, a_tile, bt_tile, static_cast<int>(a.cols - d0 < kTile ? a.cols - d0 : kTile));
  }
}

// Writes this thread's entries x of a tile into shared memory.
__device__ void store_tile(float* tile, const float (&x)[kSub][kSub]) {
  const int tx = thread_col(), ty = thread_row();
  __syncthreads();  // nobody still reads the previous contents
#pragma unroll
  for (int i = 0; i < kSub; ++i) {
#pragma unroll
    for (int j = 0; j < kSub; ++j) tile[(ty + kGroup * i) * kLd + tx + kGroup * j] = x[i][j];
  }
}

// o[i][j] += sum over c of p[row i][c] * m(c0 + c, n0 + col j): the product of
// the tile p in shared memory with rows [c0, c0 + kTile) and columns
// [n0, n0 + kTile) of m, staged through `tile`.
__device__ void tile_accumulate(float (&o)[kSub][kSub], const float* p, float* tile, const HeadMatrix& m,
                                std::int64_t c0, std::int64_t n0) {
  __syncthreads();  // p is complete, and nobody still reads `tile`
  load_tile<false>(tile, m, c0, n0);
  __syncthreads();
  accumulate_tile_product(o, p, tile, static_cast<int>(m.rows - c0 < kTile ? m.rows - c0 : kTile));
}

// Writes this thread's entries o of the tile at (row0, n0) into head `head` of
// out (heads, rows, width), skipping what lies past rows or width.
__device__ void store_result(float* out, const float (&o)[kSub][kSub], std::int64_t head, std::int64_t rows,
                             std::int64_t width, std::int64_t row0, std::int64_t n0) {
  const int tx = thread_col(), ty = thread_row();
#pragma unroll
  for (int i = 0; i < kSub; ++i) {
    const std::int64_t row = row0 + ty + kGroup * i;
    if (row >= rows) continue;
#pragma unroll
    for (int j = 0; j < kSub; ++j) {
      const std::int64_t n = n0 + tx + kGroup * j;
      if (n < width) out[(head * rows + row) * width + n] = o[i][j];
    }
  }
}

// The three kTile x kTile tiles (a, b, p) each kernel stages through shared memory.
struct SharedTiles {
  float *a, *b, *p;
};

__device__ SharedTiles shared_tiles(float* smem) { return {smem, smem + kTileFloats, smem + 2 * kTileFloats}; }

// q, k and v of batch b, head h as (rows, cols) matrices.
struct HeadQKV {
  HeadMatrix q, k, v;
};

__device__ HeadQKV head_qkv(const AttentionView& q, const AttentionView& k, const AttentionView& v,
                            const AttentionShape& s, std::int64_t b, std::int64_t h) {
  return {head_matrix(q, b, h, s.lq, s.d), head_matrix(k, b, h, s.lk, s.d), head_matrix(v, b, h, s.lk, s.dv)};
}

// Block blockIdx.x of a grid over (head, tile of 64 rows, column chunk), the
// chunk varying fastest.
struct BlockTile {
  std::int64_t head, row0, chunk;
};

__device__ BlockTile block_tile(std::int64_t rows, std::int64_t chunks) {
  const std::int64_t tiles = ceil_div(rows, kTile);
  std::int64_t block = blockIdx.x;
  BlockTile t;
  t.chunk = block % chunks;
  block /= chunks;
  t.row0 = (block % tiles) * kTile;
  t.head = block / tiles;
  return t;
}

// Output column chunks of the forward: at least one, whose chunk-0 blocks
// also write lse (Dv may be 0).
__host__ __device__ std::int64_t forward_chunks(const AttentionShape& s) {
  const std::int64_t chunks = ceil_div(s.dv, kTile);
  return chunks > 0 ? chunks : 1;
}

// q (B,H,Lq,D), k (B,H,Lk,D), v (B,H,Lk,Dv) -> out (B,H,Lq,Dv), lse (B,H,Lq).
// Grid: (B*H) x (Lq tiles) x forward_chunks blocks of kThreads.
__global__ void __launch_bounds__(kThreads) forward_kernel(float* out, float* lse, AttentionView q, AttentionView k,
                                                           AttentionView v, AttentionMask mask, AttentionShape s) {
  extern __shared__ float smem[];
  const auto [a_tile, b_tile, p_tile] = shared_tiles(smem);
  const int tx = thread_col(), ty = thread_row();
  const BlockTile t = block_tile(s.lq, forward_chunks(s));
  const std::int64_t b = t.head / s.heads, h = t.head % s.heads, n0 = t.chunk * kTile;
  const auto [qm, km, vm] = head_qkv(q, k, v, s, b, h);

  float m[kSub], l[kSub], o[kSub][kSub];
#pragma unroll
  for (int i = 0; i < kSub; ++i) {
    m[i] = -kInf;
    l[i] = 0.0f;
#pragma unroll
    for (int j = 0; j < kSub; ++j) o[i][j] = 0.0f;
  }
  const std::int64_t last_row = (t.row0 + kTile < s.lq ? t.row0 + kTile : s.lq) - 1;
  const std::int64_t key_end = s.causal ? causal_end(s, last_row) : s.lk;
  for (std::int64_t j0 = 0; j0 < key_end; j0 += kTile) {
    float x[kSub][kSub];
    // With D <= kTile the query tile stays in a_tile from the first key tile on.
    tile_scores(x, a_tile, b_tile, qm, km, t.row0, j0, j0 == 0 || s.d > kTile);
#pragma unroll
    for (int i = 0; i < kSub; ++i) {
      const std::int64_t row = t.row0 + ty + kGroup * i;
      float tile_max = -kInf;
#pragma unroll
      for (int j = 0; j < kSub; ++j) {
        const std::int64_t col = j0 + tx + kGroup * j;
        // Rounded once and kept (never fused into the exponent's argument),
        // so that x - shift is exact for the row's maximum.
        x[i][j] = allowed(mask, s, b, h, row, col) ? __fmul_rn(s.scale, x[i][j]) : -kInf;
        tile_max = fmaxf(tile_max, x[i][j]);
      }
      const float m_new = fmaxf(m[i], row_group_max(tile_max));
      // A row with nothing allowed yet keeps m = -inf; shifting by 0 then
      // turns its -inf logits into exact zeros instead of NaN.
      const float shift = m_new == -kInf ? 0.0f : m_new;
      const float alpha = expf(m[i] - shift);
      float sum = 0.0f;
#pragma unroll
      for (int j = 0; j < kSub; ++j) {
        x[i][j] = expf(x[i][j] - shift);
        sum += x[i][j];
        o[i][j] *= alpha;
      }
      l[i] = l[i] * alpha + row_group_sum(sum);
      m[i] = m_new;
    }
    store_tile(p_tile, x);
    tile_accumulate(o, p_tile, b_tile, vm, j0, n0);
  }

#pragma unroll
  for (int i = 0; i < kSub; ++i) {
    const std::int64_t row = t.row0 + ty + kGroup * i;
    if (row >= s.lq) continue;
    const std::int64_t out_row = t.head * s.lq + row;
    const bool any = l[i] != 0.0f;  // else no allowed key: out 0, lse -inf; a NaN sum gives NaN
    const float inv = any ? 1.0f / l[i] : 0.0f;
#pragma unroll
    for (int j = 0; j < kSub; ++j) {
      const std::int64_t n = n0 + tx + kGroup * j;
      if (n < s.dv) out[out_row * s.dv + n] = any ? o[i][j] * inv : 0.0f;
    }
    if (t.chunk == 0 && tx == 0) lse[out_row] = any ? m[i] + logf(l[i]) : -kInf;
  }
}

// dout, out (B,H,Lq,Dv) -> delta (B*H*Lq,) = rowsum(dout * out): one warp per
// row, grid-strided; lanes take every 32nd column, then a butterfly sum.
__global__ void delta_kernel(float* delta, AttentionView dout, AttentionView out, AttentionShape s) {
  const std::int64_t rows = s.batch * s.heads * s.lq;
  const int lane = threadIdx.x % 32;
  const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * blockDim.x / 32;
  for (std::int64_t row = (static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32; row < rows;
       row += warps) {
    const std::int64_t head = row / s.lq, i = row % s.lq;
    const std::int64_t b = head / s.heads, h = head % s.heads;
    const float* dr = dout.data + b * dout.batch_stride + h * dout.head_stride + i * dout.row_stride;
    const float* orow = out.data + b * out.batch_stride + h * out.head_stride + i * out.row_stride;
    float acc = 0.0f;
    for (std::int64_t n = lane; n < s.dv; n += 32) acc = fmaf(dr[n * dout.col_stride], orow[n * out.col_stride], acc);
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) acc += __shfl_xor_sync(0xffffffffu, acc, offset);
    if (lane == 0) delta[row] = acc;
  }
}

// P (for this thread's entries) of a tile whose entry (i, j) pairs query
// `query` with key `key`: exp(scale * score - lse), or 0 where the key is not
// allowed or the query sees no key at all (lse = -inf).
__device__ __forceinline__ float probability(float score, float row_lse, const AttentionMask& mask,
                                             const AttentionShape& s, std::int64_t b, std::int64_t h,
                                             std::int64_t query, std::int64_t key) {
  if (row_lse == -kInf || !allowed(mask, s, b, h, query, key)) return 0.0f;
  return expf(s.scale * score - row_lse);
}

// -> dq (B,H,Lq,D). Grid: (B*H) x (Lq tiles) x (D chunks).
__global__ void __launch_bounds__(kThreads)
    dq_kernel(float* dq, const float* delta, const float* lse, AttentionView dout, AttentionView q, AttentionView k,
              AttentionView v, AttentionMask mask, AttentionShape s) {
  extern __shared__ float smem[];
  const auto [a_tile, b_tile, p_tile] = shared_tiles(smem);
  const int tx = thread_col(), ty = thread_row();
  const BlockTile t = block_tile(s.lq, ceil_div(s.d, kTile));
  const std::int64_t b = t.head / s.heads, h = t.head % s.heads, n0 = t.chunk * kTile;
  const auto [qm, km, vm] = head_qkv(q, k, v, s, b, h);
  const HeadMatrix dom = head_matrix(dout, b, h, s.lq, s.dv);

  float row_lse[kSub], row_delta[kSub], o[kSub][kSub];
#pragma unroll
  for (int i = 0; i < kSub; ++i) {
    const std::int64_t row = t.row0 + ty + kGroup * i;
    row_lse[i] = row < s.lq ? lse[t.head * s.lq + row] : -kInf;
    row_delta[i] = row < s.lq ? delta[t.head * s.lq + row] : 0.0f;
#pragma unroll
    for (int j = 0; j < kSub; ++j) o[i][j] = 0.0f;
  }
  const std::int64_t last_row = (t.row0 + kTile < s.lq ? t.row0 + kTile : s.lq) - 1;
  const std::int64_t key_end = s.causal ? causal_end(s, last_row) : s.lk;
  for (std::int64_t j0 = 0; j0 < key_end; j0 += kTile) {
    float ds[kSub][kSub], dp[kSub][kSub];
    tile_scores(ds, a_tile, b_tile, qm, km, t.row0, j0, true);   // S = Q K^T
    tile_scores(dp, a_tile, b_tile, dom, vm, t.row0, j0, true);  // dP = dO V^T
#pragma unroll
    for (int i = 0; i < kSub; ++i) {
      const std::int64_t row = t.row0 + ty + kGroup * i;
#pragma unroll
      for (int j = 0; j < kSub; ++j) {
        const float p = probability(ds[i][j], row_lse[i], mask, s, b, h, row, j0 + tx + kGroup * j);
        ds[i][j] = s.scale * p * (dp[i][j] - row_delta[i]);
      }
    }
    store_tile(p_tile, ds);
    tile_accumulate(o, p_tile, b_tile, km, j0, n0);  // dQ += dS K
  }

  store_result(dq, o, t.head, s.lq, s.d, t.row0, n0);
}

// -> dk (B,H,Lk,D), dv (B,H,Lk,Dv). Grid: (B*H) x (Lk tiles) x (D chunks +
// Dv chunks); a block's tile rows are keys and its tile columns queries.
__global__ void __launch_bounds__(kThreads)
    dkdv_kernel(float* dk, float* dv, const float* delta, const float* lse, AttentionView dout, AttentionView q,
                AttentionView k, AttentionView v, AttentionMask mask, AttentionShape s) {
  extern __shared__ float smem[];
  const auto [a_tile, b_tile, p_tile] = shared_tiles(smem);
  const int tx = thread_col(), ty = thread_row();
  const std::int64_t dk_chunks = ceil_div(s.d, kTile);
  const BlockTile t = block_tile(s.lk, dk_chunks + ceil_div(s.dv, kTile));
  const bool to_dk = t.chunk < dk_chunks;  // block-uniform
  const std::int64_t n0 = (to_dk ? t.chunk : t.chunk - dk_chunks) * kTile;
  const std::int64_t b = t.head / s.heads, h = t.head % s.heads;
  const auto [qm, km, vm] = head_qkv(q, k, v, s, b, h);
  const HeadMatrix dom = head_matrix(dout, b, h, s.lq, s.dv);

  float o[kSub][kSub];
#pragma unroll
  for (int i = 0; i < kSub; ++i) {
#pragma unroll
    for (int j = 0; j < kSub; ++j) o[i][j] = 0.0f;
  }
  // Under the causal rule the queries before the first one that sees key
  // row0 see none of this block's keys.
  std::int64_t first_query = 0;
  if (s.causal) {
    first_query = t.row0 - (s.lk - s.lq);
    if (first_query < 0) first_query = 0;
  }
  for (std::int64_t i0 = first_query; i0 < s.lq; i0 += kTile) {
    float col_lse[kSub], col_delta[kSub];
#pragma unroll
    for (int j = 0; j < kSub; ++j) {
      const std::int64_t query = i0 + tx + kGroup * j;
      col_lse[j] = query < s.lq ? lse[t.head * s.lq + query] : -kInf;
      col_delta[j] = query < s.lq ? delta[t.head * s.lq + query] : 0.0f;
    }
    float pt[kSub][kSub];
    tile_scores(pt, a_tile, b_tile, km, qm, t.row0, i0, true);  // S^T = K Q^T
#pragma unroll
    for (int i = 0; i < kSub; ++i) {
#pragma unroll
      for (int j = 0; j < kSub; ++j)
        pt[i][j] = probability(pt[i][j], col_lse[j], mask, s, b, h, i0 + tx + kGroup * j, t.row0 + ty + kGroup * i);
    }
    if (to_dk) {
      float dpt[kSub][kSub];
      tile_scores(dpt, a_tile, b_tile, vm, dom, t.row0, i0, true);  // dP^T = V dO^T
#pragma unroll
      for (int i = 0; i < kSub; ++i) {
#pragma unroll
        for (int j = 0; j < kSub; ++j) pt[i][j] = s.scale * pt[i][j] * (dpt[i][j] - col_delta[j]);
      }
      store_tile(p_tile, pt);
      tile_accumulate(o, p_tile, b_tile, qm, i0, n0);  // dK += dS^T Q
    } else {
      store_tile(p_tile, pt);
      tile_accumulate(o, p_tile, b_tile, dom, i0, n0);  // dV += P^T dO
    }
  }

  store_result(to_dk ? dk : dv, o, t.head, s.lk, to_dk ? s.d : s.dv, t.row0, n0);
}

// Launches one of the tile kernels on `blocks` blocks with the three shared
// tiles (more than the 48 KiB a launch gets without asking).
template <class... Params, class... Args>
cudaError_t launch_tiles(void (*kernel)(Params...), std::int64_t blocks, cudaStream_t stream, Args... args) {
  if (blocks == 0) return cudaSuccess;
  if (blocks > 0x7fffffff) return cudaErrorInvalidConfiguration;
  cudaError_t err =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(kSharedBytes));
  if (err != cudaSuccess) return err;
  kernel<<<static_cast<unsigned>(blocks), kThreads, kSharedBytes, stream>>>(args...);
  return cudaGetLastError();
}

}  // namespace

cudaError_t attention(float* out, float* lse, AttentionView q, AttentionView k, AttentionView v,
                      const AttentionMask& mask, const AttentionShape& shape, cudaStream_t stream) {
  const std::int64_t blocks = shape.batch * shape.heads * ceil_div(shape.lq, kTile) * forward_chunks(shape);
  return launch_tiles(forward_kernel, blocks, stream, out, lse, q, k, v, mask, shape);
}

cudaError_t attention_backward(float* dq, float* dk, float* dv, float* delta_scratch, AttentionView dout,
                               AttentionView out, const float* lse, AttentionView q, AttentionView k, AttentionView v,
                               const AttentionMask& mask, const AttentionShape& shape, cudaStream_t stream) {
  const std::int64_t heads = shape.batch * shape.heads, rows = heads * shape.lq;
  if (rows > 0) {
    constexpr int kDeltaThreads = 256;
    delta_kernel<<<grid_for(rows, kDeltaThreads / 32), kDeltaThreads, 0, stream>>>(delta_scratch, dout, out, shape);
    cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return err;
  }
  const std::int64_t d_chunks = ceil_div(shape.d, kTile), dv_chunks = ceil_div(shape.dv, kTile);
  cudaError_t err = launch_tiles(dq_kernel, heads * ceil_div(shape.lq, kTile) * d_chunks, stream, dq, delta_scratch,
                                 lse, dout, q, k, v, mask, shape);
  if (err != cudaSuccess) return err;
  return launch_tiles(dkdv_kernel, heads * ceil_div(shape.lk, kTile) * (d_chunks + dv_chunks), stream, dk, dv,
                      delta_scratch, lse, dout, q, k, v, mask, shape);
}

}  // namespace ranvier::cuda
