// softmax, log_softmax, their backward, and softmax_cross_entropy: rows of a
// contiguous float32 array (the ops move the softmax axis last).
#include <string>

#include "array_args.h"
#include "loss_args.h"
#include "ranvier/softmax.h"

namespace ranvier::bindings {

namespace {

using IndexArray = NdArray<std::int64_t>;

// (rows, n) of an array seen as rows along its last axis.
std::pair<std::int64_t, std::int64_t> rows_of(const char* op, const ArrayView& a) {
  if (a.ndim() < 1) fail(op, "x must have at least one axis");
  const std::int64_t n = a.shape(a.ndim() - 1);
  return {n == 0 ? 0 : a.size() / n, n};
}

void same_shape(const char* op, const char* name, const ArrayView& a, const char* other, const ArrayView& b) {
  bool ok = a.ndim() == b.ndim();
  for (py::ssize_t i = 0; ok && i < a.ndim(); ++i) ok = a.shape(i) == b.shape(i);
  if (!ok) fail(op, std::string(name) + " " + shape_str(a) + " and " + other + " " + shape_str(b) + " must have the same shape");
}

template <void (*kernel)(float*, const float*, std::int64_t, std::int64_t)>
void rows_forward(const char* op, Array y, const Array& x) {
  same_shape(op, "y", y, "x", x);
  auto [rows, n] = rows_of(op, x);
  const float* xp = contiguous_in(op, "x", x);
  float* yp = contiguous_out(op, "y", y);
  py::gil_scoped_release release;
  kernel(yp, xp, rows, n);
}

template <void (*kernel)(float*, const float*, const float*, std::int64_t, std::int64_t)>
void rows_backward(const char* op, Array dx, const Array& dy, const Array& y) {
  same_shape(op, "dy", dy, "y", y);
  same_shape(op, "dx", dx, "y", y);
  auto [rows, n] = rows_of(op, y);
  const float* dyp = contiguous_in(op, "dy", dy);
  const float* yp = contiguous_in(op, "y", y);
  float* dxp = contiguous_out(op, "dx", dx);
  py::gil_scoped_release release;
  kernel(dxp, dyp, yp, rows, n);
}

// logits (N, C) with C >= 1; returns (N, C).
std::pair<std::int64_t, std::int64_t> logits_shape(const char* op, const Array& logits) {
  check_rank(op, "logits", logits, 2);
  if (logits.shape(1) < 1) fail(op, "logits must have at least one class, got shape " + shape_str(logits));
  return {logits.shape(0), logits.shape(1)};
}

cpu::Labels index_labels(const char* op, const IndexArray& labels, std::int64_t n, std::int64_t c) {
  check_shape(op, "labels", labels, {n});
  if (!is_c_contiguous(labels)) fail(op, "labels must be C-contiguous");
  const std::int64_t* p = labels.data();
  for (std::int64_t i = 0; i < n; ++i)
    if (p[i] < 0 || p[i] >= c)
      fail(op, "labels must be class indices in [0, " + std::to_string(c) + "), got " + std::to_string(p[i]) +
                   " at position " + std::to_string(i));
  cpu::Labels l;
  l.index = p;
  return l;
}

cpu::Labels prob_labels(const char* op, const Array& labels, std::int64_t n, std::int64_t c) {
  check_shape(op, "labels", labels, {n, c});
  cpu::Labels l;
  l.prob = contiguous_in(op, "labels", labels);
  return l;
}

void cross_entropy(Array loss, const Array& logits, cpu::Labels labels, std::int64_t n, std::int64_t c,
                   Reduction reduction) {
  const char* op = "softmax_cross_entropy";
  check_shape(op, "loss", loss, {reduction == Reduction::none ? n : 1});
  const float* lp = contiguous_in(op, "logits", logits);
  float* outp = contiguous_out(op, "loss", loss);
  py::gil_scoped_release release;
  cpu::softmax_cross_entropy(outp, lp, labels, n, c, reduction);
}

void cross_entropy_backward(Array dlogits, const Array& logits, cpu::Labels labels, const OptionalArray& dloss,
                            float scale, std::int64_t n, std::int64_t c) {
  const char* op = "softmax_cross_entropy_backward";
  check_shape(op, "dlogits", dlogits, {n, c});
  const float* dlp = dloss_arg(op, dloss, n);
  const float* lp = contiguous_in(op, "logits", logits);
  float* outp = contiguous_out(op, "dlogits", dlogits);
  py::gil_scoped_release release;
  cpu::softmax_cross_entropy_backward(outp, lp, labels, dlp, scale, n, c);
}

}  // namespace

void bind_softmax(py::module_& m) {
  m.def("softmax", [](Array y, const Array& x) { rows_forward<cpu::softmax>("softmax", y, x); },
        py::arg("y").noconvert(), py::arg("x").noconvert(), "y = softmax of each row (last axis) of x");
  m.def("log_softmax", [](Array y, const Array& x) { rows_forward<cpu::log_softmax>("log_softmax", y, x); },
        py::arg("y").noconvert(), py::arg("x").noconvert(), "y = log_softmax of each row (last axis) of x");
  m.def("softmax_backward",
        [](Array dx, const Array& dy, const Array& y) {
          rows_backward<cpu::softmax_backward>("softmax_backward", dx, dy, y);
        },
        py::arg("dx").noconvert(), py::arg("dy").noconvert(), py::arg("y").noconvert(),
        "dx = y (dy - sum(dy y)) per row, y = softmax(x)");
  m.def("log_softmax_backward",
        [](Array dx, const Array& dy, const Array& y) {
          rows_backward<cpu::log_softmax_backward>("log_softmax_backward", dx, dy, y);
        },
        py::arg("dx").noconvert(), py::arg("dy").noconvert(), py::arg("y").noconvert(),
        "dx = dy - exp(y) sum(dy) per row, y = log_softmax(x)");

  // Two overloads each: labels int64 (N,) class indices, or float32 (N, C) probabilities.
  const char* ce_doc = "loss (N,) for reduction none, else (1,), of logits (N, C) against labels";
  m.def("softmax_cross_entropy",
        [](Array loss, const Array& logits, const IndexArray& labels, const std::string& reduction) {
          const char* op = "softmax_cross_entropy";
          auto [n, c] = logits_shape(op, logits);
          cross_entropy(loss, logits, index_labels(op, labels, n, c), n, c, reduction_arg(op, reduction));
        },
        py::arg("loss").noconvert(), py::arg("logits").noconvert(), py::arg("labels").noconvert(),
        py::arg("reduction"), ce_doc);
  m.def("softmax_cross_entropy",
        [](Array loss, const Array& logits, const Array& labels, const std::string& reduction) {
          const char* op = "softmax_cross_entropy";
          auto [n, c] = logits_shape(op, logits);
          cross_entropy(loss, logits, prob_labels(op, labels, n, c), n, c, reduction_arg(op, reduction));
        },
        py::arg("loss").noconvert(), py::arg("logits").noconvert(), py::arg("labels").noconvert(),
        py::arg("reduction"), ce_doc);
  const char* ce_backward_doc =
      "dlogits (N, C) = (softmax(logits) sum(t) - t) * scale * dloss (N,) (dloss None: 1)";
  m.def("softmax_cross_entropy_backward",
        [](Array dlogits, const Array& logits, const IndexArray& labels, const OptionalArray& dloss, float scale) {
          const char* op = "softmax_cross_entropy_backward";
          auto [n, c] = logits_shape(op, logits);
          cross_entropy_backward(dlogits, logits, index_labels(op, labels, n, c), dloss, scale, n, c);
        },
        py::arg("dlogits").noconvert(), py::arg("logits").noconvert(), py::arg("labels").noconvert(),
        py::arg("dloss").noconvert(), py::arg("scale"), ce_backward_doc);
  m.def("softmax_cross_entropy_backward",
        [](Array dlogits, const Array& logits, const Array& labels, const OptionalArray& dloss, float scale) {
          const char* op = "softmax_cross_entropy_backward";
          auto [n, c] = logits_shape(op, logits);
          cross_entropy_backward(dlogits, logits, prob_labels(op, labels, n, c), dloss, scale, n, c);
        },
        py::arg("dlogits").noconvert(), py::arg("logits").noconvert(), py::arg("labels").noconvert(),
        py::arg("dloss").noconvert(), py::arg("scale"), ce_backward_doc);
}

}  // namespace ranvier::bindings
