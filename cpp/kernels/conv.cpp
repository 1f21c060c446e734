// Convolution as im2col + GEMM, or directly for images with few channels.
//
// GEMM rows are output positions r = (n, oh, ow); the patch matrix `cols`
// (rows, KH*KW*C) holds in row r the input pixels that output r sees, in
// (i, j, c) order, the order of w's HWIO layout, so w is already the
// (KH*KW*C, K) matrix and y (N*HO*WO, K) is the GEMM's output. The patch
// matrix is built a chunk of rows at a time in scratch, never in full.
//
// Threads: the rows are split into parts, one per thread, each with its own
// chunk buffer, running serial GEMMs (a GEMM inside a parallel region runs on
// its thread). With a single part the GEMMs thread themselves.
//
// At most kDirectMaxChannels input channels (a CNN's first layer), the GEMM's
// depth KH*KW*C is a handful of steps and building patches costs more than the
// product: the direct kernels (conv_direct_simd.cpp) run instead, reading x
// and dz in place (dw through small patch chunks unless its sums fit in
// registers).
#include "ranvier/conv.h"

#include <algorithm>
#include <cstring>

#include "column_sums.h"
#include "conv_direct_kernels.h"
#include "ranvier/gemm.h"
#include "ranvier/index_math.h"
#include "ranvier/runtime.h"

namespace ranvier::cpu {

namespace {

constexpr ScratchSlot kScratchSlot = ScratchSlot::conv;
// Floats of patch matrix per chunk (256 KB, so that a chunk written by im2col
// is still in L2 when its GEMM reads it; 2 MB measured 10-15% slower: figures
// in results/MEASUREMENTS.md), but at least kMinChunkRows rows, so that the
// GEMM of a chunk of wide patches is not too thin.
constexpr std::int64_t kChunkFloats = std::int64_t{1} << 16;
constexpr std::int64_t kMinChunkRows = 128;
// Patch entries per thread below which im2col runs on one thread.
constexpr std::int64_t kIm2colGrain = std::int64_t{1} << 15;
// A part below this many rows makes too thin a GEMM to be worth a thread.
constexpr std::int64_t kMinPartRows = 64;
// Below this many multiply-adds, waking the pool costs more than it saves.
constexpr std::int64_t kMinParallelMacs = std::int64_t{1} << 18;
// Backward gives each extra part its own dw to sum at the end; above this
// size the copies cost too much, and one part with threaded GEMMs (which
// split dw's tiles between threads) is used instead.
constexpr std::int64_t kMaxPartialFloats = std::int64_t{1} << 18;

// Input channels up to which the direct kernels beat im2col + GEMM, forward
// and backward (figures: results/MEASUREMENTS.md).
constexpr std::int64_t kDirectMaxChannels = 3;
// Multiply-adds per thread below which a direct kernel runs on one thread:
// at a few multiply-adds per load, waking the pool costs about as much as
// 2^20 of them.
constexpr std::int64_t kDirectGrainMacs = std::int64_t{1} << 20;
// Patch rows per chunk of the direct backward's dw (the chunk's dz stays in L1).
constexpr std::int64_t kDirectChunkRows = 256;

struct Geometry : ConvGeometry {
  using ConvGeometry::ConvGeometry;

  bool few_channels() const { return !direct && s.c <= kDirectMaxChannels; }
  // Rows of work per thread chunk for a direct kernel doing `macs` per row.
  std::int64_t direct_grain(std::int64_t macs) const {
    return std::max<std::int64_t>(1, kDirectGrainMacs / std::max<std::int64_t>(1, macs));
  }
};

// Rows of the patch matrix built at a time when `parts` threads share the rows.
std::int64_t chunk_rows(const Geometry& g, std::int64_t parts) {
  const std::int64_t by_budget = std::max(kMinChunkRows, kChunkFloats / std::max<std::int64_t>(1, g.kdim));
  return std::max<std::int64_t>(1, std::min(by_budget, ceil_div(g.rows, parts)));
}

// Walks the patches of output rows [r0, r1), whose patch-matrix rows start at
// offset 0. Each run of patch entries that reads the input gets
// inside(patch_offset, x_offset, length); each run in the padding gets
// outside(patch_offset, length). im2col copies (and zeroes) through it, col2im
// adds back through it.
template <class Inside, class Outside>
void walk_patches(const Geometry& g, std::int64_t r0, std::int64_t r1, Inside inside, Outside outside) {
  // Sizes in locals: the callbacks write through pointers that may alias
  // anything (memcpy), which would otherwise reload every size per run.
  const std::int64_t h = g.s.h, w = g.s.w, c = g.s.c, kh = g.s.kh, kw = g.s.kw;
  const std::int64_t sh = g.s.stride_h, sw = g.s.stride_w, dh = g.s.dilation_h, dw = g.s.dilation_w;
  const std::int64_t pad_top = g.s.pad_top, pad_left = g.s.pad_left;
  const std::int64_t ho = g.ho, wo = g.wo, kwc = kw * c;
  std::int64_t n = r0 / (ho * wo), oh = r0 / wo % ho, ow = r0 % wo;
  // p runs through the patch rows: kh runs of kw*c entries each.
  for (std::int64_t r = r0, p = 0; r < r1; ++r) {
    const std::int64_t ih0 = oh * sh - pad_top, iw0 = ow * sw - pad_left;
    // Kernel columns j in [j0, j1) land inside the image: 0 <= iw0 + j*dw < W
    // (no division away from the left and right borders).
    const std::int64_t j0 = iw0 >= 0 ? 0 : std::min(kw, ceil_div(-iw0, dw));
    const std::int64_t j1 = iw0 + (kw - 1) * dw < w ? kw : iw0 >= w ? j0 : std::max(j0, ceil_div(w - iw0, dw));
    for (std::int64_t i = 0; i < kh; ++i, p += kwc) {
      const std::int64_t ih = ih0 + i * dh;
      if (ih < 0 || ih >= h || j0 == j1) {
        outside(p, kwc);
        continue;
      }
      // Offset of (n, ih, iw0) in x; iw0 may be negative, only j in [j0, j1) is read.
      const std::int64_t x_row = ((n * h + ih) * w + iw0) * c;
      if (j0 > 0) outside(p, j0 * c);
      if (dw == 1) {
        inside(p + j0 * c, x_row + j0 * c, (j1 - j0) * c);  // one contiguous run
      } else {
        for (std::int64_t j = j0; j < j1; ++j) inside(p + j * c, x_row + j * dw * c, c);
      }
      if (j1 < kw) outside(p + j1 * c, (kw - j1) * c);
    }
    if (++ow == wo) {
      ow = 0;
      if (++oh == ho) oh = 0, ++n;
    }
  }
}

// x -> cols (r1 - r0, kdim): the patches of output rows [r0, r1). Threads
// split the rows (inline when called from a part already on its own thread).
void im2col(const Geometry& g, const float* x, float* cols, std::int64_t r0, std::int64_t r1) {
  const std::int64_t grain = std::max<std::int64_t>(1, kIm2colGrain / std::max<std::int64_t>(1, g.kdim));
  parallel_for(r1 - r0, grain, [&](std::int64_t begin, std::int64_t end) {
    float* dst = cols + begin * g.kdim;
    walk_patches(
        g, r0 + begin, r0 + end,
        [&](std::int64_t p, std::int64_t xo, std::int64_t len) { std::memcpy(dst + p, x + xo, len * sizeof(float)); },
        [&](std::int64_t p, std::int64_t len) { std::memset(dst + p, 0, len * sizeof(float)); });
  });
}

// dx += the patch gradients dcols (r1 - r0, kdim), each added back to the
// pixels its patch was read from. Callers give each thread whole images, so no
// two threads add to the same pixel.
void col2im(const Geometry& g, const float* dcols, float* dx, std::int64_t r0, std::int64_t r1) {
  walk_patches(
      g, r0, r1,
      [&](std::int64_t p, std::int64_t xo, std::int64_t len) {
        float* dst = dx + xo;
        const float* src = dcols + p;
        for (std::int64_t t = 0; t < len; ++t) dst[t] += src[t];
      },
      [](std::int64_t, std::int64_t) {});
}

// Runs part(p) for p in [0, parts): on the calling thread when there is one
// part (so its GEMMs may use the pool), else one part per thread.
template <class Part>
void run_parts(std::int64_t parts, const Part& part) {
  if (parts == 1) {
    part(0);
    return;
  }
  parallel_for(parts, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) part(p);
  });
}

bool worth_threads(const Geometry& g) { return num_threads() > 1 && g.rows * g.kdim * g.s.k >= kMinParallelMacs; }

// Where part p of a backward sums its dw and db, zeroed: dw and db
// themselves for part 0 (null stays null), its `partial` buffer (kdim * K
// floats of dw, then K of db) for the others, added by add_partials.
struct PartSums {
  float* dw;
  float* db;
};

PartSums zeroed_part_sums(float* dw, float* db, std::int64_t p, float* partial, std::int64_t kdim, std::int64_t k) {
  PartSums sums = {dw == nullptr ? nullptr
                   : p == 0      ? dw
                                 : partial,
                   db == nullptr ? nullptr
                   : p == 0      ? db
                                 : partial + kdim * k};
  if (sums.dw != nullptr) std::memset(sums.dw, 0, static_cast<std::size_t>(kdim * k) * sizeof(float));
  if (sums.db != nullptr) std::memset(sums.db, 0, static_cast<std::size_t>(k) * sizeof(float));
  return sums;
}

// dw (kdim, K) and db (K,) += the partial sums of parts 1..parts-1, each at
// partial(p): kdim * K floats of dw, then K of db.
template <class Partial>
void add_partials(float* dw, float* db, std::int64_t parts, std::int64_t kdim, std::int64_t k, const Partial& partial) {
  for (std::int64_t p = 1; p < parts; ++p) {
    const float* part = partial(p);
    if (dw != nullptr) {
      parallel_for(kdim * k, 1 << 14, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) dw[i] += part[i];
      });
    }
    if (db != nullptr) add_column_sums(db, part + kdim * k, 1, k, 0, k);
  }
}

// conv2d_backward for few input channels, an image at a time so that its dz
// (the activation's derivative applied) is read from memory once and then
// from cache by db, dw (in registers, or from patches a chunk of rows at a
// time) and dx (gathered pixel by pixel). Threads split the images, each part
// after the first with its own dw and db, added at the end.
void few_channels_backward(const Geometry& g, float* dx, float* dw, float* db, const float* dy, const float* saved,
                           const float* x, const float* w, Activation act) {
  const Conv2dShape& s = g.s;
  const ConvDirectKernels& kernels = RANVIER_ISA_TABLE(conv_direct_kernels);
  const std::int64_t k = s.k, kdim = g.kdim;
  const std::int64_t image_rows = g.ho * g.wo, image_pixels = s.h * s.w;
  const std::int64_t parts =
      std::max<std::int64_t>(1, std::min<std::int64_t>({g.rows * kdim * k / kDirectGrainMacs, num_threads(), s.n}));
  const std::int64_t chunk = std::min(kDirectChunkRows, image_rows);
  const std::int64_t dz_floats = act == Activation::none ? 0 : image_rows * k;
  const std::int64_t part_floats = dz_floats + chunk * kdim + kdim * k + k;
  float* buffers = scratch(kScratchSlot, static_cast<std::size_t>(parts * part_floats));
  Conv2dShape one = s;  // the shape of a single image
  one.n = 1;
  const Geometry image(one);

  run_parts(parts, [&](std::int64_t p) {
    float* dz_buf = buffers + p * part_floats;
    float* cols = dz_buf + dz_floats;
    float* partial = cols + chunk * kdim;
    const PartSums sums = zeroed_part_sums(dw, db, p, partial, kdim, k);
    float* dw_p = sums.dw;
    float* db_p = sums.db;
    for (std::int64_t n = s.n * p / parts; n < s.n * (p + 1) / parts; ++n) {
      const float* dz = dy + n * image_rows * k;
      if (act != Activation::none) {
        activation_backward(act, dz_buf, dz, saved + n * image_rows * k, image_rows * k);
        dz = dz_buf;
      }
      for (std::int64_t r0 = 0; r0 < image_rows; r0 += chunk) {
        const std::int64_t r1 = std::min(r0 + chunk, image_rows);
        if (db_p != nullptr) add_column_sums(db_p, dz + r0 * k, r1 - r0, k, 0, k);
        if (dw_p == nullptr) continue;  // x may be null then (conv2d_transpose)
        const float* x_image = x + n * image_pixels * s.c;
        if (!kernels.backward_weights_in_registers(dw_p, x_image, dz, one, r0, r1)) {
          im2col(image, x_image, cols, r0, r1);
          kernels.backward_weights_patches(dw_p, cols, dz + r0 * k, r1 - r0, kdim, k);
        }
      }
      if (dx != nullptr) kernels.backward_input(dx + n * image_pixels * s.c, dz, w, one, 0, image_pixels);
    }
  });
  add_partials(dw, db, parts, kdim, k,
               [&](std::int64_t p) { return buffers + p * part_floats + dz_floats + chunk * kdim; });
}

}  // namespace

void conv2d(float* y, const float* x, const float* w, const float* b, const Conv2dShape& s, Activation act) {
  const Geometry g(s);
  if (g.rows == 0 || s.k == 0) return;
  Epilogue epilogue;
  epilogue.bias = b;
  epilogue.act = act;
  const MatrixView wm = {w, s.k, 1};
  if (g.direct) {
    gemm(y, s.k, {x, s.c, 1}, wm, g.rows, s.k, g.kdim, epilogue);
    return;
  }
  if (g.few_channels()) {
    const ConvDirectKernels& kernels = RANVIER_ISA_TABLE(conv_direct_kernels);
    parallel_for(g.rows, g.direct_grain(g.kdim * s.k),
                 [&](std::int64_t begin, std::int64_t end) { kernels.forward(y, x, w, b, s, act, begin, end); });
    return;
  }
  const std::int64_t parts = worth_threads(g) ? std::clamp<std::int64_t>(g.rows / kMinPartRows, 1, num_threads()) : 1;
  const std::int64_t chunk = chunk_rows(g, parts);
  // w packed once for the GEMMs of every chunk.
  const std::int64_t packed_floats = packed_b_floats(g.kdim, s.k);
  float* buffers = scratch(kScratchSlot, static_cast<std::size_t>(packed_floats + parts * chunk * g.kdim));
  float* packed_w = buffers + parts * chunk * g.kdim;
  pack_b_for_gemm(packed_w, wm, g.kdim, s.k);
  run_parts(parts, [&](std::int64_t p) {
    float* cols = buffers + p * chunk * g.kdim;
    const std::int64_t end = g.rows * (p + 1) / parts;
    for (std::int64_t r0 = g.rows * p / parts; r0 < end; r0 += chunk) {
      const std::int64_t r1 = std::min(r0 + chunk, end);
      im2col(g, x, cols, r0, r1);
      gemm_packed_b(y + r0 * s.k, s.k, {cols, g.kdim, 1}, packed_w, r1 - r0, s.k, g.kdim, epilogue);
    }
  });
}

void conv2d_backward(float* dx, float* dw, float* db, const float* dy, const float* saved, const float* x,
                     const float* w, const Conv2dShape& s, Activation act) {
  const Geometry g(s);
  if (g.few_channels()) {
    few_channels_backward(g, dx, dw, db, dy, saved, x, w, act);
    return;
  }
  const std::int64_t k = s.k, kdim = g.kdim;
  const std::int64_t image_rows = g.ho * g.wo, image_floats = s.h * s.w * s.c;
  // Parts own whole images (col2im of two parts never meets) and, beyond the
  // first, their own dw and db, summed at the end.
  const std::int64_t partial_floats = kdim * k + k;
  const bool split_images = worth_threads(g) && s.n >= num_threads() && partial_floats <= kMaxPartialFloats;
  const std::int64_t parts = split_images ? num_threads() : 1;
  const std::int64_t chunk = chunk_rows(g, parts);
  const bool want_params = dw != nullptr || db != nullptr;
  const std::int64_t cols_floats = g.direct || (dw == nullptr && dx == nullptr) ? 0 : chunk * kdim;
  const std::int64_t dz_floats = act == Activation::none ? 0 : chunk * k;
  const std::int64_t part_floats = cols_floats + dz_floats + (want_params ? partial_floats : 0);
  // w^T, the right operand of every chunk's dx product, packed once.
  const std::int64_t packed_floats = dx != nullptr ? packed_b_floats(k, kdim) : 0;
  float* buffers = scratch(kScratchSlot, static_cast<std::size_t>(parts * part_floats + packed_floats));
  float* packed_wt = buffers + parts * part_floats;
  if (dx != nullptr) pack_b_for_gemm(packed_wt, MatrixView{w, k, 1}.transposed(), k, kdim);

  run_parts(parts, [&](std::int64_t p) {
    float* cols = buffers + p * part_floats;  // the patches, then their gradients
    float* dz_buf = cols + cols_floats;
    float* partial = dz_buf + dz_floats;
    const PartSums sums = zeroed_part_sums(dw, db, p, partial, kdim, k);
    float* dw_p = sums.dw;
    float* db_p = sums.db;

    const std::int64_t n0 = s.n * p / parts, n1 = s.n * (p + 1) / parts;
    if (dx != nullptr && !g.direct) std::memset(dx + n0 * image_floats, 0, (n1 - n0) * image_floats * sizeof(float));
    for (std::int64_t r0 = n0 * image_rows; r0 < n1 * image_rows; r0 += chunk) {
      const std::int64_t r1 = std::min(r0 + chunk, n1 * image_rows), m = r1 - r0;
      const float* dz = dy + r0 * k;
      if (act != Activation::none) {
        activation_backward(act, dz_buf, dz, saved + r0 * k, m * k);
        dz = dz_buf;
      }
      const MatrixView dzm = {dz, k, 1};
      if (db_p != nullptr) add_column_sums(db_p, dz, m, k, 0, k);
      if (dw_p != nullptr) {
        const float* patches = x + r0 * s.c;
        if (!g.direct) {
          im2col(g, x, cols, r0, r1);
          patches = cols;
        }
        gemm(dw_p, k, MatrixView{patches, kdim, 1}.transposed(), dzm, kdim, k, m, {}, true);
      }
      if (dx != nullptr) {
        if (g.direct) {
          gemm_packed_b(dx + r0 * s.c, s.c, dzm, packed_wt, m, kdim, k);
        } else {
          gemm_packed_b(cols, kdim, dzm, packed_wt, m, kdim, k);
          col2im(g, cols, dx, r0, r1);
        }
      }
    }
  });

  // Sum the other parts' dw and db into the first's.
  if (!want_params) return;
  add_partials(dw, db, parts, kdim, k,
               [&](std::int64_t p) { return buffers + p * part_floats + cols_floats + dz_floats; });
}

void conv2d_transpose(float* y, const float* x, const float* w, const float* b, const Conv2dShape& s) {
  conv2d_backward(y, nullptr, nullptr, x, nullptr, nullptr, w, s, Activation::none);
  if (b == nullptr) return;
  const std::int64_t pixels = s.n * s.h * s.w, f = s.c;
  parallel_for(pixels, std::max<std::int64_t>(1, kIm2colGrain / std::max<std::int64_t>(1, f)),
               [&](std::int64_t begin, std::int64_t end) {
                 for (std::int64_t p = begin; p < end; ++p)
                   for (std::int64_t i = 0; i < f; ++i) y[p * f + i] += b[i];
               });
}

void conv2d_transpose_backward(float* dx, float* dw, float* db, const float* dy, const float* x, const float* w,
                               const Conv2dShape& s) {
  if (dx != nullptr) conv2d(dx, dy, w, nullptr, s, Activation::none);
  if (dw != nullptr) conv2d_backward(nullptr, dw, nullptr, x, nullptr, dy, w, s, Activation::none);
  if (db != nullptr) {
    std::memset(db, 0, static_cast<std::size_t>(s.c) * sizeof(float));
    add_column_sums(db, dy, s.n * s.h * s.w, s.c, 0, s.c);
  }
}

}  // namespace ranvier::cpu
