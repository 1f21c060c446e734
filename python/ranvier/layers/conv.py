"""Convolution and pooling layers on NHWC images (Keras' channels_last)."""

from __future__ import annotations

from ranvier import activations
from ranvier import functional as F
from ranvier.layers.base import Layer, check_activation, check_bool, check_int


def _pair(value, what: str, layer: str) -> tuple:
    pair = (value, value) if not isinstance(value, (list, tuple)) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"[{layer}] {what} must be a positive int or a pair of them, got {value!r}")
    return tuple(check_int(v, layer, what) for v in pair)


class Conv2D(Layer):
    """y = activation(conv(x, kernel) + bias): x (N, H, W, C), kernel (kh, kw, C, filters), bias (filters,).

    Output (N, HO, WO, filters) with HO = ceil((H - dilation*(kh-1)) / stride)
    for "valid" padding and ceil(H / stride) for "same".
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=(1, 1),
        padding: str = "valid",
        dilation_rate=(1, 1),
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int(filters, "Conv2D", "filters")
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2D")
        self.strides = _pair(strides, "strides", "Conv2D")
        self.dilation_rate = _pair(dilation_rate, "dilation_rate", "Conv2D")
        if str(padding).lower() not in ("valid", "same"):
            raise ValueError(f"[Conv2D] padding must be 'valid' or 'same', got {padding!r}")
        self.padding = str(padding).lower()
        activations.get(check_activation(activation, "Conv2D"))
        self.activation = activation
        self.use_bias = check_bool(use_bias, "Conv2D", "use_bias")
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"[Conv2D '{self.name}'] expects images (N, H, W, C), got inputs of shape {input_shape}")
        self.kernel = self.add_weight(
            "kernel", self.kernel_size + (input_shape[-1], self.filters), self.kernel_initializer
        )
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer) if self.use_bias else None

    def call_logits(self, x):
        return F.conv2d(
            x, self.kernel, self.bias, stride=self.strides, padding=self.padding, dilation=self.dilation_rate
        )

    def call(self, x):
        if activations.is_fused(self.activation):
            act = activations.fused_name(self.activation)
            return F.conv2d(
                x,
                self.kernel,
                self.bias,
                stride=self.strides,
                padding=self.padding,
                dilation=self.dilation_rate,
                activation=act,
            )
        return activations.get(self.activation)(self.call_logits(x))

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": list(self.dilation_rate),
            "activation": self.activation,
            "use_bias": self.use_bias,
        }


class _Pooling2D(Layer):
    function = None

    def __init__(self, pool_size=(2, 2), strides=None, padding: str = "valid", **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.pool_size = _pair(pool_size, "pool_size", name)
        self.strides = self.pool_size if strides is None else _pair(strides, "strides", name)
        if str(padding).lower() not in ("valid", "same"):
            raise ValueError(f"[{name}] padding must be 'valid' or 'same', got {padding!r}")
        self.padding = str(padding).lower()

    def call(self, x):
        return type(self).function(x, self.pool_size, self.strides, self.padding)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
        }


class MaxPooling2D(_Pooling2D):
    """The maximum over each pool_size window, moving by strides (default pool_size)."""

    function = staticmethod(F.max_pool2d)


class AveragePooling2D(_Pooling2D):
    """The mean over each pool_size window ("same" padding averages only the real pixels)."""

    function = staticmethod(F.avg_pool2d)


class GlobalAveragePooling2D(Layer):
    """(N, H, W, C) -> (N, C): the mean of each channel."""

    def call(self, x):
        return F.global_avg_pool2d(x)


class GlobalAveragePooling1D(Layer):
    """(N, L, C) -> (N, C): the mean over the sequence axis."""

    def call(self, x):
        return F.mean(x, axis=1)
