// Arguments of conv2d and conv2d_backward (ranvier.ops.conv), and the (h, w)
// pairs and "same" padding that pooling (args/pool.h) parses alike.
//
// Images NHWC, kernels HWIO. Padding follows Keras/TensorFlow: "valid",
// "same", or explicit: an int, a pair (ph, pw) or ((top, bottom), (left, right)).
#pragma once

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>

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

// How a convolution's arrays are laid out, for the messages, and their rank.
struct ConvLayouts {
  const char *x, *w, *b;
  int rank;
};

// x, w and b (or None) read and checked for dtype and rank.
template <class A>
ConvArgs<A> read_conv_arrays(const char* op, py::handle x_obj, py::handle w_obj, py::handle b_obj, Activation act,
                             const ConvLayouts& layouts) {
  ConvArgs<A> a{A::read(op, "x", x_obj), A::read(op, "w", w_obj), read_optional<A>(op, "b", b_obj), act};
  require_float32(op, "x", a.x, layouts.x, {layouts.rank});
  require_float32(op, "w", a.w, layouts.w, {layouts.rank});
  if (a.b) require_float32(op, "b", *a.b, layouts.b, {1});
  return a;
}

// The sizes of a ConvArgs' arrays into a.s, once x, w and b have their ranks:
// x (N, [H,] W, C), w ([KH,] KW, C, K), b (K,); a 1-D convolution is a 2-D one
// with H = KH = 1 (the same memory, no copy).
template <class A>
void read_sizes(const char* op, ConvArgs<A>& a) {
  const bool one_d = a.x.ndim() == 3;
  cpu::Conv2dShape& s = a.s;
  s.n = a.x.shape(0), s.h = one_d ? 1 : a.x.shape(1), s.w = a.x.shape(a.x.ndim() - 2), s.c = a.x.shape(a.x.ndim() - 1);
  s.kh = one_d ? 1 : a.w.shape(0), s.kw = a.w.shape(a.w.ndim() - 3), s.k = a.w.shape(a.w.ndim() - 1);
  if (s.kh < 1 || s.kw < 1)
    fail(op, std::string("w must have a kernel of at least ") + (one_d ? "1" : "1x1") + ", got " + describe(a.w));
  const std::int64_t w_channels = a.w.shape(a.w.ndim() - 2);
  if (w_channels != s.c)
    fail(op, "x has C=" + std::to_string(s.c) + " channels but w is " + shape_str(a.w) +
                 " (expects C=" + std::to_string(w_channels) + ")");
  if (a.b && a.b->shape(0) != s.k)
    fail(op, "b must be (" + std::to_string(s.k) + ",) to match w " + shape_str(a.w) + ", got " + shape_str(*a.b));
}

// The last `spatial` entries of d (a plain number for 1): what a message shows
// of a 1-D or 2-D geometry.
inline std::string spatial_str(const Dims& d, int spatial) {
  return spatial == 1 ? std::to_string(d.back()) : dims_str(Dims(d.end() - spatial, d.end()));
}

// Stride, dilation and padding (top, bottom, left, right) into a.s, checked
// against its sizes; then the output shape and the dense data.
template <class A>
void finish_geometry(const char* op, ConvArgs<A>& a, const Pair& stride, const Pair& dilation,
                     const std::array<std::int64_t, 4>& pads) {
  const int spatial = a.x.ndim() - 2;
  cpu::Conv2dShape& s = a.s;
  const Pair span = {(s.kh - 1) * dilation[0] + 1, (s.kw - 1) * dilation[1] + 1};
  const Pair padded = {s.h + pads[0] + pads[1], s.w + pads[2] + pads[3]};
  if (span[0] > padded[0] || span[1] > padded[1]) {
    const Dims pad_list = spatial == 1 ? Dims{pads[2], pads[3]} : Dims{pads[0], pads[1], pads[2], pads[3]};
    fail(op, "the kernel " + spatial_str({s.kh, s.kw}, spatial) + " with dilation " +
                 spatial_str({dilation[0], dilation[1]}, spatial) + " spans " +
                 spatial_str({span[0], span[1]}, spatial) + ", larger than the padded input " +
                 spatial_str({padded[0], padded[1]}, spatial) + " (input " + spatial_str({s.h, s.w}, spatial) +
                 ", padding " + dims_str(pad_list) + ")");
  }
  s.stride_h = stride[0], s.stride_w = stride[1];
  s.dilation_h = dilation[0], s.dilation_w = dilation[1];
  s.pad_top = pads[0], s.pad_bottom = pads[1], s.pad_left = pads[2], s.pad_right = pads[3];
  if (const std::string problem = s.problem(); !problem.empty()) fail(op, problem);
  a.out = spatial == 1 ? Dims{s.n, s.wo(), s.k} : Dims{s.n, s.ho(), s.wo(), s.k};
  a.x_data = dense(a.x);
  a.w_data = dense(a.w);
  a.b_data = dense(a.b);
}

// "same" padding of one axis into pads[before], pads[before + 1].
inline void same_padding(std::array<std::int64_t, 4>& pads, int before, std::int64_t size, std::int64_t span,
                         std::int64_t stride) {
  const std::int64_t total = same_total_padding(size, span, stride);
  pads[before] = total / 2, pads[before + 1] = total - total / 2;
}

// x (N, H, W, C), w (KH, KW, C, K), b (K,) or None, the geometry and the
// activation, checked; the arrays dense.
template <class A>
ConvArgs<A> conv_args(const char* op, py::handle x_obj, py::handle w_obj, py::handle b_obj, py::handle stride_obj,
                      py::handle padding_obj, py::handle dilation_obj, py::handle activation_obj) {
  const Activation act = activation(op, activation_obj);
  ConvArgs<A> a = read_conv_arrays<A>(op, x_obj, w_obj, b_obj, act, {"(N, H, W, C)", "(KH, KW, C, K)", "(K,)", 4});
  read_sizes(op, a);
  const cpu::Conv2dShape& s = a.s;
  const Pair stride = positive_pair(op, "stride", stride_obj, ">= 1");
  const Pair dilation = positive_pair(op, "dilation", dilation_obj, ">= 1");
  const Pair size = {s.h, s.w}, span = {(s.kh - 1) * dilation[0] + 1, (s.kw - 1) * dilation[1] + 1};
  std::array<std::int64_t, 4> pads{};
  if (const auto mode = padding_mode(padding_obj)) {
    if (*mode == "same") {
      for (int i = 0; i < 2; ++i) same_padding(pads, 2 * i, size[i], span[i], stride[i]);
    } else if (*mode != "valid") {
      fail(op, "padding must be 'valid', 'same', an int or pairs of ints, got " + std::string(py::repr(padding_obj)));
    }
  } else {
    pads = explicit_padding(op, padding_obj);
  }
  finish_geometry(op, a, stride, dilation, pads);
  return a;
}

// An int in [1, 2^31): a 1-D stride or dilation.
inline std::int64_t positive_int(const char* op, const char* name, py::handle v) {
  return integer(op, name, v, 1, kMaxGeometry);
}

// x (N, L, C), w (KW, C, K), b (K,) or None: conv1d, a 2-D convolution with
// H = KH = 1. padding "valid", "same", "causal" (dilation * (KW - 1) on the
// left, none on the right: output t sees inputs up to t), an int or a pair
// (left, right).
template <class A>
ConvArgs<A> conv1d_args(const char* op, py::handle x_obj, py::handle w_obj, py::handle b_obj, py::handle stride_obj,
                        py::handle padding_obj, py::handle dilation_obj, py::handle activation_obj) {
  const Activation act = activation(op, activation_obj);
  ConvArgs<A> a = read_conv_arrays<A>(op, x_obj, w_obj, b_obj, act, {"(N, L, C)", "(KW, C, K)", "(K,)", 3});
  read_sizes(op, a);
  const Pair stride = {1, positive_int(op, "stride", stride_obj)};
  const Pair dilation = {1, positive_int(op, "dilation", dilation_obj)};
  const std::int64_t span = (a.s.kw - 1) * dilation[1] + 1;
  std::array<std::int64_t, 4> pads{};
  Pair left_right;
  const std::optional<std::string> mode = padding_mode(padding_obj);
  if (mode == "same") {
    same_padding(pads, 2, a.s.w, span, stride[1]);
  } else if (mode == "causal") {
    pads[2] = span - 1;
  } else if (!mode && int_pair(padding_obj, &left_right) && left_right[0] >= 0 && left_right[1] >= 0 &&
             left_right[0] < kMaxGeometry && left_right[1] < kMaxGeometry) {
    pads[2] = left_right[0], pads[3] = left_right[1];
  } else if (mode != "valid") {
    const std::string bad =
        "padding must be 'valid', 'same', 'causal', an int or a pair (left, right) of ints in "
        "[0, 2^31), got " +
        std::string(py::repr(padding_obj));
    if (mode || PyTuple_Check(padding_obj.ptr()) || PyList_Check(padding_obj.ptr()) || PyIndex_Check(padding_obj.ptr()))
      fail(op, bad);
    type_fail(op, bad);
  }
  finish_geometry(op, a, stride, dilation, pads);
  return a;
}

// One axis of a transposed convolution, as Keras 3 sizes it: its output
// length and the padding (before, after) of the convolution whose input
// gradient it is. Keras starts from the input dilated by the stride, padded
// with (span - 1 - before) and (span - 1 - after) ("valid": none; "same": an
// output of in * stride) and adds output_padding (-1: Keras' None) at the end.
// `after` may be negative: that many output elements at the end no kernel tap
// reaches (they get the bias only).
struct TransposeAxis {
  std::int64_t out, before, after;
};

inline TransposeAxis transpose_axis(std::int64_t in, std::int64_t span, std::int64_t stride, bool same,
                                    std::int64_t output_padding) {
  std::int64_t left, right;  // Keras' padding of the dilated input
  if (!same) {
    const std::int64_t extra = output_padding < 0 ? std::max(span, stride) - span : output_padding;
    left = span - 1, right = span - 1 + extra;
  } else {
    const std::int64_t total = output_padding < 0 ? stride + span - 2 : span + span % 2 - 2 + output_padding;
    left = std::min(total / 2 + total % 2, span - 1), right = total - left;
  }
  return {(in - 1) * stride + 2 - span + left + right, span - 1 - left, span - 1 - right};
}

// conv2d_transpose: x (N, H, W, C), w (KH, KW, F, C) (Keras' layout: filters
// before input channels), b (F,) or None, stride, padding "valid" or "same",
// output_padding None or an int or pair in [0, stride), dilation. a.s is the
// convolution of the output (N, HO, WO, F) by w whose input gradient the
// transposed convolution is: s.c = F, s.k = C, and its output is x's shape.
template <class A>
ConvArgs<A> conv_transpose_args(const char* op, py::handle x_obj, py::handle w_obj, py::handle b_obj,
                                py::handle stride_obj, py::handle padding_obj, py::handle output_padding_obj,
                                py::handle dilation_obj) {
  ConvArgs<A> a =
      read_conv_arrays<A>(op, x_obj, w_obj, b_obj, Activation::none, {"(N, H, W, C)", "(KH, KW, F, C)", "(F,)", 4});
  cpu::Conv2dShape& s = a.s;
  const Pair in = {a.x.shape(1), a.x.shape(2)};
  s.n = a.x.shape(0), s.kh = a.w.shape(0), s.kw = a.w.shape(1), s.c = a.w.shape(2), s.k = a.x.shape(3);
  if (s.kh < 1 || s.kw < 1) fail(op, "w must have a kernel of at least 1x1, got " + describe(a.w));
  if (a.w.shape(3) != s.k)
    fail(op, "x has C=" + std::to_string(s.k) + " channels but w is " + shape_str(a.w) +
                 " (expects C=" + std::to_string(a.w.shape(3)) + ")");
  if (a.b && a.b->shape(0) != s.c)
    fail(op, "b must be (" + std::to_string(s.c) + ",) to match w " + shape_str(a.w) + ", got " + shape_str(*a.b));
  if (in[0] < 1 || in[1] < 1) fail(op, "x must have H >= 1 and W >= 1, got " + describe(a.x));
  const Pair stride = positive_pair(op, "stride", stride_obj, ">= 1");
  const Pair dilation = positive_pair(op, "dilation", dilation_obj, ">= 1");
  const std::optional<std::string> mode = padding_mode(padding_obj);
  if (mode != "valid" && mode != "same")
    fail(op, "padding must be 'valid' or 'same', got " + std::string(py::repr(padding_obj)));
  Pair output_padding = {-1, -1};
  if (!output_padding_obj.is_none()) {
    if (!int_pair(output_padding_obj, &output_padding))
      type_fail(op, "output_padding must be None, an int or a pair of ints, got " +
                        std::string(py::repr(output_padding_obj)));
    for (int i = 0; i < 2; ++i)
      if (output_padding[i] < 0 || output_padding[i] >= stride[i])
        fail(op, "output_padding must be >= 0 and less than the stride " + dims_str({stride[0], stride[1]}) + ", got " +
                     std::string(py::repr(output_padding_obj)));
  }
  const Pair span = {(s.kh - 1) * dilation[0] + 1, (s.kw - 1) * dilation[1] + 1};
  for (const std::int64_t v : {in[0], in[1], span[0], span[1]})
    if (v >= kMaxGeometry) fail(op, "sizes and dilated kernels must be below 2^31, got x " + describe(a.x));
  const TransposeAxis rows = transpose_axis(in[0], span[0], stride[0], mode == "same", output_padding[0]);
  const TransposeAxis cols = transpose_axis(in[1], span[1], stride[1], mode == "same", output_padding[1]);
  s.h = rows.out, s.w = cols.out;
  s.stride_h = stride[0], s.stride_w = stride[1];
  s.dilation_h = dilation[0], s.dilation_w = dilation[1];
  s.pad_top = rows.before, s.pad_bottom = std::max<std::int64_t>(rows.after, 0);
  s.pad_left = cols.before, s.pad_right = std::max<std::int64_t>(cols.after, 0);
  // The convolution of the output gives back x's size (output_padding < stride).
  if (const std::string problem = s.problem(); !problem.empty()) fail(op, problem);
  if (s.ho() != in[0] || s.wo() != in[1])
    fail(op, "internal: the output " + dims_str({s.h, s.w}) + " does not convolve back to the input " +
                 dims_str({in[0], in[1]}));
  a.out = {s.n, s.h, s.w, s.c};
  a.x_data = dense(a.x);
  a.w_data = dense(a.w);
  a.b_data = dense(a.b);
  return a;
}

template <class A>
struct ConvTransposeBackwardArgs {
  ConvArgs<A> conv;
  A dy;
  const float* dy_data = nullptr;
};

// dy (N, HO, WO, F), the gradient of conv2d_transpose's output, with its x and w.
template <class A>
ConvTransposeBackwardArgs<A> conv_transpose_backward_args(const char* op, py::handle dy_obj, py::handle x_obj,
                                                          py::handle w_obj, py::handle stride_obj,
                                                          py::handle padding_obj, py::handle output_padding_obj,
                                                          py::handle dilation_obj) {
  ConvTransposeBackwardArgs<A> a{
      conv_transpose_args<A>(op, x_obj, w_obj, py::none(), stride_obj, padding_obj, output_padding_obj, dilation_obj),
      A::read(op, "dy", dy_obj)};
  require_float32(op, "dy", a.dy);
  require_float32_dims(op, "dy", a.dy, a.conv.out, " to match x, w and the padding");
  a.dy_data = dense(a.dy);
  return a;
}

template <class A>
struct ConvBackwardArgs {
  ConvArgs<A> conv;
  A dy;
  std::optional<A> saved{};
  const float* dy_data = nullptr;
  const float* saved_data = nullptr;
  bool need_dx = true;  // false: no dx is computed (the input is data)
};

// dy (the forward output's shape) and what the activation's derivative needs: the forward
// output y, or the pre-activation z where derivative_needs_input (gelu, silu, ...).
template <class A>
ConvBackwardArgs<A> conv_backward_of(const char* op, ConvArgs<A> conv, py::handle dy_obj, py::handle y_obj,
                                     py::handle z_obj, py::handle need_dx_obj) {
  ConvBackwardArgs<A> a{std::move(conv), A::read(op, "dy", dy_obj)};
  a.need_dx = flag(op, "need_dx", need_dx_obj);
  const Dims& out = a.conv.out;
  require_float32(op, "dy", a.dy);
  require_float32_dims(op, "dy", a.dy, out, " to match x, w and the padding");
  a.saved = saved_for_backward<A>(op, a.conv.act, y_obj, z_obj, out);
  a.dy_data = dense(a.dy);
  a.saved_data = data_or_null(a.saved);
  return a;
}

// conv2d_backward's arguments: dy (N, HO, WO, K), x, w, the geometry, y or z.
template <class A>
ConvBackwardArgs<A> conv_backward_args(const char* op, py::handle dy_obj, py::handle x_obj, py::handle w_obj,
                                       py::handle stride_obj, py::handle padding_obj, py::handle dilation_obj,
                                       py::handle activation_obj, py::handle y_obj, py::handle z_obj,
                                       py::handle need_dx_obj) {
  return conv_backward_of<A>(
      op, conv_args<A>(op, x_obj, w_obj, py::none(), stride_obj, padding_obj, dilation_obj, activation_obj), dy_obj,
      y_obj, z_obj, need_dx_obj);
}

// conv1d_backward's arguments: dy (N, LO, K), x (N, L, C), w (KW, C, K), ...
template <class A>
ConvBackwardArgs<A> conv1d_backward_args(const char* op, py::handle dy_obj, py::handle x_obj, py::handle w_obj,
                                         py::handle stride_obj, py::handle padding_obj, py::handle dilation_obj,
                                         py::handle activation_obj, py::handle y_obj, py::handle z_obj,
                                         py::handle need_dx_obj) {
  return conv_backward_of<A>(
      op, conv1d_args<A>(op, x_obj, w_obj, py::none(), stride_obj, padding_obj, dilation_obj, activation_obj), dy_obj,
      y_obj, z_obj, need_dx_obj);
}

}  // namespace ranvier::args
