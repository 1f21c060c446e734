"""PyTorch-named layers over ranvier's: sizes given, weights made at construction, ranvier's layouts."""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from ranvier import functional as F
from ranvier import initializers, layers, utils
from ranvier.layers.base import Layer, check_float, check_int, shape_str
from ranvier.tensor import Tensor


def _uniform(bound: float):
    """PyTorch's default for Linear/Conv2d weights and biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    return partial(initializers.uniform, limit=bound)


def _standard_normal(shape):
    return utils.rng().standard_normal(shape).astype(np.float32)


def _unsupported(module: str, what: str, value, default) -> None:
    if value != default:
        raise ValueError(f"[{module}] {what}={value!r} is not supported (only {default!r})")


def _no_transposed_alias(name: str, ranvier_name: str, layout: str):
    """``weight`` would be PyTorch's transpose: refuse it, naming the layout, rather than let a copy go wrong."""

    def weight(self):
        raise AttributeError(
            f"[{name}] ranvier keeps this weight as .{ranvier_name} {layout}, not PyTorch's .weight layout; "
            f"transpose when copying weights from PyTorch"
        )

    return property(weight)


class _LastAxis:
    """Accepts any leading axes (as PyTorch) and checks only the feature axis."""

    def input_spec_for(self, shape):
        return None

    def _check_input(self, shape) -> None:
        if not shape or shape[-1] != self.features_in:
            raise ValueError(
                f"[{type(self).__name__} '{self.name}'] expects inputs (..., {self.features_in}), "
                f"got a batch of shape {shape_str(tuple(shape))}"
            )


class Linear(_LastAxis, layers.Dense):
    """y = x @ kernel + bias over the last axis: (..., in_features) -> (..., out_features).

    Layout: ``kernel`` (in_features, out_features), the transpose of PyTorch's
    ``weight`` (out, in); ``bias`` (out_features,). Initialised as PyTorch:
    U(-1/sqrt(in_features), 1/sqrt(in_features)) for both.
    """

    weight = _no_transposed_alias("Linear", "kernel", "(in_features, out_features)")

    def __init__(self, in_features: int, out_features: int, bias: bool = True, name: str | None = None):
        self.features_in = check_int(in_features, "Linear", "in_features")
        bound = 1 / math.sqrt(self.features_in)
        super().__init__(
            out_features, use_bias=bias, kernel_initializer=_uniform(bound), bias_initializer=_uniform(bound), name=name
        )
        self.in_features, self.out_features = self.features_in, self.units
        self.build_from((None, self.features_in))


class Conv2d(layers.Conv2D):
    """2-D convolution on NHWC images: (N, H, W, in_channels) -> (N, HO, WO, out_channels).

    Layout: images channels-last (ranvier's NHWC, not PyTorch's NCHW: pass
    ``x.transpose(0, 2, 3, 1)`` of an NCHW batch); ``kernel`` (kh, kw, in, out)
    where PyTorch's ``weight`` is (out, in, kh, kw). ``padding`` an int, a pair,
    "valid" or "same" (stride 1, as PyTorch). Initialised as PyTorch:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels * kh * kw.
    """

    weight = _no_transposed_alias("Conv2d", "kernel", "(kh, kw, in_channels, out_channels)")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        name: str | None = None,
    ):
        _unsupported("Conv2d", "groups", groups, 1)
        self.in_channels = check_int(in_channels, "Conv2d", "in_channels")
        kh, kw = layers.conv._pair(kernel_size, "kernel_size", "Conv2d")
        bound = 1 / math.sqrt(self.in_channels * kh * kw)
        super().__init__(
            out_channels,
            (kh, kw),
            strides=stride,
            dilation_rate=dilation,
            use_bias=bias,
            kernel_initializer=_uniform(bound),
            bias_initializer=_uniform(bound),
            name=name,
        )
        self.out_channels = self.filters
        if isinstance(padding, str):
            if padding.lower() not in ("valid", "same"):
                raise ValueError(f"[Conv2d] padding must be 'valid', 'same', an int or a pair, got {padding!r}")
            if padding.lower() == "same" and self.strides != (1, 1):
                raise ValueError("[Conv2d] padding='same' needs stride 1, as in PyTorch")
            self.padding = padding.lower()
        else:
            self.padding = layers.conv._pair(padding, "padding", "Conv2d") if padding != 0 else "valid"
        self.build_from((None, None, None, self.in_channels))

    def _check_input(self, shape) -> None:
        c = self.in_channels
        if len(shape) == 4 and shape[1] == c and shape[-1] != c:
            raise ValueError(
                f"[Conv2d '{self.name}'] takes NHWC images (N, H, W, C={c}), got {shape_str(tuple(shape))}, "
                f"which looks channels-first (NCHW, PyTorch's layout): pass x.transpose(0, 2, 3, 1)"
            )
        super()._check_input(shape)


def _pool_args(module: str, padding, dilation, ceil_mode) -> None:
    _unsupported(module, "padding", padding, 0)
    _unsupported(module, "dilation", dilation, 1)
    _unsupported(module, "ceil_mode", ceil_mode, False)


class MaxPool2d(layers.MaxPooling2D):
    """The maximum over each kernel_size window of NHWC images, moving by stride (default kernel_size).
    Layout NHWC (ranvier's), where PyTorch pools NCHW."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, name: str | None = None):
        _pool_args("MaxPool2d", padding, dilation, ceil_mode)
        super().__init__(pool_size=kernel_size, strides=stride, name=name)


class AvgPool2d(layers.AveragePooling2D):
    """The mean over each kernel_size window of NHWC images, moving by stride (default kernel_size).
    Layout NHWC (ranvier's), where PyTorch pools NCHW. No padding (PyTorch would count padded zeros)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, name: str | None = None):
        _pool_args("AvgPool2d", padding, 1, ceil_mode)
        super().__init__(pool_size=kernel_size, strides=stride, name=name)


class ReLU(Layer):
    """max(x, 0), element-wise."""

    def __init__(self, inplace: bool = False, name: str | None = None):
        super().__init__(name=name)  # inplace is an allocation hint in PyTorch; the result is the same

    def call(self, x):
        return F.relu(x)


class Flatten(Layer):
    """Joins axes start_dim..end_dim. On NHWC images the features come out in (H, W, C) order, not
    PyTorch's (C, H, W): a Linear after it has rows in that order."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1, name: str | None = None):
        super().__init__(name=name)
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def call(self, x):
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        joined = int(np.prod(x.shape[start : end + 1]))
        return F.reshape(x, x.shape[:start] + (joined,) + x.shape[end + 1 :])


class Dropout(layers.Dropout):
    """In training zeroes each element with probability p and scales the rest by 1 / (1 - p); identity in eval()."""

    def __init__(self, p: float = 0.5, inplace: bool = False, name: str | None = None):
        super().__init__(rate=p, name=name)


class LayerNorm(_LastAxis, layers.LayerNormalization):
    """Normalises the last axis: weight * (x - mean) / sqrt(var + eps) + bias; weight, bias (normalized_shape,),
    as PyTorch (``weight`` and ``bias`` are ranvier's ``gamma`` and ``beta``)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, name: str | None = None):
        shape = (normalized_shape,) if not isinstance(normalized_shape, (list, tuple)) else tuple(normalized_shape)
        if len(shape) != 1:
            raise ValueError(f"[LayerNorm] only the last axis is normalised: normalized_shape (C,), got {shape}")
        _unsupported("LayerNorm", "elementwise_affine", elementwise_affine, True)
        self.features_in = check_int(shape[0], "LayerNorm", "normalized_shape")
        super().__init__(epsilon=check_float(eps, "LayerNorm", "eps", 0.0, 1.0), name=name)
        self.build_from((None, self.features_in))

    @property
    def weight(self) -> Tensor:
        return self.gamma

    @property
    def bias(self) -> Tensor:
        return self.beta


class Embedding(layers.Embedding):
    """ids (...) -> weight[ids] (..., embedding_dim); ``weight`` (num_embeddings, embedding_dim) as PyTorch,
    initialised N(0, 1). Ids outside [0, num_embeddings) are an error."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, name: str | None = None):
        _unsupported("Embedding", "padding_idx", padding_idx, None)
        super().__init__(num_embeddings, embedding_dim, embeddings_initializer=_standard_normal, name=name)
        self.num_embeddings, self.embedding_dim = self.input_dim, self.output_dim
        self.build_from((None,))

    @property
    def weight(self) -> Tensor:
        return self.embeddings


class _RecurrentStack(Layer):
    """num_layers ranvier recurrent layers over batch-first sequences (see LSTM and GRU)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        name: str | None = None,
    ):
        module = type(self).__name__
        if batch_first is not True:
            raise ValueError(
                f"[{module}] ranvier's recurrent kernels take batch-first sequences (N, L, features): "
                "pass batch_first=True (and batch-first inputs)"
            )
        for what, value, default in (
            ("bias", bias, True),
            ("dropout", dropout, 0.0),
            ("bidirectional", bidirectional, False),
        ):
            _unsupported(module, what, value, default)
        super().__init__(name=name)
        self.input_size = check_int(input_size, module, "input_size")
        self.hidden_size = check_int(hidden_size, module, "hidden_size")
        self.num_layers = check_int(num_layers, module, "num_layers")
        init = _uniform(1 / math.sqrt(self.hidden_size))
        self.layers = [
            self._layer(
                self.hidden_size,
                return_sequences=True,
                return_state=True,
                kernel_initializer=init,
                recurrent_initializer=init,
                bias_initializer=init,
                input_shape=(None, self.input_size if i == 0 else self.hidden_size),
                name=f"{self.name}_l{i}",
            )
            for i in range(self.num_layers)
        ]
        for layer in self.layers:
            self._adopt(layer)


class LSTM(_RecurrentStack):
    """``lstm(x, (h0, c0))`` -> ``output, (h_n, c_n)`` over batch-first sequences (batch_first=True only:
    ranvier's kernel runs (N, L, features)); output (N, L, hidden), h_n and c_n (num_layers, N, hidden).

    Layout per layer (``layers[i]``): kernel (features, 4 hidden), recurrent_kernel (hidden, 4 hidden) in
    PyTorch's gate order (i, f, g, o), transposed from weight_ih/weight_hh; one bias (PyTorch's b_ih + b_hh).
    Initialised U(-1/sqrt(hidden), 1/sqrt(hidden)) as PyTorch (the single bias too).
    """

    _layer = partial(layers.LSTM, unit_forget_bias=False)

    def call(self, x, hx=None):
        h_n, c_n = [], []
        for i, layer in enumerate(self.layers):
            state = None if hx is None else (hx[0][i], hx[1][i])
            x, h, c = layer(x, initial_state=state)
            h_n.append(h)
            c_n.append(c)
        return x, (F.stack(h_n, axis=0), F.stack(c_n, axis=0))


class GRU(_RecurrentStack):
    """``gru(x, h0)`` -> ``output, h_n`` over batch-first sequences (batch_first=True only); output
    (N, L, hidden), h_n (num_layers, N, hidden). PyTorch's GRU is Keras' with reset_after=True.

    Layout per layer (``layers[i]``, a ``layers.GRU``): Keras' gate order (z, r, h), where PyTorch's is
    (r, z, n): kernel (features, 3 hidden) and recurrent_kernel (hidden, 3 hidden) are weight_ih/weight_hh
    with their (r, z) blocks swapped, transposed; bias (2, 3 hidden) is [b_ih; b_hh] swapped alike
    (``ranvier.interop.load_torch_state_dict`` converts). Initialised U(-1/sqrt(hidden), 1/sqrt(hidden)).
    """

    _layer = partial(layers.GRU, reset_after=True)

    def call(self, x, hx=None):
        h_n = []
        for i, layer in enumerate(self.layers):
            x, h = layer(x, initial_state=None if hx is None else hx[i])
            h_n.append(h)
        return x, F.stack(h_n, axis=0)


class MultiheadAttention(layers.MultiHeadAttention):
    """``attn(query, key, value)`` -> ``(output, None)`` on batch-first (N, L, embed_dim) tensors
    (batch_first=True only). Heads split embed_dim; ``key_padding_mask`` (N, S) and a boolean ``attn_mask``
    (L, S) or (N, L, S) use PyTorch's sense (True = not attended). The fused kernel does not form the
    attention weights: the second result is always None. Weights in Keras' layout (see
    layers.MultiHeadAttention), Glorot-uniform with zero biases.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        batch_first: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        name: str | None = None,
    ):
        if batch_first is not True:
            raise ValueError("[MultiheadAttention] ranvier takes (N, L, embed_dim): pass batch_first=True")
        _unsupported("MultiheadAttention", "dropout", dropout, 0.0)
        embed_dim = check_int(embed_dim, "MultiheadAttention", "embed_dim")
        num_heads = check_int(num_heads, "MultiheadAttention", "num_heads")
        if embed_dim % num_heads:
            raise ValueError(f"[MultiheadAttention] embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        super().__init__(num_heads, embed_dim // num_heads, use_bias=bias, name=name)
        self.embed_dim = embed_dim
        self.input_spec = (None, embed_dim)
        self._build_projections(embed_dim, kdim or embed_dim, vdim or embed_dim)
        self.built = True

    def __call__(
        self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None, is_causal=False, **kwargs
    ):
        query = F.as_tensor(query)
        allowed = None
        if attn_mask is not None:
            m = np.asarray(attn_mask.data if isinstance(attn_mask, Tensor) else attn_mask)
            if m.dtype != np.bool_:
                raise TypeError(f"[MultiheadAttention] attn_mask must be boolean (True = not attended), got {m.dtype}")
            allowed = np.broadcast_to(~m, (query.shape[0],) + m.shape[-2:])
        if key_padding_mask is not None:
            kpm = np.asarray(key_padding_mask.data if isinstance(key_padding_mask, Tensor) else key_padding_mask)
            keys = ~kpm.astype(bool)[:, None, :]
            allowed = keys if allowed is None else allowed & keys
            allowed = np.broadcast_to(allowed, (query.shape[0], query.shape[1], kpm.shape[-1]))
        out = super().__call__(query, value, key, attention_mask=allowed, use_causal_mask=is_causal, **kwargs)
        return out, None
