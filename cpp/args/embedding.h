// Arguments of embedding and embedding_backward (ranvier.ops.embedding): ids
// of any integer dtype and shape, a (V, D) float32 table or its gradient.
//
// The kernels read ids as dense int64 and trust them to lie in [0, V): every
// id is checked here first, by the module's own scan `first_bad(ids, n, v)`
// (the index of the first id outside [0, v), or -1), since on the GPU that
// scan is a kernel.
#pragma once

#include <cstdint>
#include <string>

#include "checks.h"

namespace ranvier::args {

template <class A>
struct Ids {
  A flat;  // (n,) int64, C-contiguous
  Dims shape;
  std::int64_t n;
};

template <class A, class FirstBad>
Ids<A> embedding_ids(const char* op, py::handle obj, std::int64_t v, FirstBad first_bad) {
  A ids = A::read(op, "ids", obj);
  if (!is_integer(ids.dtype())) type_fail(op, "ids must be an integer array, got " + describe(ids));
  Ids<A> r{ids, dims(ids), size(ids)};
  if (ids.dtype() != DType::int64 || !ids.c_contiguous()) {
    r.flat = A::read(op, "ids", ids.object().attr("astype")("int64", py::arg("order") = "C"));
    A::note_copy();
  }
  // A uint64 id from 2^63 on turns negative in int64: refused, and shown as it was.
  const std::int64_t bad = r.n ? first_bad(r.flat.template data<std::int64_t>(), r.n, v) : -1;
  if (bad >= 0)
    fail(op, "ids must be in [0, " + std::to_string(v) + ") (the rows of the table), got " +
                 std::string(py::str(ids.object().attr("reshape")(-1)[py::int_(bad)])));
  return r;
}

template <class A>
struct EmbeddingArgs {
  A table;
  Ids<A> ids;
  Dims y_dims;  // ids.shape + (D,)
};

template <class A, class FirstBad>
EmbeddingArgs<A> embedding_args(py::handle ids_obj, py::handle table_obj, FirstBad first_bad) {
  const char* op = "embedding";
  A table = A::read(op, "table", table_obj);
  require_float32(op, "table", table, "(V, D)", {2});
  dense(table);
  Ids<A> ids = embedding_ids<A>(op, ids_obj, table.shape(0), first_bad);
  Dims y_dims = ids.shape;
  y_dims.push_back(table.shape(1));
  return {std::move(table), std::move(ids), std::move(y_dims)};
}

template <class A>
struct EmbeddingGrad {
  A dy;  // (n, D) once flattened
  Ids<A> ids;
  std::int64_t v, d;
};

template <class A, class FirstBad>
EmbeddingGrad<A> embedding_grad(py::handle dy_obj, py::handle ids_obj, py::handle num_embeddings, FirstBad first_bad) {
  const char* op = "embedding_backward";
  const std::int64_t v = integer(op, "num_embeddings", num_embeddings, 0);
  A dy = A::read(op, "dy", dy_obj);
  require_float32(op, "dy", dy);
  Ids<A> ids = embedding_ids<A>(op, ids_obj, v, first_bad);
  const int rank = static_cast<int>(ids.shape.size());
  bool ok = dy.ndim() == rank + 1;
  for (int i = 0; ok && i < rank; ++i) ok = dy.shape(i) == ids.shape[i];
  if (!ok) fail(op, "dy must be ids.shape + (D,) = " + dims_str(ids.shape) + " + (D,) float32, got " + describe(dy));
  dense(dy);
  const std::int64_t d = dy.shape(rank);
  return {std::move(dy), std::move(ids), v, d};
}

}  // namespace ranvier::args
