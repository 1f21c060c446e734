// The one GEMM kernel under matmul, linear and linear_backward: shared-memory
// and register tiling, any strides on both operands, batch on blockIdx.z and a
// fused bias + activation store.
//
// A block computes a BM x BN tile of c. It walks k in stages of kTileK: the
// block copies the a tile (BM x kTileK) and the b tile (kTileK x BN) into
// shared memory, then each thread multiplies them into its 8 x 8 accumulators.
// While a stage is being multiplied the next one is already loading into
// registers. Each thread's 8 rows are two runs of 4 spaced BM/2 apart (the
// same for columns), so that neighbouring threads read neighbouring float4s
// from shared memory and store neighbouring columns of c.
#include <cstdlib>

#include "ranvier/index_math.h"
#include "ranvier_cuda/activation_math.cuh"
#include "ranvier_cuda/gemm.h"

namespace ranvier::cuda {

namespace {

constexpr int kTileK = 8;  // depth of one shared-memory stage
constexpr int kMicro = 8;  // each thread computes kMicro x kMicro outputs
// Shared rows are padded by 4 floats: strided stores then fall in different
// banks, and rows stay 16-byte aligned for the float4 reads.
constexpr int kPad = 4;

// Large tiles once the problem has this many of them (about one per SM on
// A100/H100); below that the 64 x 64 tiles keep more SMs busy.
constexpr std::int64_t kMinLargeTiles = 128;

__host__ __device__ constexpr int threads_for(int bm, int bn) { return (bm / kMicro) * (bn / kMicro); }

// How a block's threads share the copy of an R x C tile: they walk it with
// its fast axis (c when COL_FAST, else r) varying fastest, the operand's
// unit-stride axis, so that consecutive threads read consecutive addresses.
// Thread x takes elements x, x + kThreads, x + 2 * kThreads, ...; since
// kThreads is a multiple of the fast extent, its l-th element sits l * kStep
// further along the slow axis.
template <int R, int C, bool COL_FAST, int kThreads>
struct TileWalk {
  static constexpr int kFast = COL_FAST ? C : R;
  static constexpr int kStep = kThreads / kFast;
  static constexpr int kLoads = R * C / kThreads;  // elements per thread
  static_assert(kThreads % kFast == 0 && kLoads * kThreads == R * C, "the threads cover whole lines of the tile");

  // Position in the tile of this thread's l-th element.
  __device__ static int row(int l) {
    const int x = threadIdx.x;
    return COL_FAST ? x / C + l * kStep : x % R;
  }
  __device__ static int col(int l) {
    const int x = threadIdx.x;
    return COL_FAST ? x % C : x / R + l * kStep;
  }

  // This thread's elements of the tile of src (rows x cols, element (i, j) at
  // src[i * rs + j * cs]) whose corner is (r0, c0), read into registers;
  // elements outside the matrix read as 0, so edges need no other special case.
  __device__ static void load(float (&regs)[kLoads], const float* src, std::int64_t rs, std::int64_t cs,
                              std::int64_t rows, std::int64_t cols, std::int64_t r0, std::int64_t c0) {
    const std::int64_t i0 = r0 + row(0), j0 = c0 + col(0);
    const float* first = src + i0 * rs + j0 * cs;
    const std::int64_t step = COL_FAST ? kStep * rs : kStep * cs;
#pragma unroll
    for (int l = 0; l < kLoads; ++l) {
      const bool inside = COL_FAST ? (i0 + l * kStep < rows && j0 < cols) : (i0 < rows && j0 + l * kStep < cols);
      regs[l] = inside ? first[l * step] : 0.0f;
    }
  }
};

// frag[0..3] = v[4g .. 4g+3], frag[4..7] = v[half + 4g .. half + 4g+3].
__device__ __forceinline__ void load_fragment(float (&frag)[kMicro], const float* v, int half, int g) {
  const float4 lo = *reinterpret_cast<const float4*>(v + 4 * g);
  const float4 hi = *reinterpret_cast<const float4*>(v + half + 4 * g);
  frag[0] = lo.x, frag[1] = lo.y, frag[2] = lo.z, frag[3] = lo.w;
  frag[4] = hi.x, frag[5] = hi.y, frag[6] = hi.z, frag[7] = hi.w;
}

// Offset inside a tile of extent `size` of the i-th of a thread's 8 rows (or
// columns) when the thread is number g along that axis.
__device__ __forceinline__ int micro_offset(int i, int size, int g) { return (i / 4) * (size / 2) + 4 * g + i % 4; }

// a (batch,m,k), b (batch,k,n) -> c (batch,m,n) contiguous: c = act(a @ b + bias).
// Grid: x = (m tiles) * (n tiles), row tile major; z = batch items, strided.
// A_K_FAST: the copy walks a along k (its columns); B_N_FAST: b along n.
template <int BM, int BN, bool A_K_FAST, bool B_N_FAST>
__global__ void __launch_bounds__(threads_for(BM, BN)) gemm_kernel(GemmArgs g) {
  constexpr int kThreads = threads_for(BM, BN);
  using AWalk = TileWalk<BM, kTileK, A_K_FAST, kThreads>;  // tile (i, kk) of a
  using BWalk = TileWalk<kTileK, BN, B_N_FAST, kThreads>;  // tile (kk, j) of b
  static_assert(BM % 8 == 0 && BN % 8 == 0, "tiles hold two runs of 4 per thread");

  __shared__ __align__(16) float as[kTileK][BM + kPad];  // as[kk][i] = a(row0 + i, k0 + kk)
  __shared__ __align__(16) float bs[kTileK][BN + kPad];  // bs[kk][j] = b(k0 + kk, col0 + j)

  const int tx = threadIdx.x % (BN / kMicro);  // which 8 columns
  const int ty = threadIdx.x / (BN / kMicro);  // which 8 rows
  const std::int64_t n_tiles = ceil_div(g.n, BN);
  const std::int64_t row0 = (blockIdx.x / n_tiles) * BM;
  const std::int64_t col0 = (blockIdx.x % n_tiles) * BN;

  for (std::int64_t t = blockIdx.z; t < g.batch; t += gridDim.z) {
    const float* a = g.a.data + t * g.a_batch_stride;
    const float* b = g.b.data + t * g.b_batch_stride;
    float a_next[AWalk::kLoads], b_next[BWalk::kLoads];
    AWalk::load(a_next, a, g.a.row_stride, g.a.col_stride, g.m, g.k, row0, 0);
    BWalk::load(b_next, b, g.b.row_stride, g.b.col_stride, g.k, g.n, 0, col0);

    float acc[kMicro][kMicro] = {};
    for (std::int64_t k0 = 0; k0 < g.k; k0 += kTileK) {
#pragma unroll
      for (int l = 0; l < AWalk::kLoads; ++l) as[AWalk::col(l)][AWalk::row(l)] = a_next[l];
#pragma unroll
      for (int l = 0; l < BWalk::kLoads; ++l) bs[BWalk::row(l)][BWalk::col(l)] = b_next[l];
      __syncthreads();

      if (k0 + kTileK < g.k) {  // the next stage travels while this one is multiplied
        AWalk::load(a_next, a, g.a.row_stride, g.a.col_stride, g.m, g.k, row0, k0 + kTileK);
        BWalk::load(b_next, b, g.b.row_stride, g.b.col_stride, g.k, g.n, k0 + kTileK, col0);
      }

#pragma unroll
      for (int kk = 0; kk < kTileK; ++kk) {
        float af[kMicro], bf[kMicro];
        load_fragment(af, as[kk], BM / 2, ty);
        load_fragment(bf, bs[kk], BN / 2, tx);
#pragma unroll
        for (int i = 0; i < kMicro; ++i) {
#pragma unroll
          for (int j = 0; j < kMicro; ++j) acc[i][j] = fmaf(af[i], bf[j], acc[i][j]);
        }
      }
      __syncthreads();  // everyone is done with this stage before it is overwritten
    }

    float* c = g.c + t * g.m * g.n;
#pragma unroll
    for (int i = 0; i < kMicro; ++i) {
      const std::int64_t row = row0 + micro_offset(i, BM, ty);
      if (row >= g.m) continue;
#pragma unroll
      for (int j = 0; j < kMicro; ++j) {
        const std::int64_t col = col0 + micro_offset(j, BN, tx);
        if (col >= g.n) continue;
        float v = acc[i][j];
        if (g.epilogue.bias != nullptr) v += g.epilogue.bias[col];
        c[row * g.n + col] = activate(g.epilogue.act, v);
      }
    }
  }
}

template <int BM, int BN, bool A_K_FAST, bool B_N_FAST>
cudaError_t launch(const GemmArgs& args, cudaStream_t stream) {
  const std::int64_t tiles = ceil_div(args.m, BM) * ceil_div(args.n, BN);
  if (tiles > 0x7fffffff) return cudaErrorInvalidConfiguration;
  const dim3 grid(static_cast<unsigned>(tiles), 1, static_cast<unsigned>(args.batch < 65535 ? args.batch : 65535));
  gemm_kernel<BM, BN, A_K_FAST, B_N_FAST><<<grid, threads_for(BM, BN), 0, stream>>>(args);
  return cudaGetLastError();
}

// Whether a tile copy should walk along v's columns: the axis with unit
// stride, else the one with the smaller stride.
bool walk_columns(const MatrixView& v) {
  if (v.col_stride == 1 || v.row_stride == 1) return v.col_stride == 1;
  return std::llabs(v.col_stride) <= std::llabs(v.row_stride);
}

template <int BM, int BN>
cudaError_t launch_for_strides(const GemmArgs& args, cudaStream_t stream) {
  const bool a_k_fast = walk_columns(args.a);
  const bool b_n_fast = walk_columns(args.b);
  if (a_k_fast) {
    return b_n_fast ? launch<BM, BN, true, true>(args, stream) : launch<BM, BN, true, false>(args, stream);
  }
  return b_n_fast ? launch<BM, BN, false, true>(args, stream) : launch<BM, BN, false, false>(args, stream);
}

}  // namespace

cudaError_t gemm(const GemmArgs& args, cudaStream_t stream) {
  if (args.batch == 0 || args.m == 0 || args.n == 0) return cudaSuccess;
  const std::int64_t large_tiles = args.batch * ceil_div(args.m, 128) * ceil_div(args.n, 128);
  return large_tiles >= kMinLargeTiles ? launch_for_strides<128, 128>(args, stream)
                                       : launch_for_strides<64, 64>(args, stream);
}

}  // namespace ranvier::cuda
