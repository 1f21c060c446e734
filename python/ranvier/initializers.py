"""Weight initialisers with Keras' names and defaults, drawn from ranvier.utils.rng()."""

from __future__ import annotations

import numpy as np

from ranvier import utils


def _fans(shape):
    """(fan_in, fan_out) as Keras computes them: conv kernels count the receptive field."""
    if len(shape) < 2:
        n = shape[0] if shape else 1
        return n, n
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


def glorot_uniform(shape):
    fan_in, fan_out = _fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return utils.rng().uniform(-limit, limit, shape).astype(np.float32)


def he_normal(shape):
    fan_in, _ = _fans(shape)
    return (utils.rng().standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def orthogonal(shape):
    """Orthogonal matrix (Keras' default recurrent initialiser); shape (rows, cols)."""
    rows, cols = shape[0], int(np.prod(shape[1:]))
    a = utils.rng().standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    q = q if rows >= cols else q.T
    return q[:rows, :cols].reshape(shape).astype(np.float32)


def uniform(shape, limit: float = 0.05):
    """Keras' "uniform" (RandomUniform(-0.05, 0.05)), the Embedding default."""
    return utils.rng().uniform(-limit, limit, shape).astype(np.float32)


def zeros(shape):
    return np.zeros(shape, np.float32)


def ones(shape):
    return np.ones(shape, np.float32)


_BY_NAME = {
    "glorot_uniform": glorot_uniform,
    "he_normal": he_normal,
    "orthogonal": orthogonal,
    "uniform": uniform,
    "zeros": zeros,
    "ones": ones,
}


def get(name_or_fn):
    if callable(name_or_fn):
        return name_or_fn
    try:
        return _BY_NAME[name_or_fn]
    except KeyError:
        raise ValueError(f"unknown initializer {name_or_fn!r}; known: {', '.join(_BY_NAME)}") from None
