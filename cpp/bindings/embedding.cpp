// embedding and embedding_backward; ids are int64 (ranvier.ops converts the
// other integer types) and are range-checked here, before any memory is touched.
#include <cstdint>
#include <string>

#include "array_args.h"
#include "ranvier/embedding.h"

namespace ranvier::bindings {

namespace {

using IdArray = NdArray<std::int64_t>;

const std::int64_t* checked_ids(const char* op, const IdArray& ids, std::int64_t v) {
  check_rank(op, "ids", ids, 1);
  const std::int64_t* p = contiguous_in(op, "ids", ids);
  for (py::ssize_t i = 0; i < ids.size(); ++i)
    if (p[i] < 0 || p[i] >= v)
      fail(op, "ids must be in [0, " + std::to_string(v) + "), got " + std::to_string(p[i]));
  return p;
}

void embedding(Array y, const IdArray& ids, const Array& table) {
  const char* op = "embedding";
  check_rank(op, "table", table, 2);
  const std::int64_t v = table.shape(0), d = table.shape(1), n = ids.size();
  const std::int64_t* ip = checked_ids(op, ids, v);
  check_shape(op, "y", y, {n, d});
  const float* tp = contiguous_in(op, "table", table);
  float* yp = contiguous_out(op, "y", y);
  py::gil_scoped_release release;
  cpu::embedding(yp, ip, tp, n, v, d);
}

void embedding_backward(Array dtable, const Array& dy, const IdArray& ids) {
  const char* op = "embedding_backward";
  check_rank(op, "dtable", dtable, 2);
  const std::int64_t v = dtable.shape(0), d = dtable.shape(1), n = ids.size();
  const std::int64_t* ip = checked_ids(op, ids, v);
  check_shape(op, "dy", dy, {n, d});
  const float* dyp = contiguous_in(op, "dy", dy);
  float* dtp = contiguous_out(op, "dtable", dtable);
  py::gil_scoped_release release;
  cpu::embedding_backward(dtp, dyp, ip, n, v, d);
}

}  // namespace

void bind_embedding(py::module_& m) {
  m.def("embedding", &embedding, py::arg("y").noconvert(), py::arg("ids").noconvert(),
        py::arg("table").noconvert(), "y (n, d) = table (v, d)[ids (n,) int64]");
  m.def("embedding_backward", &embedding_backward, py::arg("dtable").noconvert(),
        py::arg("dy").noconvert(), py::arg("ids").noconvert(),
        "dtable (v, d) = scatter-add of dy (n, d) rows at ids (n,) int64");
}

}  // namespace ranvier::bindings
