// Arguments of conv2d and conv2d_backward (ranvier.ops.conv), and the (h, w)
// pairs and "same" padding that pooling (args/pool.h) parses alike.
//
// Images NHWC, kernels HWIO. Padding follows Keras/TensorFlow: "valid",
// "same", or explicit: an int, a pair (ph, pw) or ((top, bottom), (left, right)).
#pragma once

#include <array>
#include <optional>
#include <string>

#include "checks.h"
#include "ranvier/conv.h"

namespace ranvier::args {

using Pair = std::array<std::int64_t, 2>;  // (along H, along W)

// Sizes, strides, dilations and paddings stay below 2^31 (as
// Conv2dShape::problem says) before the arithmetic of spans and padding uses them.
constexpr std::int64_t kMaxGeometry = std::int64_t{1} << 31;

// A tuple or list of two items into *first, *second.
inline bool two_items(py::handle v, py::handle* first, py::handle* second) {
  if (PyTuple_Check(v.ptr()) && PyTuple_GET_SIZE(v.ptr()) == 2) {
    *first = PyTuple_GET_ITEM(v.ptr(), 0), *second = PyTuple_GET_ITEM(v.ptr(), 1);
    return true;
  }
  if (PyList_Check(v.ptr()) && PyList_GET_SIZE(v.ptr()) == 2) {
    *first = PyList_GET_ITEM(v.ptr(), 0), *second = PyList_GET_ITEM(v.ptr(), 1);
    return true;
  }
  return false;
}

// Two ints as a tuple or list.
inline bool two_ints(py::handle v, Pair* out) {
  py::handle a, b;
  return two_items(v, &a, &b) && int64_value(a, &(*out)[0]) && int64_value(b, &(*out)[1]);
}

// A pair of ints from `v`, an int (both) or two ints; false for anything else.
inline bool int_pair(py::handle v, Pair* out) {
  if (int64_value(v, &(*out)[0])) {
    (*out)[1] = (*out)[0];
    return true;
  }
  return two_ints(v, out);
}

// An int or a pair of ints in [1, 2^31); `positive` words ">= 1" in the message.
inline Pair positive_pair(const char* op, const char* name, py::handle v, const char* positive) {
  Pair p;
  if (!int_pair(v, &p))
    type_fail(op, std::string(name) + " must be an int or a pair of ints, got " + std::string(py::repr(v)));
  if (p[0] < 1 || p[1] < 1) fail(op, std::string(name) + " must be " + positive + ", got " + std::string(py::repr(v)));
  if (p[0] >= kMaxGeometry || p[1] >= kMaxGeometry)
    fail(op, std::string(name) + " must be in [1, 2^31), got " + std::string(py::repr(v)));
  return p;
}

// A padding mode, lower-cased as Keras accepts "SAME"; nullopt when `v` is not a str.
inline std::optional<std::string> padding_mode(py::handle v) {
  if (!PyUnicode_Check(v.ptr())) return std::nullopt;
  if (PyUnicode_CompareWithASCIIString(v.ptr(), "valid") == 0) return "valid";
  if (PyUnicode_CompareWithASCIIString(v.ptr(), "same") == 0) return "same";
  return v.attr("lower")().cast<std::string>();
}

// "same" along one axis: ceil(size / stride) outputs, and the total padding
// that lets them cover a window of `span` (dilated) elements; callers put
// half of it before, the odd one after.
inline std::int64_t same_outputs(std::int64_t size, std::int64_t stride) {
  return size == 0 ? 0 : (size - 1) / stride + 1;
}
inline std::int64_t same_total_padding(std::int64_t size, std::int64_t span, std::int64_t stride) {
  const std::int64_t covered = size - (same_outputs(size, stride) - 1) * stride;  // > 0 unless size is 0
  return span > covered ? span - covered : 0;
}

// (top, bottom, left, right) from an explicit padding, each >= 0.
inline std::array<std::int64_t, 4> explicit_padding(const char* op, py::handle v) {
  Pair hw, top_bottom, left_right;
  py::handle h, w;
  std::optional<std::array<std::int64_t, 4>> pads;
  if (int_pair(v, &hw)) {
    pads = {hw[0], hw[0], hw[1], hw[1]};
  } else if (two_items(v, &h, &w) && two_ints(h, &top_bottom) && two_ints(w, &left_right)) {
    pads = {top_bottom[0], top_bottom[1], left_right[0], left_right[1]};
  }
  if (pads && (*pads)[0] >= 0 && (*pads)[1] >= 0 && (*pads)[2] >= 0 && (*pads)[3] >= 0) {
    for (std::int64_t p : *pads)
      if (p >= kMaxGeometry) fail(op, "padding must be in [0, 2^31), got " + std::string(py::repr(v)));
    return *pads;
  }
  const std::string bad =
      "padding must be 'valid', 'same', an int, a pair (ph, pw) or ((top, bottom), (left, right)) "
      "of ints >= 0, got " +
      std::string(py::repr(v));
  if (pads || PyTuple_Check(v.ptr()) || PyList_Check(v.ptr())) fail(op, bad);
  type_fail(op, bad);
}

template <class A>
struct ConvArgs {
  A x, w;
  std::optional<A> b;
  Activation act;
  cpu::Conv2dShape s{};
  Dims out{};  // (N, HO, WO, K)
  const float* x_data = nullptr;
  const float* w_data = nullptr;
  const float* b_data = nullptr;
};

// x (N, H, W, C), w (KH, KW, C, K), b (K,) or None, the geometry and the
// activation, checked; the arrays dense.
template <class A>
ConvArgs<A> conv_args(const char* op, py::handle x_obj, py::handle w_obj, py::handle b_obj, py::handle stride_obj,
                      py::handle padding_obj, py::handle dilation_obj, py::handle activation_obj) {
  const Activation act = activation(op, activation_obj);
  ConvArgs<A> a{A::read(op, "x", x_obj), A::read(op, "w", w_obj), read_optional<A>(op, "b", b_obj), act};
  require_float32(op, "x", a.x, "(N, H, W, C)", {4});
  require_float32(op, "w", a.w, "(KH, KW, C, K)", {4});
  if (a.b) require_float32(op, "b", *a.b, "(K,)", {1});
  cpu::Conv2dShape& s = a.s;
  s.n = a.x.shape(0), s.h = a.x.shape(1), s.w = a.x.shape(2), s.c = a.x.shape(3);
  s.kh = a.w.shape(0), s.kw = a.w.shape(1), s.k = a.w.shape(3);
  if (s.kh < 1 || s.kw < 1) fail(op, "w must have a kernel of at least 1x1, got " + describe(a.w));
  if (a.w.shape(2) != s.c)
    fail(op, "x has C=" + std::to_string(s.c) + " channels but w is " + shape_str(a.w) +
                 " (expects C=" + std::to_string(a.w.shape(2)) + ")");
  if (a.b && a.b->shape(0) != s.k)
    fail(op, "b must be (" + std::to_string(s.k) + ",) to match w " + shape_str(a.w) + ", got " + shape_str(*a.b));
  const Pair stride = positive_pair(op, "stride", stride_obj, ">= 1");
  const Pair dilation = positive_pair(op, "dilation", dilation_obj, ">= 1");
  const Pair size = {s.h, s.w}, span = {(s.kh - 1) * dilation[0] + 1, (s.kw - 1) * dilation[1] + 1};
  std::array<std::int64_t, 4> pads{};
  if (const auto mode = padding_mode(padding_obj)) {
    if (*mode == "same") {
      for (int i = 0; i < 2; ++i) {
        const std::int64_t total = same_total_padding(size[i], span[i], stride[i]);
        pads[2 * i] = total / 2, pads[2 * i + 1] = total - total / 2;
      }
    } else if (*mode != "valid") {
      fail(op, "padding must be 'valid', 'same', an int or pairs of ints, got " + std::string(py::repr(padding_obj)));
    }
  } else {
    pads = explicit_padding(op, padding_obj);
  }
  const Pair padded = {s.h + pads[0] + pads[1], s.w + pads[2] + pads[3]};
  if (span[0] > padded[0] || span[1] > padded[1])
    fail(op, "the kernel (" + std::to_string(s.kh) + ", " + std::to_string(s.kw) + ") with dilation " +
                 dims_str({dilation[0], dilation[1]}) + " spans " + dims_str({span[0], span[1]}) +
                 ", larger than the padded input " + dims_str({padded[0], padded[1]}) + " (input " +
                 dims_str({s.h, s.w}) + ", padding " + dims_str({pads[0], pads[1], pads[2], pads[3]}) + ")");
  s.stride_h = stride[0], s.stride_w = stride[1];
  s.dilation_h = dilation[0], s.dilation_w = dilation[1];
  s.pad_top = pads[0], s.pad_bottom = pads[1], s.pad_left = pads[2], s.pad_right = pads[3];
  if (const std::string problem = s.problem(); !problem.empty()) fail(op, problem);
  a.out = {s.n, s.ho(), s.wo(), s.k};
  a.x_data = dense(a.x);
  a.w_data = dense(a.w);
  a.b_data = dense(a.b);
  return a;
}

template <class A>
struct ConvBackwardArgs {
  ConvArgs<A> conv;
  A dy;
  std::optional<A> saved{};
  const float* dy_data = nullptr;
  const float* saved_data = nullptr;
};

// dy (N, HO, WO, K) and what the activation's derivative needs: the forward
// output y, or the pre-activation z where derivative_needs_input (gelu, silu, ...).
template <class A>
ConvBackwardArgs<A> conv_backward_args(const char* op, py::handle dy_obj, py::handle x_obj, py::handle w_obj,
                                       py::handle stride_obj, py::handle padding_obj, py::handle dilation_obj,
                                       py::handle activation_obj, py::handle y_obj, py::handle z_obj) {
  ConvBackwardArgs<A> a{
      conv_args<A>(op, x_obj, w_obj, py::none(), stride_obj, padding_obj, dilation_obj, activation_obj),
      A::read(op, "dy", dy_obj)};
  const Dims& out = a.conv.out;
  require_float32(op, "dy", a.dy);
  require_float32_dims(op, "dy", a.dy, out, " to match x, w and the padding");
  a.saved = saved_for_backward<A>(op, a.conv.act, y_obj, z_obj, out);
  a.dy_data = dense(a.dy);
  a.saved_data = data_or_null(a.saved);
  return a;
}

}  // namespace ranvier::args
