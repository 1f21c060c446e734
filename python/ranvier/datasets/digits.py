"""Real handwritten digits that ship inside ranvier: no download, no extra dependency.

The UCI "Optical Recognition of Handwritten Digits" set (1,797 images of 8x8,
CC BY 4.0; see data/DIGITS_LICENSE.txt), the same data scikit-learn ships.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

NUM_CLASSES = 10
TEST_SIZE = 360  # about 20%, taken class by class


def _raw():
    with resources.files("ranvier.datasets").joinpath("data/digits.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as data:
            return data["images"], data["labels"]


def load_data():
    """``(x_train, y_train), (x_test, y_test)`` like ``keras.datasets.mnist.load_data()``.

    x: uint8 (N, 8, 8), the 0..16 pixel counts rescaled to 0..255 (so ``x / 255``
    works as for MNIST); y: uint8 (N,) digits 0..9. 1,438 training and 359 test
    images: a fixed split (the same on every machine), 20% of each class.
    """
    images, labels = _raw()
    images = np.round(images.astype(np.float32) * (255.0 / 16.0)).astype(np.uint8)
    order = np.random.default_rng(20261123).permutation(len(labels))
    test = np.zeros(len(labels), bool)
    for c in range(NUM_CLASSES):  # the same share of every class in the test set
        members = order[labels[order] == c]
        test[members[: round(TEST_SIZE * len(members) / len(labels))]] = True
    return (images[~test], labels[~test]), (images[test], labels[test])
