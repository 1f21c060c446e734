"""Metrics computed on each batch's predictions and averaged over an epoch."""

from __future__ import annotations

import numpy as np


def _np(a):
    return a.get() if hasattr(a, "get") else np.asarray(a)


def sparse_categorical_accuracy(y_true, y_pred) -> float:
    labels = _np(y_true).reshape(-1).astype(np.int64)
    return float(np.mean(np.argmax(_np(y_pred), axis=-1).reshape(-1) == labels))


def categorical_accuracy(y_true, y_pred) -> float:
    return float(np.mean(np.argmax(_np(y_pred), axis=-1) == np.argmax(_np(y_true), axis=-1)))


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> float:
    pred, true = _np(y_pred), _np(y_true)
    if true.size == pred.size:
        true = true.reshape(pred.shape)  # labels (N,) for predictions (N, 1)
    return float(np.mean((pred > threshold) == (true > 0.5)))


def mean_absolute_error(y_true, y_pred) -> float:
    pred, true = _np(y_pred), _np(y_true)
    return float(np.mean(np.abs(pred - (true.reshape(pred.shape) if true.size == pred.size else true))))


def _accuracy_for(loss_name: str, y_true, y_pred):
    """Keras' choice behind "accuracy": binary for one output unit or binary
    cross-entropy, sparse for integer labels, else categorical."""
    if loss_name == "binary_crossentropy" or y_pred.shape[-1] == 1:
        return binary_accuracy
    if loss_name == "sparse_categorical_crossentropy" or y_true.ndim == 1 or y_true.shape[-1] == 1:
        return sparse_categorical_accuracy
    return categorical_accuracy


_BY_NAME = {
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "binary_accuracy": binary_accuracy,
    "mae": mean_absolute_error,
    "mean_absolute_error": mean_absolute_error,
}


def get(metric, loss_name: str):
    """(name, fn) for a metric; "accuracy"/"acc" picks the variant that fits the loss, as Keras."""
    if callable(metric):
        return getattr(metric, "__name__", "metric"), metric
    if metric in ("accuracy", "acc"):
        return metric, lambda y_true, y_pred: _accuracy_for(loss_name, y_true, y_pred)(y_true, y_pred)
    if metric not in _BY_NAME:
        raise ValueError(f"[compile] unknown metric {metric!r}; known: accuracy, {', '.join(_BY_NAME)}")
    return metric, _BY_NAME[metric]
