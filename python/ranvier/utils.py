"""Seeding and small helpers (Keras names)."""

from __future__ import annotations

import numpy as np

from ranvier.image import img_to_array, load_img  # noqa: F401  (Keras: keras.utils.load_img)

_rng = np.random.default_rng()


def set_seed(seed: int) -> None:
    """Seed every random choice ranvier makes (initialisers, shuffling, dropout)."""
    global _rng
    _rng = np.random.default_rng(seed)


def rng() -> np.random.Generator:
    """The library's random generator (reseeded by ``set_seed``)."""
    return _rng


def next_seed() -> int:
    """A fresh 63-bit seed drawn from the library's generator (for kernels that take a seed)."""
    return int(_rng.integers(0, 2**63 - 1))


def to_categorical(y, num_classes: int | None = None, dtype="float32") -> np.ndarray:
    """Integer class labels (...,) -> one-hot (..., num_classes), as keras.utils.to_categorical."""
    y = np.asarray(y)
    if y.size and (y.dtype.kind not in "iu" and not np.all(np.equal(np.mod(y, 1), 0))):
        raise ValueError(f"[to_categorical] y must hold integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"[to_categorical] labels must be in [0, {num_classes}), got values from {y.min()} to {y.max()}"
        )
    out = np.zeros(y.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return out
