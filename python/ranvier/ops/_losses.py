"""Arguments shared by the losses (``ops.softmax`` and ``ops.losses``).

Every loss computes one loss per sample (row) and reduces them: "none" gives
the (N,) losses, "mean" and "sum" a 0-d array. Its backward takes dloss, the
gradient of whatever was computed from the loss.
"""
from __future__ import annotations

import numbers

from ranvier.ops import _checks

REDUCTIONS = ("mean", "sum", "none")


def reduction_arg(op: str, reduction) -> str:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"[{op}] reduction must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduction!r}")
    return reduction


def upstream_gradient(op: str, dloss, reduction: str, n: int, like_name: str, like):
    """(dloss (N,) array or None, scale) for a loss backward kernel.

    The gradient of sample i is scaled by scale * dloss[i] (by scale alone when
    the array is None). dloss is a scalar for "mean" and "sum"; for "none" an
    (N,) float32 array on the device of ``like`` (the argument ``like_name``),
    or a scalar for every sample.
    """
    if isinstance(dloss, numbers.Real) and not isinstance(dloss, bool):
        value = float(dloss)
    else:
        dloss = _checks.float32(op, "dloss", dloss)
        _checks.same_device(op, dloss=dloss, **{like_name: like})
        if reduction == "none" and tuple(dloss.shape) == (n,):
            return _checks.contiguous(dloss), 1.0
        if dloss.size != 1:
            want = f"a scalar or ({n},)" if reduction == "none" else "a scalar"
            raise ValueError(
                f"[{op}] dloss must be {want} for reduction {reduction!r}, got {_checks.describe(dloss)}"
            )
        value = float(dloss.reshape(()))
    if reduction == "mean":
        value = value / n if n > 0 else 0.0
    return None, value

