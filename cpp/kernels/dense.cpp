// The dense layer: forward is one GEMM with the bias and activation fused into
// its store; backward is the activation's derivative, two GEMMs and a column sum.
#include <algorithm>
#include <cstring>

#include "column_sums.h"
#include "ranvier/gemm.h"
#include "ranvier/runtime.h"

namespace ranvier::cpu {

void linear(float* y, MatrixView x, MatrixView w, const float* b, std::int64_t rows, std::int64_t in, std::int64_t out,
            Activation act) {
  Epilogue epilogue;
  epilogue.bias = b;
  epilogue.act = act;
  gemm(y, out, x, w, rows, out, in, epilogue);
}

namespace {

// db (out,) = sum over rows of dz (rows, out); threads split the columns.
void column_sum(float* db, const float* dz, std::int64_t rows, std::int64_t out) {
  parallel_for(out, std::max<std::int64_t>(64, (1 << 16) / std::max<std::int64_t>(1, rows)),
               [&](std::int64_t begin, std::int64_t end) {
                 std::memset(db + begin, 0, (end - begin) * sizeof(float));
                 add_column_sums(db, dz, rows, out, begin, end);
               });
}

}  // namespace

void linear_backward(float* dx, float* dw, float* db, const float* dy, const float* saved, MatrixView x, MatrixView w,
                     std::int64_t rows, std::int64_t in, std::int64_t out, Activation act) {
  // A narrow layer's dw (10 classes, say) is a narrow product, which gemm
  // computes transposed by itself.
  const float* dz = dy;
  if (act != Activation::none) {
    // Slot 2: slots 0 and 1 belong to the GEMM's packing on this thread.
    float* buf = scratch(ScratchSlot::dense, static_cast<std::size_t>(rows * out));
    activation_backward(act, buf, dy, saved, rows * out);
    dz = buf;
  }
  const MatrixView dz_view = {dz, out, 1};
  if (dx != nullptr) gemm(dx, in, dz_view, w.transposed(), rows, in, out);
  if (dw != nullptr) gemm(dw, out, x.transposed(), dz_view, in, out, rows);
  if (db != nullptr) column_sum(db, dz, rows, out);
}

}  // namespace ranvier::cpu
