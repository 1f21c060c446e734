"""Convolution layers on NHWC images and (N, L, C) sequences (Keras' channels_last),
and the 2-D pooling layers (the 1-D and global max ones are in pooling.py)."""

from __future__ import annotations

from ranvier import activations
from ranvier import functional as F
from ranvier.layers.base import Layer, check_activation, check_bool, check_int


def channels_last(data_format, layer: str) -> str:
    """Keras' data_format, of which ranvier has only "channels_last" (None means it)."""
    if data_format not in (None, "channels_last"):
        raise ValueError(
            f"[{layer}] data_format must be 'channels_last' (ranvier is channels-last only: "
            f"transpose the input to (N, ..., C)), got {data_format!r}"
        )
    return "channels_last"


def single(value, what: str, layer: str) -> int:
    """A positive int, or a tuple or list of one (Keras' 1-D layers take both)."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"[{layer}] {what} must be a positive int or a tuple of one, got {value!r}")
        value = value[0]
    return check_int(value, layer, what)


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


class Conv1D(Layer):
    """y = activation(conv(x, kernel) + bias): x (N, L, C), kernel (k, C, filters), bias (filters,).

    Output (N, LO, filters): LO = ceil((L - dilation*(k-1)) / stride) for
    "valid", ceil(L / stride) for "same", and for "causal" (dilation*(k-1)
    zeros on the left: output t sees inputs up to t) ceil(L / stride).
    conv2d's kernels with H = 1.
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=1,
        padding: str = "valid",
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int(filters, "Conv1D", "filters")
        self.kernel_size = single(kernel_size, "kernel_size", "Conv1D")
        self.strides = single(strides, "strides", "Conv1D")
        self.data_format = channels_last(data_format, "Conv1D")
        self.dilation_rate = single(dilation_rate, "dilation_rate", "Conv1D")
        if str(padding).lower() not in ("valid", "same", "causal"):
            raise ValueError(f"[Conv1D] padding must be 'valid', 'same' or 'causal', got {padding!r}")
        self.padding = str(padding).lower()
        activations.get(check_activation(activation, "Conv1D"))
        self.activation = activation
        self.use_bias = check_bool(use_bias, "Conv1D", "use_bias")
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"[Conv1D '{self.name}'] expects sequences (N, L, C), got inputs of shape {input_shape}")
        self.kernel = self.add_weight(
            "kernel", (self.kernel_size, input_shape[-1], self.filters), self.kernel_initializer
        )
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer) if self.use_bias else None

    def _conv(self, x, activation=None):
        return F.conv1d(
            x,
            self.kernel,
            self.bias,
            stride=self.strides,
            padding=self.padding,
            dilation=self.dilation_rate,
            activation=activation,
        )

    def call_logits(self, x):
        return self._conv(x)

    def call(self, x):
        if activations.is_fused(self.activation):
            return self._conv(x, None if self.activation == "linear" else self.activation)
        return activations.get(self.activation)(self._conv(x))

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": [self.kernel_size],
            "strides": [self.strides],
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": [self.dilation_rate],
            "activation": self.activation,
            "use_bias": self.use_bias,
        }


class Conv2DTranspose(Layer):
    """y = activation(conv_transpose(x, kernel) + bias): x (N, H, W, C), kernel (kh, kw, filters, C)
    (Keras' layout: filters before input channels), bias (filters,).

    Each input pixel adds its kernel-weighted copy to the output at stride
    steps (the input gradient of a Conv2D). Output (N, HO, WO, filters),
    sizes as Keras 3: "valid" HO = (H - 1) * stride + max(span, stride),
    "same" HO = H * stride (span = dilation*(kh-1) + 1); with output_padding p
    (each < stride): (H - 1) * stride + span + p ("valid") or
    (H - 1) * stride + span % 2 + p ("same").
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        strides=(1, 1),
        padding: str = "valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        layer = "Conv2DTranspose"
        self.filters = check_int(filters, layer, "filters")
        self.kernel_size = _pair(kernel_size, "kernel_size", layer)
        self.strides = _pair(strides, "strides", layer)
        if str(padding).lower() not in ("valid", "same"):
            raise ValueError(f"[{layer}] padding must be 'valid' or 'same', got {padding!r}")
        self.padding = str(padding).lower()
        self.output_padding = None
        if output_padding is not None:
            pads = (output_padding, output_padding) if not isinstance(output_padding, (list, tuple)) else output_padding
            if len(pads) != 2:
                raise ValueError(f"[{layer}] output_padding must be None, an int or a pair, got {output_padding!r}")
            self.output_padding = tuple(check_int(p, layer, "output_padding", minimum=0) for p in pads)
            if any(p >= s for p, s in zip(self.output_padding, self.strides)):
                raise ValueError(
                    f"[{layer}] output_padding must be less than strides {self.strides} in each dimension, "
                    f"got {output_padding!r}"
                )
        self.data_format = channels_last(data_format, layer)
        self.dilation_rate = _pair(dilation_rate, "dilation_rate", layer)
        activations.get(check_activation(activation, layer))
        self.activation = activation
        self.use_bias = check_bool(use_bias, layer, "use_bias")
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"[Conv2DTranspose '{self.name}'] expects images (N, H, W, C), got inputs of shape {input_shape}"
            )
        self.kernel = self.add_weight(
            "kernel", self.kernel_size + (self.filters, input_shape[-1]), self.kernel_initializer
        )
        self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer) if self.use_bias else None

    def call(self, x):
        y = F.conv2d_transpose(
            x,
            self.kernel,
            self.bias,
            stride=self.strides,
            padding=self.padding,
            output_padding=self.output_padding,
            dilation=self.dilation_rate,
        )
        return activations.get(self.activation)(y)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "output_padding": None if self.output_padding is None else list(self.output_padding),
            "data_format": self.data_format,
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


class _GlobalPooling(Layer):
    """Keras' global pooling: over every axis between the batch and the channels."""

    rank = 4

    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = channels_last(data_format, type(self).__name__)
        self.keepdims = check_bool(keepdims, type(self).__name__, "keepdims")

    def call(self, x):  # subclasses define pool(x) -> (N, C)
        if x.ndim != self.rank:
            layout = "(N, L, C)" if self.rank == 3 else "(N, H, W, C)"
            raise ValueError(f"[{type(self).__name__} '{self.name}'] expects {layout}, got inputs of shape {x.shape}")
        y = self.pool(x)
        return F.reshape(y, (x.shape[0],) + (1,) * (self.rank - 2) + (x.shape[-1],)) if self.keepdims else y

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling):
    """(N, H, W, C) -> (N, C) (keepdims: (N, 1, 1, C)): the mean of each channel."""

    def pool(self, x):
        return F.global_avg_pool2d(x)


class GlobalAveragePooling1D(_GlobalPooling):
    """(N, L, C) -> (N, C) (keepdims: (N, 1, C)): the mean over the sequence axis."""

    rank = 3

    def pool(self, x):
        return F.mean(x, axis=1)
