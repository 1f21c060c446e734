"""The bad-input table: every op, every array argument given the wrong dtype,
rank, shape or no array at all, and the scalars out of range. Each call must
raise TypeError (type, dtype) or ValueError (shape, value) with a message
that starts with "[<op>] " and names the argument (docs/DESIGN.md, "The
error-message rule"); none may crash or be accepted silently.
"""

from __future__ import annotations

import inspect
import re
import timeit

import numpy as np
import pytest
from op_cases import ACTIVATION_PARAMS, CASES, IN_PLACE

from ranvier import ops


def _valid(op):
    """A valid call with every size 3 (so that no array is empty)."""
    rng = np.random.default_rng(0)
    return CASES[op](lambda low: 3, lambda *shape: rng.standard_normal(shape).astype(np.float32))


# Array arguments of any rank and shape (elementwise ops of one array): a
# changed rank or shape is a valid call.
ANY_SHAPE = (
    {(op, "x") for op in ("relu", "sigmoid", "tanh", "gelu", "dropout")}
    | {(op, "x") for op in ACTIVATION_PARAMS}
    | {
        ("softmax", "x"),
        ("log_softmax", "x"),
        ("layer_norm", "x"),
    }
)

# Changes that make another valid call (free sizes such as C, D, V or a
# batch axis), or that are a shape error rather than a dtype one.
STILL_VALID = {  # "op argument change", change: rank (one more axis) or longer (last axis)
    "attention v longer",
    "avg_pool2d x longer",
    "avg_pool1d x longer",
    "max_pool1d x longer",
    "global_max_pool x longer",
    "crop2d x longer",
    "max_pool2d x longer",
    "pad2d x longer",
    "upsample2d x longer",
    "embedding ids rank",
    "embedding ids longer",
    "embedding table longer",
    "embedding_backward dy longer",
    "linear x rank",
    "matmul a rank",
    "matmul b rank",
    "matmul b longer",
    "softmax_cross_entropy logits longer",
    "softmax_cross_entropy_backward logits longer",
}
SHAPE_NOT_DTYPE = {("softmax_cross_entropy", "labels"), ("softmax_cross_entropy_backward", "labels")}

# Scalars out of range, by argument name: (value, exception).
BAD_SCALARS = {
    "stride": [(0, ValueError), (2**63, ValueError), (-(2**64), ValueError), (1.5, TypeError)],
    "pool_size": [(0, ValueError), (2**63, ValueError), ("2", TypeError)],
    "padding": [(-1, ValueError), (2**31, ValueError), (2**63, ValueError), ("full", ValueError)],
    "dilation": [(0, ValueError), (2**63, ValueError)],
    "output_padding": [(-1, ValueError), (2, ValueError), (1.5, TypeError)],
    "activation": [("swish!", ValueError), (3, ValueError)],
    "axis": [(2, ValueError), (2**63, ValueError), (1.0, TypeError)],
    "reduction": [("avg", ValueError), (None, ValueError)],  # a choice among names
    "rate": [(-0.1, ValueError), (1.0, ValueError), (float("nan"), ValueError), ("0.5", TypeError)],
    "seed": [(-1, ValueError), (2**64, ValueError), (1.5, TypeError)],
    "num_embeddings": [(-1, ValueError), (2**63, ValueError), (2.0, TypeError)],
    "lr": [(float("nan"), ValueError), (float("inf"), ValueError), ("0.1", TypeError)],
    "momentum": [(float("nan"), ValueError)],
    "step": [(0, ValueError), (2**63, ValueError), (2**64, ValueError), (1.0, TypeError)],
    "eps": [(float("nan"), ValueError)],
    "negative_slope": [(-0.1, ValueError), (float("nan"), ValueError), (1e39, ValueError), ("0.2", TypeError)],
    "alpha": [(-1.0, ValueError), (float("inf"), ValueError), (True, TypeError)],
    "max_value": [(-1.0, ValueError), (float("nan"), ValueError), ("6", TypeError)],
    "threshold": [(float("inf"), ValueError), ("0", TypeError)],
    "size": [(0, ValueError), (2**63, ValueError), ((2, 2, 2), TypeError), ("2", TypeError)],
    "interpolation": [("bicubic", ValueError), (None, TypeError)],
    "cropping": [(-1, ValueError), (2, ValueError), (2**31, ValueError), ("1", TypeError)],  # 2: all of x and more
}
# Flags the valid calls leave at their default, refused on every op whose
# signature has them (the backward ops that can skip dx).
BAD_FLAGS = {"need_dx": [(1, TypeError), (None, TypeError), ("True", TypeError), (np.array(True), TypeError)]}
# Where an argument's name means another thing for an op: pad2d's padding is never a mode.
BAD_SCALARS_BY_OP = {
    (op, "padding"): [(-1, ValueError), (2**31, ValueError), ((1, 2, 3), ValueError), ("full", TypeError)]
    for op in ("pad2d", "pad2d_backward")
}


def _array_arguments(call):
    return [k for k, v in call.items() if isinstance(v, np.ndarray)]


def _cases():
    for op in sorted(CASES):
        call = _valid(op)
        for name in _array_arguments(call):
            a = call[name]
            if a.dtype == np.float32:
                yield op, name, "float64", a.astype(np.float64), TypeError
            else:
                error = ValueError if (op, name) in SHAPE_NOT_DTYPE else TypeError
                yield op, name, "float32", a.astype(np.float32), error
            yield op, name, "a list", a.tolist(), TypeError
            changes = [("rank", "one more axis", a[None])]
            if a.ndim:
                changes.append(("longer", "a longer last axis", np.concatenate([a, a[..., :1]], axis=-1)))
            for key, what, changed in changes:
                if (op, name) not in ANY_SHAPE and f"{op} {name} {key}" not in STILL_VALID:
                    yield op, name, what, changed, ValueError
        for name, bad in BAD_SCALARS.items():
            bad = BAD_SCALARS_BY_OP.get((op, name), bad)
            if name in call:
                for value, error in bad:
                    yield op, name, repr(value), value, error
        for name, bad in BAD_FLAGS.items():
            if name in inspect.signature(getattr(ops, op)).parameters:
                for value, error in bad:
                    yield op, name, repr(value), value, error


CASE_LIST = list(_cases())


@pytest.mark.parametrize(
    ("op", "name", "what", "value", "error"), CASE_LIST, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASE_LIST]
)
def test_bad_argument_is_refused_by_name(op, name, what, value, error):
    call = _valid(op)
    if op in IN_PLACE:
        call = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in call.items()}
    call[name] = value
    with pytest.raises(error) as caught:
        getattr(ops, op)(**call)
    message = str(caught.value)
    assert message.startswith(f"[{op}] "), message
    assert re.search(rf"\b{name}\b", message), f"{name} is not named: {message}"


def test_every_op_has_bad_inputs():
    assert {c[0] for c in CASE_LIST} == set(CASES)


def test_refusing_is_cheap():
    """A refused call costs microseconds, not the ~0.5 ms an exception path can."""
    x64 = np.ones(3)

    def refused():
        try:
            ops.relu(x64)
        except TypeError:
            pass

    def label_refused():
        try:
            ops.softmax_cross_entropy(np.zeros((1, 3), np.float32), np.array([2**63 + 5], np.uint64))
        except ValueError:
            pass

    for call in (refused, label_refused):
        per_call = min(timeit.repeat(call, number=200, repeat=5)) / 200
        assert per_call < 50e-6, f"{per_call * 1e6:.1f} us per refused call"


def test_unsigned_label_is_shown_unsigned():
    with pytest.raises(ValueError, match=r"\[softmax_cross_entropy\] labels must be .*got 9223372036854775813 at"):
        ops.softmax_cross_entropy(np.zeros((1, 3), np.float32), np.array([2**63 + 5], np.uint64))
    with pytest.raises(ValueError, match=r"got 9223372036854775813 at position 1"):
        ops.softmax_cross_entropy_backward(np.zeros((2, 3), np.float32), np.array([1, 2**63 + 5], np.uint64))
