"""Losses with Keras names and call order: ``loss(y_true, y_pred)`` -> scalar Tensor.

Cross-entropy on logits runs through the fused, stable softmax-cross-entropy
kernel; ``Model.compile`` routes a softmax output layer there too.
"""

from __future__ import annotations

import copy

import numpy as np

from ranvier import functional as F
from ranvier.device import array_module, is_gpu_array, to_device
from ranvier.tensor import Tensor


class Loss:
    name = "loss"

    def __init__(self, reduction: str = "mean"):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"[{type(self).__name__}] reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        """The loss, each sample's loss scaled by ``sample_weight`` when given (Keras 3: the mean divides
        the weighted sum by the number of loss values, not by the sum of the weights)."""
        _check_keras_order(type(self).__name__, y_true, y_pred)
        y_true = _target(y_true, y_pred)
        if sample_weight is None:
            return self.call(y_true, y_pred)
        unreduced = copy.copy(self)
        unreduced.reduction = "none"
        per_sample = unreduced.call(y_true, y_pred)
        weighted = per_sample * _sample_weights(type(self).__name__, sample_weight, per_sample)
        return _reduce(weighted, self.reduction)

    def call(self, y_true, y_pred) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        """Constructor arguments (saved with a compiled model)."""
        return {"reduction": self.reduction}

    # Set for losses that can take logits instead of a softmax/sigmoid output.
    def from_logits_version(self):
        return None


def _check_keras_order(loss: str, y_true, y_pred) -> None:
    """A prediction passed first (PyTorch's order) would be taken as the target and train nothing right."""
    requires_grad = lambda v: isinstance(v, Tensor) and v.requires_grad  # noqa: E731
    if requires_grad(y_true) and not requires_grad(y_pred):
        raise ValueError(
            f"[{loss}] takes Keras' order loss(y_true, y_pred), but y_true is a Tensor that requires grad (a "
            "model's output?) and y_pred is a constant: call loss(targets, model(x)), or use ranvier.nn's "
            "losses (CrossEntropyLoss, MSELoss, BCELoss, BCEWithLogitsLoss), which take PyTorch's (input, target)"
        )


def _sample_weights(loss: str, sample_weight, per_sample) -> Tensor:
    """Weights as a constant float32 Tensor shaped to multiply the unreduced losses: one per sample
    ((N,) or (N, 1)), or one per loss value."""
    w = sample_weight.data if isinstance(sample_weight, Tensor) else sample_weight
    w = w if is_gpu_array(w) else np.asarray(w)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"[{loss}] sample_weight must hold numbers, got {w.dtype}")
    if not isinstance(per_sample, Tensor) or per_sample.ndim == 0:
        raise ValueError(
            f"[{loss}] sample_weight needs one loss per sample, but the loss function returned a scalar: "
            "return per-sample losses (N,) to weight them"
        )
    if w.ndim == per_sample.ndim + 1 and w.shape[-1] == 1:
        w = w[..., 0]
    if w.ndim < per_sample.ndim:
        w = w.reshape(w.shape + (1,) * (per_sample.ndim - w.ndim))
    if w.ndim != per_sample.ndim or any(a not in (1, b) for a, b in zip(w.shape, per_sample.shape)):
        raise ValueError(
            f"[{loss}] sample_weight of shape {tuple(np.shape(sample_weight))} does not fit the per-sample "
            f"losses of shape {per_sample.shape}: give one weight per sample"
        )
    return Tensor(to_device(w.astype(np.float32), per_sample.device, loss))


def _target(y, like):
    """Targets as a constant Tensor on like's device (float32 for floats, ints kept)."""
    if isinstance(y, Tensor):
        return y.to(like.device) if like is not None and y.device != like.device else y
    t = Tensor(y)
    if t.dtype.kind == "f" and t.dtype != np.float32:
        t = Tensor(t.data.astype(np.float32))
    return t.to(like.device) if isinstance(like, Tensor) and like.device != t.device else t


def _like_prediction(y_true, y_pred):
    """Targets as the predictions' float dtype (integer and bool targets are cast, as Keras casts y_true
    to y_pred's dtype); targets (N,) for predictions (N, 1) get the trailing axis, as Keras does."""
    if y_true.dtype.kind in "biu" and not y_true.requires_grad:
        y_true = Tensor(y_true.data.astype(y_pred.dtype))
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        return F.reshape(y_true, y_pred.shape)
    return y_true


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def call(self, y_true, y_pred):
        return F.mse(y_pred, _like_prediction(y_true, y_pred), reduction=self.reduction)


class BinaryCrossentropy(Loss):
    """From probabilities (clipped to [1e-7, 1 - 1e-7], as Keras) or, stably, from logits."""

    name = "binary_crossentropy"

    def __init__(self, from_logits: bool = False, reduction: str = "mean"):
        super().__init__(reduction)
        self.from_logits = from_logits

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}

    def call(self, y_true, y_pred):
        return F.binary_cross_entropy(
            y_pred, _like_prediction(y_true, y_pred), reduction=self.reduction, from_logits=self.from_logits
        )

    def from_logits_version(self):
        return BinaryCrossentropy(from_logits=True, reduction=self.reduction)


class CategoricalCrossentropy(Loss):
    """Targets one-hot or probabilities (N, C)."""

    name = "categorical_crossentropy"

    def __init__(self, from_logits: bool = False, reduction: str = "mean"):
        super().__init__(reduction)
        self.from_logits = from_logits

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}

    def call(self, y_true, y_pred):
        if self.from_logits:
            return F.softmax_cross_entropy(y_pred, y_true, reduction=self.reduction)
        return _crossentropy_of_probabilities(y_true, y_pred, self.reduction)

    def from_logits_version(self):
        return type(self)(from_logits=True, reduction=self.reduction)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Targets integer class indices (N,) (a trailing axis of 1 is accepted)."""

    name = "sparse_categorical_crossentropy"

    def call(self, y_true, y_pred):
        labels = y_true
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = F.reshape(labels, (-1,))
        if labels.dtype.kind == "f":
            labels = Tensor(labels.data.astype(np.int64))
        if self.from_logits:
            return F.softmax_cross_entropy(y_pred, labels, reduction=self.reduction)
        onehot = F.as_tensor(_one_hot(labels.data, y_pred.shape[-1]))
        return _crossentropy_of_probabilities(onehot, y_pred, self.reduction)


def _one_hot(labels, classes):
    xp = array_module(labels)
    return (labels[:, None] == xp.arange(classes)[None, :]).astype(np.float32)


def _crossentropy_of_probabilities(target, probs, reduction):
    """-sum(t log p) per sample, p clipped to [1e-7, 1 - 1e-7] as Keras does."""
    per_sample = -F.sum(target * F.log(F.clip(probs, 1e-7, 1 - 1e-7)), axis=-1)
    return _reduce(per_sample, reduction)


def _reduce(per_sample, reduction):
    if reduction == "mean":
        return F.mean(per_sample)
    if reduction == "sum":
        return F.sum(per_sample)
    return per_sample


_BY_NAME = {
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}


def get(loss) -> Loss:
    """A Loss from a Loss, a Keras name, or a callable(y_true, y_pred)."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        if loss not in _BY_NAME:
            raise ValueError(f"[compile] unknown loss {loss!r}; known: {', '.join(_BY_NAME)}")
        return _BY_NAME[loss]()
    if callable(loss):
        wrapper = Loss()
        wrapper.call = loss
        wrapper.name = getattr(loss, "__name__", "loss")
        return wrapper
    raise TypeError(f"[compile] loss must be a Loss, a name or a callable, got {type(loss).__name__}")
