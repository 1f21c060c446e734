// embedding and embedding_backward: checked by cpp/args/embedding.h (with the
// scan of ids below), outputs allocated here.
#include "args/embedding.h"
#include "host_array.h"
#include "ranvier/embedding.h"

namespace ranvier::bindings {

namespace {

using A = HostArray;

std::int64_t first_bad(const std::int64_t* ids, std::int64_t n, std::int64_t v) {
  for (std::int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= v) return i;
  return -1;
}

py::object embedding(py::handle ids, py::handle table) {
  const auto a = args::embedding_args<A>(ids, table, first_bad);
  A y = A::empty(a.y_dims);
  launch("embedding", [=] {
    cpu::embedding(y.data<float>(), a.ids.flat.data<std::int64_t>(), a.table.data<float>(), a.ids.n, a.table.shape(0),
                   a.table.shape(1));
  });
  return y.object();
}

py::object embedding_backward(py::handle dy, py::handle ids, py::handle num_embeddings) {
  const auto a = args::embedding_grad<A>(dy, ids, num_embeddings, first_bad);
  A dtable = A::empty({a.v, a.d});
  launch("embedding_backward", [=] {
    cpu::embedding_backward(dtable.data<float>(), a.dy.data<float>(), a.ids.flat.data<std::int64_t>(), a.ids.n, a.v,
                            a.d);
  });
  return dtable.object();
}

}  // namespace

void bind_embedding(py::module_& m) {
  m.def("embedding", &embedding, py::arg("ids"), py::arg("table"),
        "y (..., D) = table (V, D)[ids (...)], ids of any integer dtype, each in [0, V)");
  m.def("embedding_backward", &embedding_backward, py::arg("dy"), py::arg("ids"), py::arg("num_embeddings"),
        "dtable (num_embeddings, D): the rows of dy (..., D) added at their ids (...)");
}

}  // namespace ranvier::bindings
