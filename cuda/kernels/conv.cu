// Convolution on the GPU as im2col + the GEMM of gemm.cu: the steps of
// cpp/kernels/conv.cpp.
//
// GEMM rows are output positions r = (n, oh, ow); the patch matrix `cols`
// (rows, KH*KW*C) holds in row r the input pixels that output r sees, in
// (i, j, c) order, the order of w's HWIO layout, so w is already the
// (KH*KW*C, K) matrix and y (N*HO*WO, K) is the GEMM's output. The patch
// matrix is built a chunk of rows at a time in the workspace.
//
// Backward: dz = act'(saved) * dy; db = column sums of dz; dw = patches^T @ dz,
// its long inner dimension (the rows) split into parts computed as one batched
// GEMM and then summed in a fixed order (split-K); dx gathers, for each input
// pixel, the patch gradients dz @ w^T of every patch entry that read it
// (col2im as a gather: one thread per pixel, no atomics, deterministic).
#include <algorithm>

#include "ranvier/index_math.h"
#include "ranvier_cuda/activation.h"
#include "ranvier_cuda/conv.h"
#include "ranvier_cuda/gemm.h"
#include "ranvier_cuda/launch.cuh"
#include "ranvier_cuda/reduce.h"

namespace ranvier::cuda {

namespace {

// Floats of patch matrix per chunk (64 MB), but at least kMinChunkRows rows.
constexpr std::int64_t kChunkFloats = std::int64_t{1} << 24;
constexpr std::int64_t kMinChunkRows = 1024;
// The split dw GEMM aims for this many blocks of gemm.cu's 64 x 64 tiles,
// with parts of at least kMinSliceRows rows and at most kMaxPartialFloats of
// partial results.
constexpr std::int64_t kGemmTile = 64;
constexpr std::int64_t kTargetBlocks = 1024;
constexpr std::int64_t kMinSliceRows = 256;
constexpr std::int64_t kMaxPartialFloats = std::int64_t{1} << 24;

struct Geometry : cpu::ConvGeometry {
  std::int64_t chunk;  // patch rows built at a time (all rows when direct)

  explicit Geometry(const Conv2dShape& shape) : cpu::ConvGeometry(shape) {
    const std::int64_t all = std::max<std::int64_t>(rows, 1);
    chunk = direct ? all : std::min(all, std::max(kMinChunkRows, kChunkFloats / std::max<std::int64_t>(kdim, 1)));
  }

  std::int64_t x_floats() const { return s.n * s.h * s.w * s.c; }

  // Whether the im2col and col2im indices (into x, a patch chunk, the rows,
  // the padded image) all fit the 32-bit kernels.
  bool small() const {
    const std::int64_t largest =
        std::max({x_floats(), chunk * kdim, rows, s.h + s.pad_top + s.pad_bottom, s.w + s.pad_left + s.pad_right});
    return largest < kInt32Bound;
  }
};

// The sizes the index kernels need, in their index type I.
template <class I>
struct ConvIndex {
  I h, w, c, kh, kw, ho, wo, kdim;
  I stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;

  explicit ConvIndex(const Geometry& g)
      : h(g.s.h),
        w(g.s.w),
        c(g.s.c),
        kh(g.s.kh),
        kw(g.s.kw),
        ho(g.ho),
        wo(g.wo),
        kdim(g.kdim),
        stride_h(g.s.stride_h),
        stride_w(g.s.stride_w),
        dilation_h(g.s.dilation_h),
        dilation_w(g.s.dilation_w),
        pad_top(g.s.pad_top),
        pad_left(g.s.pad_left) {}
};

// x (N,H,W,C) -> cols (count / kdim, kdim): row r of cols is the patch of
// output row r0 + r = (n, oh, ow), entry q = (i, j, c) reading x at
// (n, oh*sh - pad_top + i*dh, ow*sw - pad_left + j*dw, c), or 0 in the padding.
template <class I>
__global__ void im2col_kernel(float* cols, const float* x, ConvIndex<I> g, I r0, I count) {
  for (I e = grid_start<I>(); e < count; e += grid_stride<I>()) {
    const I q = e % g.kdim, r = r0 + e / g.kdim;
    const I ch = q % g.c, tap = q / g.c, j = tap % g.kw, i = tap / g.kw;
    const I ow = r % g.wo, image_row = r / g.wo, oh = image_row % g.ho, n = image_row / g.ho;
    const I ih = oh * g.stride_h - g.pad_top + i * g.dilation_h;
    const I iw = ow * g.stride_w - g.pad_left + j * g.dilation_w;
    const bool inside = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
    cols[e] = inside ? x[((n * g.h + ih) * g.w + iw) * g.c + ch] : 0.0f;
  }
}

// dx[e] += the entries of dcols (the gradients of the patches of output rows
// [r0, r1), row r at dcols + (r - r0) * kdim) that im2col read from pixel e,
// for e in [first, end) (flat NHWC indices). Taps are visited in (i, j) order.
template <class I>
__global__ void col2im_kernel(float* dx, const float* dcols, ConvIndex<I> g, I r0, I r1, I first, I end) {
  for (I e = first + grid_start<I>(); e < end; e += grid_stride<I>()) {
    const I ch = e % g.c, pixel = e / g.c, iw = pixel % g.w, image_row = pixel / g.w;
    const I ih = image_row % g.h, n = image_row / g.h;
    float sum = 0.0f;
    for (I i = 0; i < g.kh; ++i) {
      // Tap i of output row oh reads ih when oh * stride_h == ih + pad_top - i * dilation_h.
      const I oh_at = ih + g.pad_top - i * g.dilation_h;
      if (oh_at < 0) break;  // and so for every later i
      if (oh_at % g.stride_h != 0) continue;
      const I oh = oh_at / g.stride_h;
      if (oh >= g.ho) continue;
      for (I j = 0; j < g.kw; ++j) {
        const I ow_at = iw + g.pad_left - j * g.dilation_w;
        if (ow_at < 0) break;
        if (ow_at % g.stride_w != 0) continue;
        const I ow = ow_at / g.stride_w;
        if (ow >= g.wo) continue;
        const I row = (n * g.ho + oh) * g.wo + ow;
        if (row < r0 || row >= r1) continue;
        sum += dcols[(row - r0) * g.kdim + (i * g.kw + j) * g.c + ch];
      }
    }
    dx[e] += sum;
  }
}

// y (rows, f) += b (f,) on every row.
__global__ void add_bias_kernel(float* y, const float* b, std::int64_t rows, std::int64_t f) {
  for (std::int64_t i = grid_start<std::int64_t>(); i < rows * f; i += grid_stride<std::int64_t>()) y[i] += b[i % f];
}

// out (size) = (accumulate ? out : 0) + partials[0] + partials[1] + ..., in that
// order; partial t is partials + t * size.
__global__ void sum_parts_kernel(float* out, const float* partials, std::int64_t parts, std::int64_t size,
                                 bool accumulate) {
  for (std::int64_t i = grid_start<std::int64_t>(); i < size; i += grid_stride<std::int64_t>()) {
    float total = accumulate ? out[i] : 0.0f;
    for (std::int64_t t = 0; t < parts; ++t) total += partials[t * size + i];
    out[i] = total;
  }
}

// a (floats) = 0, unless a is null (not wanted) or empty.
cudaError_t zero(float* a, std::int64_t floats, cudaStream_t stream) {
  if (a == nullptr || floats == 0) return cudaSuccess;
  return cudaMemsetAsync(a, 0, static_cast<std::size_t>(floats) * sizeof(float), stream);
}

// The patches of output rows [r0, r0 + m) -> cols (m, kdim).
cudaError_t im2col(const Geometry& g, const float* x, float* cols, std::int64_t r0, std::int64_t m,
                   cudaStream_t stream) {
  return with_index_type(g.small(), [&](auto index) {
    using I = decltype(index);
    const std::int64_t count = m * g.kdim;
    im2col_kernel<I>
        <<<grid_for(count), kBlock, 0, stream>>>(cols, x, ConvIndex<I>(g), static_cast<I>(r0), static_cast<I>(count));
    return cudaGetLastError();
  });
}

// dx += the patch gradients dcols (m, kdim) of output rows [r0, r0 + m), over
// the pixels of the images those rows belong to.
cudaError_t col2im(const Geometry& g, const float* dcols, float* dx, std::int64_t r0, std::int64_t m,
                   cudaStream_t stream) {
  const std::int64_t image_rows = g.ho * g.wo, image_floats = g.s.h * g.s.w * g.s.c;
  const std::int64_t first = r0 / image_rows * image_floats;
  const std::int64_t end = ((r0 + m - 1) / image_rows + 1) * image_floats;
  return with_index_type(g.small(), [&](auto index) {
    using I = decltype(index);
    col2im_kernel<I><<<grid_for(end - first), kBlock, 0, stream>>>(dx, dcols, ConvIndex<I>(g), static_cast<I>(r0),
                                                                   static_cast<I>(r0 + m), static_cast<I>(first),
                                                                   static_cast<I>(end));
    return cudaGetLastError();
  });
}

// How conv2d_backward splits its work, and its workspace: `cols` floats for
// a chunk of patches (then their gradients), `dz` for act'(saved) * dy, and
// `partials` for the parts of the split dw GEMM.
struct BackwardPlan {
  std::int64_t slice = 0;  // rows per part of the dw GEMM
  std::int64_t cols = 0, dz = 0, partials = 0;
  std::int64_t floats() const { return cols + dz + partials; }
};

BackwardPlan backward_plan(const Geometry& g, bool want_dx, bool want_dw, Activation act) {
  BackwardPlan plan;
  if (g.rows == 0 || g.s.k == 0) return plan;  // gradients are zeros or empty
  const std::int64_t dw_floats = g.kdim * g.s.k;
  if (want_dw && dw_floats > 0) {
    const std::int64_t tiles = ceil_div(g.kdim, kGemmTile) * ceil_div(g.s.k, kGemmTile);
    std::int64_t parts = std::min(ceil_div(kTargetBlocks, tiles), ceil_div(g.chunk, kMinSliceRows));
    parts = std::max<std::int64_t>(1, std::min(parts, kMaxPartialFloats / dw_floats));
    plan.slice = ceil_div(g.chunk, parts);
    const std::int64_t max_parts = ceil_div(g.chunk, plan.slice);
    // One part in one chunk goes straight into dw; otherwise parts are summed.
    const bool one_gemm = max_parts == 1 && g.chunk >= g.rows;
    plan.partials = one_gemm ? 0 : max_parts * dw_floats;
  }
  if (!g.direct && g.kdim > 0 && (want_dx || want_dw)) plan.cols = g.chunk * g.kdim;
  if (act != Activation::none) plan.dz = g.rows * g.s.k;
  return plan;
}

// dw (kdim,k) = [dw +] patches^T (kdim,m) @ dz (m,k), patches (m,kdim) and dz
// contiguous. The m rows are split into parts of `slice` rows: the whole
// parts as one batched GEMM, the rest as one more, into partials, then summed.
cudaError_t weight_gradient(float* dw, float* partials, const float* patches, const float* dz, std::int64_t m,
                            std::int64_t kdim, std::int64_t k, std::int64_t slice, bool accumulate,
                            cudaStream_t stream) {
  const std::int64_t whole = m / slice, rest = m % slice, parts = whole + (rest > 0 ? 1 : 0);
  const MatrixView patches_t = MatrixView{patches, kdim, 1}.transposed();
  const MatrixView dz_m = {dz, k, 1};
  if (parts == 1 && !accumulate) return gemm({dw, patches_t, 0, dz_m, 0, 1, kdim, k, m, {}}, stream);
  if (whole > 0) {
    // part t: rows [t*slice, (t+1)*slice) -> partials + t*kdim*k
    const cudaError_t err =
        gemm({partials, patches_t, slice * kdim, dz_m, slice * k, whole, kdim, k, slice, {}}, stream);
    if (err != cudaSuccess) return err;
  }
  if (rest > 0) {
    const std::int64_t r = whole * slice;
    const MatrixView rest_t = MatrixView{patches + r * kdim, kdim, 1}.transposed();
    const cudaError_t err =
        gemm({partials + whole * kdim * k, rest_t, 0, {dz + r * k, k, 1}, 0, 1, kdim, k, rest, {}}, stream);
    if (err != cudaSuccess) return err;
  }
  const std::int64_t size = kdim * k;
  sum_parts_kernel<<<grid_for(size), kBlock, 0, stream>>>(dw, partials, parts, size, accumulate);
  return cudaGetLastError();
}

}  // namespace

std::int64_t conv2d_workspace(const Conv2dShape& s) {
  const Geometry g(s);
  return g.direct || g.rows == 0 || s.k == 0 ? 0 : g.chunk * g.kdim;
}

cudaError_t conv2d(float* y, const float* x, const float* w, const float* b, const Conv2dShape& s, Activation act,
                   float* workspace, cudaStream_t stream) {
  const Geometry g(s);
  if (g.rows == 0 || s.k == 0) return cudaSuccess;
  Epilogue epilogue;
  epilogue.bias = b;
  epilogue.act = act;
  const MatrixView wm = {w, s.k, 1};
  if (g.direct) {
    // x (rows, C) @ w (C, K) -> y (rows, K)
    return gemm({y, {x, s.c, 1}, 0, wm, 0, 1, g.rows, s.k, g.kdim, epilogue}, stream);
  }
  for (std::int64_t r0 = 0; r0 < g.rows; r0 += g.chunk) {
    const std::int64_t m = std::min(g.chunk, g.rows - r0);
    cudaError_t err = im2col(g, x, workspace, r0, m, stream);
    if (err != cudaSuccess) return err;
    // cols (m, kdim) @ w (kdim, K) -> y rows [r0, r0 + m)
    err = gemm({y + r0 * s.k, {workspace, g.kdim, 1}, 0, wm, 0, 1, m, s.k, g.kdim, epilogue}, stream);
    if (err != cudaSuccess) return err;
  }
  return cudaSuccess;
}

std::int64_t conv2d_backward_workspace(const Conv2dShape& s, bool want_dx, bool want_dw, Activation act) {
  return backward_plan(Geometry(s), want_dx, want_dw, act).floats();
}

cudaError_t conv2d_backward(float* dx, float* dw, float* db, const float* dy, const float* saved, const float* x,
                            const float* w, const Conv2dShape& s, Activation act, float* workspace,
                            cudaStream_t stream) {
  const Geometry g(s);
  const std::int64_t k = s.k, kdim = g.kdim;
  if (g.rows == 0 || k == 0) {
    // Sums over no rows, or no filters: every gradient is zero (or empty).
    cudaError_t err = zero(dx, g.x_floats(), stream);
    if (err == cudaSuccess) err = zero(dw, kdim * k, stream);
    return err == cudaSuccess ? zero(db, k, stream) : err;
  }
  const BackwardPlan plan = backward_plan(g, dx != nullptr, dw != nullptr, act);
  float* cols = workspace;  // the patches, then their gradients
  float* dz_buf = cols + plan.cols;
  float* partials = dz_buf + plan.dz;

  const float* dz = dy;
  if (act != Activation::none && (dx != nullptr || dw != nullptr || db != nullptr)) {
    // dy (rows, K), saved (rows, K) -> dz (rows, K)
    const cudaError_t err = activation_backward(act, default_params(act), dz_buf, dy, saved, g.rows * k, stream);
    if (err != cudaSuccess) return err;
    dz = dz_buf;
  }
  if (db != nullptr) {
    const cudaError_t err = column_sum(db, dz, g.rows, k, stream);  // dz (rows, K) -> db (K,)
    if (err != cudaSuccess) return err;
  }
  // With C = 0, dx (N,H,W,0) and dw (KH,KW,0,K) are empty.
  const bool want_dx = dx != nullptr && kdim > 0, want_dw = dw != nullptr && kdim > 0;
  if (!want_dx && !want_dw) return cudaSuccess;
  if (want_dx && !g.direct) {
    const cudaError_t err = zero(dx, g.x_floats(), stream);  // col2im adds to it
    if (err != cudaSuccess) return err;
  }
  const MatrixView wt = MatrixView{w, k, 1}.transposed();  // (K, kdim)
  for (std::int64_t r0 = 0; r0 < g.rows; r0 += g.chunk) {
    const std::int64_t m = std::min(g.chunk, g.rows - r0);
    const float* dz_rows = dz + r0 * k;
    if (want_dw) {
      const float* patches = x + r0 * s.c;  // direct: the rows of x
      if (!g.direct) {
        const cudaError_t err = im2col(g, x, cols, r0, m, stream);
        if (err != cudaSuccess) return err;
        patches = cols;
      }
      const cudaError_t err = weight_gradient(dw, partials, patches, dz_rows, m, kdim, k, plan.slice, r0 > 0, stream);
      if (err != cudaSuccess) return err;
    }
    if (want_dx) {
      // dz (m, K) @ w^T (K, kdim) -> the patch gradients: dx itself when direct
      float* dpatches = g.direct ? dx + r0 * s.c : cols;
      cudaError_t err = gemm({dpatches, {dz_rows, k, 1}, 0, wt, 0, 1, m, kdim, k, {}}, stream);
      if (err == cudaSuccess && !g.direct) err = col2im(g, cols, dx, r0, m, stream);
      if (err != cudaSuccess) return err;
    }
  }
  return cudaSuccess;
}

std::int64_t conv2d_transpose_workspace(const Conv2dShape& s) {
  return conv2d_backward_workspace(s, true, false, Activation::none);
}

cudaError_t conv2d_transpose(float* y, const float* x, const float* w, const float* b, const Conv2dShape& s,
                             float* workspace, cudaStream_t stream) {
  cudaError_t err =
      conv2d_backward(y, nullptr, nullptr, x, nullptr, nullptr, w, s, Activation::none, workspace, stream);
  const std::int64_t rows = s.n * s.h * s.w;
  if (err != cudaSuccess || b == nullptr || rows * s.c == 0) return err;
  add_bias_kernel<<<grid_for(rows * s.c), kBlock, 0, stream>>>(y, b, rows, s.c);
  return cudaGetLastError();
}

std::int64_t conv2d_transpose_backward_workspace(const Conv2dShape& s) {
  return std::max(conv2d_workspace(s), conv2d_backward_workspace(s, false, true, Activation::none));
}

cudaError_t conv2d_transpose_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w,
                                      const Conv2dShape& s, float* workspace, cudaStream_t stream) {
  cudaError_t err = cudaSuccess;
  if (dx != nullptr) err = conv2d(dx, dy, w, nullptr, s, Activation::none, workspace, stream);
  if (err == cudaSuccess && dw != nullptr)
    err = conv2d_backward(nullptr, dw, nullptr, x, nullptr, dy, w, s, Activation::none, workspace, stream);
  if (err != cudaSuccess || db == nullptr) return err;
  const std::int64_t rows = s.n * s.h * s.w;
  if (rows == 0) return zero(db, s.c, stream);
  return column_sum(db, dy, rows, s.c, stream);  // dy (rows, F) -> db (F,)
}

}  // namespace ranvier::cuda
