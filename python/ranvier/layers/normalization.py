"""Normalisation layers."""

from __future__ import annotations

from ranvier import functional as F
from ranvier.layers.base import Layer, check_bool, check_float
from ranvier.tensor import no_grad


class BatchNormalization(Layer):
    """Normalises each feature (last axis) over the batch (and spatial axes).

    Training: y = gamma (x - mean_B) / sqrt(var_B + epsilon) + beta, and the
    moving statistics move toward the batch's: m = momentum m + (1 - momentum) b.
    Inference (``model.eval()``, ``predict``) and a frozen layer (``trainable =
    False``, as Keras 3): the moving statistics are used and left unchanged.
    """

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if axis != -1:
            raise ValueError(f"[BatchNormalization] only axis=-1 (channels last) is supported, got {axis}")
        name = "BatchNormalization"
        self.momentum = check_float(momentum, name, "momentum", 0.0, 1.0)
        self.epsilon = check_float(epsilon, name, "epsilon", 0.0, 1.0)
        self.center, self.scale = check_bool(center, name, "center"), check_bool(scale, name, "scale")

    def build(self, input_shape):
        c = input_shape[-1]
        self.gamma = self.add_weight("gamma", (c,), "ones") if self.scale else None
        self.beta = self.add_weight("beta", (c,), "zeros") if self.center else None
        self.moving_mean = self.add_weight("moving_mean", (c,), "zeros", trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (c,), "ones", trainable=False)

    def call(self, x):
        axes = tuple(range(x.ndim - 1))
        if self.training and self.trainable:
            mean = F.mean(x, axis=axes)
            centered = x - mean
            var = F.mean(centered * centered, axis=axes)
            with no_grad():
                m = self.momentum
                self.moving_mean.data[...] = m * self.moving_mean.data + (1 - m) * mean.data
                self.moving_variance.data[...] = m * self.moving_variance.data + (1 - m) * var.data
        else:
            mean, var = self.moving_mean.detach(), self.moving_variance.detach()
            centered = x - mean
        y = centered / F.sqrt(var + self.epsilon)
        if self.gamma is not None:
            y = y * self.gamma
        if self.beta is not None:
            y = y + self.beta
        return y

    def get_config(self):
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
        }


class LayerNormalization(Layer):
    """Normalises each sample over its last axis: gamma (x - mean) / sqrt(var + epsilon) + beta.

    gamma, beta (features,); epsilon 1e-3 as Keras (PyTorch uses 1e-5).
    """

    def __init__(self, axis: int = -1, epsilon: float = 1e-3, **kwargs):
        super().__init__(**kwargs)
        if axis != -1:
            raise ValueError(f"[LayerNormalization] only axis=-1 is supported, got {axis}")
        self.epsilon = check_float(epsilon, "LayerNormalization", "epsilon", 0.0, 1.0)

    def build(self, input_shape):
        self.gamma = self.add_weight("gamma", (input_shape[-1],), "ones")
        self.beta = self.add_weight("beta", (input_shape[-1],), "zeros")

    def call(self, x):
        return F.layer_norm(x, self.gamma, self.beta, eps=self.epsilon)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}
