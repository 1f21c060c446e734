"""Embedding lookup on Tensors."""

from __future__ import annotations

from ranvier import ops
from ranvier.functional.arithmetic import as_tensor
from ranvier.tensor import Tensor, make_result


def embedding(ids, table) -> Tensor:
    """Rows of table (V, D) picked by integer ids (...) -> (..., D); repeated ids accumulate gradient."""
    ids, table = as_tensor(ids), as_tensor(table)
    y = ops.embedding(ids.data, table.data)
    return make_result(y, (table,), lambda g: (ops.embedding_backward(g, ids.data, table.shape[0]),))
