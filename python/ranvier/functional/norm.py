"""Layer normalisation on Tensors."""

from __future__ import annotations

from ranvier import ops
from ranvier.functional.arithmetic import as_tensor
from ranvier.tensor import Tensor, make_result


def layer_norm(x, gamma, beta, eps: float = 1e-5) -> Tensor:
    """(x - mean) / sqrt(var + eps) * gamma + beta over the last axis."""
    x, gamma, beta = as_tensor(x), as_tensor(gamma), as_tensor(beta)
    y, mean, rstd = ops.layer_norm(x.data, gamma.data, beta.data, eps=eps, return_stats=True)
    return make_result(y, (x, gamma, beta), lambda g: ops.layer_norm_backward(g, x.data, gamma.data, mean, rstd))
