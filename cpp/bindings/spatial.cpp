// upsample2d, pad2d, crop2d and their backward: checked by cpp/args/spatial.h,
// outputs allocated here.
#include "args/spatial.h"
#include "host_array.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

py::object upsample(const char* op, const args::UpsampleArgs<A>& a) {
  A y = A::empty(a.out);
  launch(op,
         [=] { (a.u.bilinear ? cpu::upsample2d_bilinear : cpu::upsample2d_nearest)(y.data<float>(), a.x_data, a.u); });
  return y.object();
}

py::object upsample_backward(const char* op, const args::UpsampleBackwardArgs<A>& a) {
  A dx = A::empty(args::dims(a.x));
  launch(op, [=] {
    (a.u.bilinear ? cpu::upsample2d_bilinear_backward : cpu::upsample2d_nearest_backward)(dx.data<float>(), a.dy_data,
                                                                                          a.u);
  });
  return dx.object();
}

py::object shift(const char* op, const args::ShiftArgs<A>& a) {
  A y = A::empty(args::shifted_dims(a.s));
  launch(op, [=] { cpu::shift2d(y.data<float>(), a.source_data, a.s); });
  return y.object();
}

}  // namespace

void bind_spatial(py::module_& m) { args::def_spatial_ops<A>(m, &upsample, &upsample_backward, &shift); }

}  // namespace ranvier::bindings
