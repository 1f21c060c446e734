// layer_norm and layer_norm_backward: checked by cpp/args/norm.h, outputs
// allocated here.
#include "args/norm.h"
#include "host_array.h"
#include "ranvier/norm.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

py::object layer_norm(py::handle x, py::handle gamma, py::handle beta, py::handle eps, bool return_stats) {
  const auto a = args::layer_norm_args<A>("layer_norm", x, gamma, beta, eps);
  A y = A::empty(args::dims(a.x.x));
  std::optional<A> mean, rstd;
  if (return_stats) mean = A::empty(a.x.stats_dims), rstd = A::empty(a.x.stats_dims);
  launch("layer_norm", [=] {
    cpu::layer_norm(y.data<float>(), mean ? mean->data<float>() : nullptr, rstd ? rstd->data<float>() : nullptr,
                    a.x.data, a.gamma.data<float>(), a.beta.data<float>(), a.x.rows, a.x.d, a.eps);
  });
  if (!return_stats) return y.object();
  return py::make_tuple(y.object(), mean->object(), rstd->object());
}

py::tuple layer_norm_backward(py::handle dy, py::handle x, py::handle gamma, py::handle mean, py::handle rstd) {
  const auto a = args::layer_norm_backward_args<A>("layer_norm_backward", dy, x, gamma, mean, rstd);
  A dx = A::empty(args::dims(a.x.x)), dgamma = A::empty({a.x.d}), dbeta = A::empty({a.x.d});
  launch("layer_norm_backward", [=] {
    cpu::layer_norm_backward(dx.data<float>(), dgamma.data<float>(), dbeta.data<float>(), a.dy.data<float>(), a.x.data,
                             a.gamma.data<float>(), a.mean.data<float>(), a.rstd.data<float>(), a.x.rows, a.x.d);
  });
  return py::make_tuple(dx.object(), dgamma.object(), dbeta.object());
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("layer_norm", &layer_norm, py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("eps") = 1e-5,
        py::arg("return_stats") = false,
        "y = layer norm of x (..., D) over its last axis with gamma, beta (D,); "
        "(y, mean, rstd) with return_stats, mean and rstd of shape x.shape[:-1]");
  m.def("layer_norm_backward", &layer_norm_backward, py::arg("dy"), py::arg("x"), py::arg("gamma"), py::arg("mean"),
        py::arg("rstd"), "(dx, dgamma, dbeta) from dy, x (..., D), gamma (D,) and the forward's mean, rstd");
}

}  // namespace ranvier::bindings
