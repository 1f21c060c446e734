// Arguments of upsample2d, pad2d, crop2d and their backward (ranvier.ops.spatial).
//
// Images NHWC. size is an int or an (h, w) pair of factors >= 1;
// interpolation "nearest" or "bilinear". padding and cropping are an int, a pair (h, w) or
// ((top, bottom), (left, right)) of ints >= 0 (Keras' forms); a cropping may
// take the whole image (an empty result) but no more. Padding and cropping
// run one kernel, cpu::shift2d, and each backward is the other's forward.
#pragma once

#include <array>
#include <string>

#include "conv.h"
#include "ranvier/spatial.h"

namespace ranvier::args {

// Output sizes stay below this, so that their product with the other sizes
// can be checked without overflow (an empty input may have huge other sizes).
constexpr std::int64_t kMaxSpatialElements = std::int64_t{1} << 62;

// (N, OH, OW, C), refused when it would hold 2^62 elements or more.
inline Dims spatial_output_dims(const char* op, std::int64_t n, std::int64_t oh, std::int64_t ow, std::int64_t c) {
  const Dims out = {n, oh, ow, c};
  __int128 elements = 1;
  for (std::int64_t d : out)
    elements = d == 0 || elements == 0 ? 0 : std::min<__int128>(elements * d, kMaxSpatialElements);
  if (oh >= kMaxSpatialElements || ow >= kMaxSpatialElements || elements >= kMaxSpatialElements)
    fail(op, "the output " + dims_str(out) + " would have 2^62 elements or more");
  return out;
}

// ---- upsample2d -------------------------------------------------------------

// size_h * h without overflow (size < 2^31); kMaxSpatialElements when too large.
inline std::int64_t scaled(std::int64_t h, std::int64_t size) {
  return h >= kMaxSpatialElements / size ? kMaxSpatialElements : h * size;
}

template <class A>
cpu::Upsample2d upsample_geometry(const char* op, const A& x, py::handle size_obj, py::handle interpolation) {
  const Pair size = positive_pair(op, "size", size_obj, "positive");
  const std::string mode = text(op, "interpolation", interpolation);
  if (mode != "nearest" && mode != "bilinear")
    fail(op, "interpolation must be 'nearest' or 'bilinear', got " + std::string(py::repr(interpolation)));
  return {x.shape(0), x.shape(1), x.shape(2), x.shape(3), size[0], size[1], mode == "bilinear"};
}

inline Dims upsampled_dims(const char* op, const cpu::Upsample2d& u) {
  return spatial_output_dims(op, u.n, scaled(u.h, u.size_h), scaled(u.w, u.size_w), u.c);
}

template <class A>
struct UpsampleArgs {
  A x;
  cpu::Upsample2d u{};
  Dims out{};
  const float* x_data = nullptr;
};

// x (N, H, W, C), the factors and the interpolation; x dense.
template <class A>
UpsampleArgs<A> upsample_args(const char* op, py::handle x_obj, py::handle size, py::handle interpolation) {
  UpsampleArgs<A> a{A::read(op, "x", x_obj)};
  require_float32(op, "x", a.x, "(N, H, W, C)", {4});
  a.u = upsample_geometry(op, a.x, size, interpolation);
  a.out = upsampled_dims(op, a.u);
  a.x_data = dense(a.x);
  return a;
}

template <class A>
struct UpsampleBackwardArgs {
  A x, dy;
  cpu::Upsample2d u{};
  const float* dy_data = nullptr;
};

// dy (N, H * sh, W * sw, C) for the upsampling of x (N, H, W, C); dy dense
// (only x's shape is used).
template <class A>
UpsampleBackwardArgs<A> upsample_backward_args(const char* op, py::handle dy_obj, py::handle x_obj, py::handle size,
                                               py::handle interpolation) {
  UpsampleBackwardArgs<A> a{A::read(op, "x", x_obj), A::read(op, "dy", dy_obj)};
  require_float32(op, "x", a.x, "(N, H, W, C)", {4});
  require_float32(op, "dy", a.dy, "(N, H, W, C)", {4});
  a.u = upsample_geometry(op, a.x, size, interpolation);
  require_float32_dims(op, "dy", a.dy, upsampled_dims(op, a.u), " to match x and size");
  a.dy_data = dense(a.dy);
  return a;
}

// ---- pad2d and crop2d -------------------------------------------------------

using Edges = std::array<std::int64_t, 4>;  // top, bottom, left, right

// An int (all four), a pair (h, w) or ((top, bottom), (left, right)), each in [0, 2^31).
inline Edges edges(const char* op, const char* name, py::handle v) {
  Pair hw, top_bottom, left_right;
  py::handle h, w;
  std::optional<Edges> e;
  if (int_pair(v, &hw)) {
    e = Edges{hw[0], hw[0], hw[1], hw[1]};
  } else if (two_items(v, &h, &w) && two_ints(h, &top_bottom) && two_ints(w, &left_right)) {
    e = Edges{top_bottom[0], top_bottom[1], left_right[0], left_right[1]};
  }
  bool in_range = e.has_value();
  for (std::int64_t x : e.value_or(Edges{})) in_range = in_range && x >= 0 && x < kMaxGeometry;
  if (in_range) return *e;
  const std::string bad = std::string(name) +
                          " must be an int, a pair (h, w) or ((top, bottom), (left, right)) of ints in [0, 2^31), "
                          "got " +
                          std::string(py::repr(v));
  if (e || PyTuple_Check(v.ptr()) || PyList_Check(v.ptr())) fail(op, bad);
  type_fail(op, bad);
}

// How x (N, H, W, C) is padded (pad) or cropped (!pad) by `frame`.
template <class A>
cpu::Shift2d frame_geometry(const char* op, const A& x, py::handle frame, bool pad) {
  const Edges e = edges(op, pad ? "padding" : "cropping", frame);
  const std::int64_t n = x.shape(0), h = x.shape(1), w = x.shape(2), c = x.shape(3);
  if (pad) {
    const std::int64_t oh = std::min(h, kMaxSpatialElements) + e[0] + e[1];
    const std::int64_t ow = std::min(w, kMaxSpatialElements) + e[2] + e[3];
    const Dims out = spatial_output_dims(op, n, oh, ow, c);
    return {n, h, w, c, out[1], out[2], e[0], e[2]};
  }
  if (e[0] + e[1] > h || e[2] + e[3] > w)
    fail(op, "cropping ((" + std::to_string(e[0]) + ", " + std::to_string(e[1]) + "), (" + std::to_string(e[2]) + ", " +
                 std::to_string(e[3]) + ")) is larger than the image " + dims_str({h, w}));
  return {n, h, w, c, h - e[0] - e[1], w - e[2] - e[3], -e[0], -e[2]};
}

// The shift that undoes s: its output placed back where it came from, zeros elsewhere.
inline cpu::Shift2d inverse(const cpu::Shift2d& s) { return {s.n, s.out_h, s.out_w, s.c, s.h, s.w, -s.top, -s.left}; }

inline Dims shifted_dims(const cpu::Shift2d& s) { return {s.n, s.out_h, s.out_w, s.c}; }

template <class A>
struct ShiftArgs {
  A source;
  cpu::Shift2d s{};
  const float* source_data = nullptr;
};

// pad2d / crop2d: x (N, H, W, C) and the padding or cropping; x dense.
template <class A>
ShiftArgs<A> frame_args(const char* op, py::handle x_obj, py::handle frame, bool pad) {
  ShiftArgs<A> a{A::read(op, "x", x_obj)};
  require_float32(op, "x", a.source, "(N, H, W, C)", {4});
  a.s = frame_geometry(op, a.source, frame, pad);
  a.source_data = dense(a.source);
  return a;
}

// pad2d_backward / crop2d_backward: dy of the forward's output shape for x
// (N, H, W, C), placed back into x's shape; dy dense (only x's shape is used).
template <class A>
ShiftArgs<A> frame_backward_args(const char* op, py::handle dy_obj, py::handle x_obj, py::handle frame, bool pad) {
  const A x = A::read(op, "x", x_obj);
  ShiftArgs<A> a{A::read(op, "dy", dy_obj)};
  require_float32(op, "x", x, "(N, H, W, C)", {4});
  require_float32(op, "dy", a.source, "(N, H, W, C)", {4});
  const cpu::Shift2d forward = frame_geometry(op, x, frame, pad);
  require_float32_dims(op, "dy", a.source, shifted_dims(forward),
                       pad ? " to match x and padding" : " to match x and cropping");
  a.s = inverse(forward);
  a.source_data = dense(a.source);
  return a;
}

// Defines the six ops in module m with the Python signatures both modules
// share. upsample(op, UpsampleArgs), upsample_backward(op,
// UpsampleBackwardArgs) and shift(op, ShiftArgs) allocate and run.
template <class A, class Upsample, class UpsampleBackward, class Shift>
void def_spatial_ops(py::module_& m, Upsample upsample, UpsampleBackward upsample_backward, Shift shift) {
  m.def(
      "upsample2d",
      [upsample](py::handle x, py::handle size, py::handle interpolation) {
        const char* op = "upsample2d";
        return upsample(op, upsample_args<A>(op, x, size, interpolation));
      },
      py::arg("x"), py::arg("size") = 2, py::arg("interpolation") = "nearest",
      "y (N,H*sh,W*sw,C): x (N,H,W,C) upsampled, nearest (each pixel repeated) or bilinear");
  m.def(
      "upsample2d_backward",
      [upsample_backward](py::handle dy, py::handle x, py::handle size, py::handle interpolation) {
        const char* op = "upsample2d_backward";
        return upsample_backward(op, upsample_backward_args<A>(op, dy, x, size, interpolation));
      },
      py::arg("dy"), py::arg("x"), py::arg("size") = 2, py::arg("interpolation") = "nearest",
      "dx (N,H,W,C) from dy (N,H*sh,W*sw,C): each dy added to the pixels it was interpolated from");
  for (const bool pad : {true, false}) {
    const char* forward_op = pad ? "pad2d" : "crop2d";
    const char* backward_op = pad ? "pad2d_backward" : "crop2d_backward";
    const char* frame = pad ? "padding" : "cropping";
    m.def(
        forward_op,
        [shift, forward_op, pad](py::handle x, py::handle edges) {
          return shift(forward_op, frame_args<A>(forward_op, x, edges, pad));
        },
        py::arg("x"), py::arg(frame),
        pad ? "y (N,H+t+b,W+l+r,C): x (N,H,W,C) with rows and columns of zeros around it"
            : "y (N,H-t-b,W-l-r,C): x (N,H,W,C) without t rows on top, b below, l columns left, r right");
    m.def(
        backward_op,
        [shift, backward_op, pad](py::handle dy, py::handle x, py::handle edges) {
          return shift(backward_op, frame_backward_args<A>(backward_op, dy, x, edges, pad));
        },
        py::arg("dy"), py::arg("x"), py::arg(frame),
        pad ? "dx (N,H,W,C): dy cropped back to x's shape" : "dx (N,H,W,C): dy padded back to x's shape with zeros");
  }
}

}  // namespace ranvier::args
