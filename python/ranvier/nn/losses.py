"""Losses in PyTorch's order, ``loss_fn(input, target)``, over ranvier's fused loss kernels.

Each reduces as PyTorch does ("mean" over every element, "sum", or "none":
one loss per element), by running the kernel on the flattened batch.
"""

from __future__ import annotations

import numpy as np

from ranvier import functional as F
from ranvier.tensor import Tensor


def _requires_grad(value) -> bool:
    return isinstance(value, Tensor) and value.requires_grad


class _Loss:
    def __init__(self, reduction: str = "mean"):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"[{type(self).__name__}] reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction

    def __call__(self, input, target) -> Tensor:
        name = type(self).__name__
        if _requires_grad(target) and not _requires_grad(input):
            raise ValueError(
                f"[{name}] takes PyTorch's order loss_fn(input, target), but target is a Tensor that requires "
                "grad (a model's output?) and input is a constant: call loss_fn(model(x), targets)"
            )
        input = F.as_tensor(input)
        target = F.as_tensor(target, like=input)
        return self.forward(input, target)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        raise NotImplementedError

    def _elementwise(self, kernel, input: Tensor, target: Tensor) -> Tensor:
        """``kernel(pred, target, reduction)`` on the flattened batch, so that each element is a sample."""
        if input.shape != target.shape:
            raise ValueError(
                f"[{type(self).__name__}] input and target must have the same shape, got {input.shape} and "
                f"{target.shape} (PyTorch would broadcast them, which is rarely meant)"
            )
        if target.dtype != np.float32:
            target = F.as_tensor(target.data.astype(np.float32))
        loss = kernel(F.reshape(input, (-1,)), F.reshape(target, (-1,)), reduction=self.reduction)
        return F.reshape(loss, input.shape) if self.reduction == "none" else loss


class MSELoss(_Loss):
    """(input - target)^2, reduced."""

    def forward(self, input, target):
        return self._elementwise(F.mse, input, target)


class BCELoss(_Loss):
    """-(t log p + (1 - t) log(1 - p)) on probabilities p. p is clipped to [1e-7, 1 - 1e-7] (Keras' rule)
    where PyTorch clamps each log at -100: the same inside that range."""

    def forward(self, input, target):
        return self._elementwise(F.binary_cross_entropy, input, target)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(input), computed stably from the logits."""

    def forward(self, input, target):
        def from_logits(pred, t, reduction):
            return F.binary_cross_entropy(pred, t, reduction=reduction, from_logits=True)

        return self._elementwise(from_logits, input, target)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of softmax(input): input (N, C) logits, target (N,) integer classes or (N, C)
    probabilities. Classes on the last axis (PyTorch's (N, C, d1, ...) inputs: move C last and flatten).
    No ``weight``, ``ignore_index`` or ``label_smoothing``: a class id outside [0, C) is an error."""

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(reduction)
        if label_smoothing != 0.0:
            raise ValueError(f"[CrossEntropyLoss] label_smoothing={label_smoothing!r} is not supported (only 0.0)")

    def forward(self, input, target):
        if input.ndim != 2:
            raise ValueError(f"[CrossEntropyLoss] input must be (N, C) logits, got shape {input.shape}")
        return F.softmax_cross_entropy(input, target, reduction=self.reduction)
