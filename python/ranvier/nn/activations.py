"""PyTorch's activation modules over ranvier's activation layers (element-wise, any shape)."""

from __future__ import annotations

import numbers

import numpy as np

from ranvier import layers
from ranvier.layers.activations import _FLOAT32_MAX
from ranvier.layers.base import Layer, check_float, check_int
from ranvier.nn.layers import _unsupported
from ranvier.tensor import Tensor


class LeakyReLU(layers.LeakyReLU):
    """y = x where x > 0, negative_slope * x elsewhere; PyTorch's default slope 0.01 (Keras' layer: 0.3)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False, name: str | None = None):
        super().__init__(negative_slope=negative_slope, name=name)


class ELU(layers.ELU):
    """y = x where x > 0, alpha * (exp(x) - 1) elsewhere."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False, name: str | None = None):
        super().__init__(alpha=alpha, name=name)


class _Named(layers.Activation):
    """One of ranvier's named activations (the same function as PyTorch's module of the class name)."""

    activation_name = ""

    def __init__(self, name: str | None = None):
        super().__init__(self.activation_name, name=name)


class SELU(_Named):
    """scale * ELU(x, alpha) with PyTorch's (and Keras') constants alpha 1.6733, scale 1.0507."""

    activation_name = "selu"

    def __init__(self, inplace: bool = False, name: str | None = None):
        super().__init__(name=name)


class SiLU(_Named):
    """x * sigmoid(x)."""

    activation_name = "silu"

    def __init__(self, inplace: bool = False, name: str | None = None):
        super().__init__(name=name)


class GELU(_Named):
    """0.5 x (1 + erf(x / sqrt 2)), PyTorch's default approximate="none" (the tanh form is refused)."""

    activation_name = "gelu"

    def __init__(self, approximate: str = "none", name: str | None = None):
        _unsupported("GELU", "approximate", approximate, "none")
        super().__init__(name=name)


class Softplus(_Named):
    """log(1 + exp(x)) with PyTorch's defaults beta=1, threshold=20 only (past 20 both give x to float32)."""

    activation_name = "softplus"

    def __init__(self, beta: float = 1.0, threshold: float = 20.0, name: str | None = None):
        _unsupported("Softplus", "beta", beta, 1.0)
        _unsupported("Softplus", "threshold", threshold, 20.0)
        super().__init__(name=name)


class Softsign(_Named):
    """x / (1 + |x|)."""

    activation_name = "softsign"


class Hardsigmoid(_Named):
    """relu6(x + 3) / 6 (Keras 3's hard_sigmoid is the same function)."""

    activation_name = "hard_sigmoid"

    def __init__(self, inplace: bool = False, name: str | None = None):
        super().__init__(name=name)


class Sigmoid(_Named):
    """1 / (1 + exp(-x))."""

    activation_name = "sigmoid"


class Tanh(_Named):
    """tanh(x)."""

    activation_name = "tanh"


class Softmax(layers.Softmax):
    """exp(x) / sum(exp(x)) along ``dim``. dim must be given: PyTorch's implicit choice is deprecated there,
    and on ranvier's channels-last tensors its guess would pick another axis."""

    def __init__(self, dim: int | None = None, name: str | None = None):
        if dim is None or isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"[Softmax] dim must be an integer axis (PyTorch's implicit dim is refused), got {dim!r}")
        super().__init__(axis=int(dim), name=name)
        self.dim = self.axis


class PReLU(layers.PReLU):
    """y = max(x, 0) + weight * min(x, 0); ``weight`` (num_parameters,), initialised to ``init``.

    num_parameters=1 (PyTorch's default): one slope for every element. num_parameters=C: one per channel,
    and the channels are ranvier's last axis (PyTorch's are axis 1, NCHW). ``weight`` is the layer's alpha.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, name: str | None = None):
        count = check_int(num_parameters, "PReLU", "num_parameters")
        value = check_float(init, "PReLU", "init", -_FLOAT32_MAX, _FLOAT32_MAX)
        super().__init__(alpha_initializer=lambda shape: np.full(shape, value, np.float32), name=name)
        self.num_parameters = count
        self.alpha = self.add_weight("alpha", (count,), self.alpha_initializer)
        self.built = True

    def input_spec_for(self, shape):
        return None

    def _check_input(self, shape) -> None:
        if self.num_parameters != 1 and (not shape or shape[-1] != self.num_parameters):
            raise ValueError(
                f"[PReLU '{self.name}'] has {self.num_parameters} slopes, one per channel on the last axis "
                f"(ranvier is channels-last), got inputs of shape {tuple(shape)}"
            )

    @property
    def weight(self) -> Tensor:
        return self.alpha


class Identity(Layer):
    """y = x; any constructor arguments are ignored, as PyTorch's."""

    def __init__(self, *args, name: str | None = None, **kwargs):
        super().__init__(name=name)

    def call(self, x):
        return x
