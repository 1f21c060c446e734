"""Data for the examples: the digits set that ships with ranvier, reshaped to
what each classic program expects, or a real data set when it is on disk."""

from __future__ import annotations

import numpy as np

from ranvier import datasets, train


def digits_as_mnist():
    """digits upsampled 3x (8x8 -> 24x24) and padded to MNIST's 28x28, in [0, 1], NHWC."""
    (x_train, y_train), (x_test, y_test) = datasets.digits.load_data()

    def grow(x):
        x = np.kron(x.astype(np.float32) / 255.0, np.ones((1, 3, 3), np.float32))
        return np.pad(x, ((0, 0), (2, 2), (2, 2)))[..., None]

    return (grow(x_train), y_train.astype(np.int64)), (grow(x_test), y_test.astype(np.int64))


def load_images(name: str, data_dir: str | None = None):
    """(x_train, y_train), (x_test, y_test) as float32 NHWC in [0, 1] and int labels."""
    if name == "digits":
        return digits_as_mnist()
    return train.load(name, data_dir)  # the main job's loader: a real data set, downloaded or from data_dir


def colored_squares(n: int, seed: int = 0):
    """A small CIFAR-shaped task (32x32x3, 10 classes): which of 10 colours the square is, on noise."""
    palette = np.random.default_rng(1234).random((10, 3)).astype(np.float32)  # the same for every split
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = rng.random((n, 32, 32, 3)).astype(np.float32) * 0.3
    for i, c in enumerate(y):
        r, col = rng.integers(0, 20, 2)
        x[i, r : r + 12, col : col + 12] = palette[c]
    return x, y.astype(np.int64)
