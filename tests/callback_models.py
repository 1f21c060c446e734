"""The small model and data the callback tests train (tests/test_callbacks*.py)."""

import numpy as np

import ranvier
from ranvier.layers import Dense


def small_model(optimizer="sgd", seed=8):
    ranvier.utils.set_seed(seed)
    model = ranvier.Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1)])
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
    return model


def regression_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3)).astype(np.float32)
    return x, x.sum(axis=1, keepdims=True)
