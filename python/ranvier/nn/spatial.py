"""PyTorch-named convolutions, pools, upsampling and padding over ranvier's channels-last layers.

Inputs are channels-last: sequences (N, L, C), images (N, H, W, C), where
PyTorch takes (N, C, L) and (N, C, H, W). Each class refuses what does not map.
"""

from __future__ import annotations

import math

from ranvier import functional as F
from ranvier import layers
from ranvier.layers.base import check_int, shape_str
from ranvier.layers.conv import _pair
from ranvier.nn.layers import _no_transposed_alias, _pool_args, _uniform, _unsupported


def _channels_first_refused(layer, shape, channels: int, layout: str, perm: str) -> None:
    """An input whose axis 1 has the channel count and whose last axis does not is PyTorch's layout."""
    if len(shape) == layout.count(",") + 1 and shape[1] == channels and shape[-1] != channels:
        raise ValueError(
            f"[{type(layer).__name__} '{layer.name}'] takes channels-last inputs {layout} with C={channels}, got "
            f"{shape_str(tuple(shape))}, which looks channels-first (PyTorch's layout): pass x.transpose{perm}"
        )


class Conv1d(layers.Conv1D):
    """1-D convolution on channels-last sequences: (N, L, in_channels) -> (N, LO, out_channels).

    Layout: inputs (N, L, C), not PyTorch's (N, C, L): pass ``x.transpose(0, 2, 1)``
    of a channels-first batch (one that looks channels-first is refused);
    ``kernel`` (k, in, out) where PyTorch's ``weight`` is (out, in, k).
    ``padding`` an int (zeros at both ends), "valid" or "same" (stride 1, as
    PyTorch). Initialised as PyTorch: U(-1/sqrt(in * k), 1/sqrt(in * k)).
    """

    weight = _no_transposed_alias("Conv1d", "kernel", "(kernel_size, in_channels, out_channels)")

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
        padding_mode: str = "zeros",
        name: str | None = None,
    ):
        _unsupported("Conv1d", "groups", groups, 1)
        _unsupported("Conv1d", "padding_mode", padding_mode, "zeros")
        self.in_channels = check_int(in_channels, "Conv1d", "in_channels")
        k = layers.conv.single(kernel_size, "kernel_size", "Conv1d")
        bound = 1 / math.sqrt(self.in_channels * k)
        super().__init__(
            out_channels,
            k,
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
                raise ValueError(f"[Conv1d] padding must be 'valid', 'same' or an int, got {padding!r}")
            if padding.lower() == "same" and self.strides != 1:
                raise ValueError("[Conv1d] padding='same' needs stride 1, as in PyTorch")
            self.padding = padding.lower()
        else:
            p = layers.conv.single(padding, "padding", "Conv1d") if padding != 0 else 0
            self.padding = (p, p) if p else "valid"
        self.build_from((None, None, self.in_channels))

    def _check_input(self, shape) -> None:
        _channels_first_refused(self, shape, self.in_channels, "(N, L, C)", "(0, 2, 1)")
        super()._check_input(shape)


class ConvTranspose2d(layers.Conv2DTranspose):
    """Transposed 2-D convolution on NHWC images: (N, H, W, in_channels) -> (N, HO, WO, out_channels),
    HO = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1, as PyTorch.

    Layout: images NHWC (pass ``x.transpose(0, 2, 3, 1)`` of an NCHW batch);
    ``kernel`` (kh, kw, out, in), Keras' layout, where PyTorch's ``weight`` is
    (in, out, kh, kw). Runs Conv2DTranspose "valid" with output_padding, then
    crops ``padding`` rows and columns from each border (PyTorch's padding).
    output_padding must be less than stride (PyTorch also allows less than
    dilation: refused). Initialised as PyTorch: U(-b, b), b = 1/sqrt(out * kh * kw).
    """

    weight = _no_transposed_alias("ConvTranspose2d", "kernel", "(kh, kw, out_channels, in_channels)")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        name: str | None = None,
    ):
        module = "ConvTranspose2d"
        _unsupported(module, "groups", groups, 1)
        _unsupported(module, "padding_mode", padding_mode, "zeros")
        if isinstance(padding, str):
            raise ValueError(f"[{module}] padding must be an int or a pair (PyTorch's), got {padding!r}")
        self.in_channels = check_int(in_channels, module, "in_channels")
        self.out_channels = check_int(out_channels, module, "out_channels")
        kh, kw = _pair(kernel_size, "kernel_size", module)
        self.torch_padding = tuple(check_int(p, module, "padding", minimum=0) for p in _int_or_pair(padding))
        extra = tuple(check_int(p, module, "output_padding", minimum=0) for p in _int_or_pair(output_padding))
        strides = _pair(stride, "stride", module)
        if any(p >= s for p, s in zip(extra, strides)):
            raise ValueError(
                f"[{module}] output_padding must be less than stride {strides} in each dimension "
                f"(PyTorch's 'or less than dilation' has no ranvier counterpart), got {output_padding!r}"
            )
        bound = 1 / math.sqrt(self.out_channels * kh * kw)
        super().__init__(
            self.out_channels,
            (kh, kw),
            strides=strides,
            padding="valid",
            output_padding=extra,
            dilation_rate=dilation,
            use_bias=bias,
            kernel_initializer=_uniform(bound),
            bias_initializer=_uniform(bound),
            name=name,
        )
        self.build_from((None, None, None, self.in_channels))

    def _check_input(self, shape) -> None:
        _channels_first_refused(self, shape, self.in_channels, "(N, H, W, C)", "(0, 2, 3, 1)")
        super()._check_input(shape)

    def call(self, x):
        y = super().call(x)
        ph, pw = self.torch_padding
        if not ph and not pw:
            return y
        if 2 * ph >= y.shape[1] or 2 * pw >= y.shape[2]:
            raise ValueError(
                f"[ConvTranspose2d '{self.name}'] padding {self.torch_padding} leaves no output: the full "
                f"output is {shape_str(tuple(y.shape))}"
            )
        return F.crop2d(y, ((ph, ph), (pw, pw)))


def _int_or_pair(value) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


class MaxPool1d(layers.MaxPooling1D):
    """The maximum over each kernel_size window of (N, L, C) sequences (channels-last, where PyTorch pools
    (N, C, L)), moving by stride (default kernel_size)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, name: str | None = None):
        _pool_args("MaxPool1d", padding, dilation, ceil_mode)
        super().__init__(pool_size=kernel_size, strides=stride, name=name)


class AvgPool1d(layers.AveragePooling1D):
    """The mean over each kernel_size window of (N, L, C) sequences (channels-last), moving by stride
    (default kernel_size). No padding (PyTorch would count padded zeros)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, name: str | None = None):
        _pool_args("AvgPool1d", padding, 1, ceil_mode)
        super().__init__(pool_size=kernel_size, strides=stride, name=name)


def _output_one(module: str, output_size) -> None:
    if output_size not in (1, (1, 1), [1, 1]):
        raise ValueError(
            f"[{module}] only output_size=1 (a global pool) is supported, got {output_size!r}: other sizes "
            "have uneven windows that ranvier's pools do not make"
        )


class AdaptiveAvgPool2d(layers.GlobalAveragePooling2D):
    """output_size=1 only: (N, H, W, C) -> (N, 1, 1, C), each channel's mean (PyTorch's (N, C, 1, 1),
    channels-last)."""

    def __init__(self, output_size, name: str | None = None):
        _output_one("AdaptiveAvgPool2d", output_size)
        super().__init__(keepdims=True, name=name)


class AdaptiveMaxPool2d(layers.GlobalMaxPooling2D):
    """output_size=1 only: (N, H, W, C) -> (N, 1, 1, C), each channel's maximum (channels-last)."""

    def __init__(self, output_size, return_indices: bool = False, name: str | None = None):
        _output_one("AdaptiveMaxPool2d", output_size)
        _unsupported("AdaptiveMaxPool2d", "return_indices", return_indices, False)
        super().__init__(keepdims=True, name=name)


class Upsample(layers.UpSampling2D):
    """NHWC images scaled by whole ``scale_factor`` (an int or (h, w)): mode "nearest" repeats pixels,
    "bilinear" interpolates with align_corners=False (PyTorch's default; True is refused). ``size`` and
    fractional factors are refused."""

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners=None, name=None):
        _unsupported("Upsample", "size", size, None)
        if mode not in ("nearest", "bilinear"):
            raise ValueError(f"[Upsample] mode must be 'nearest' or 'bilinear', got {mode!r}")
        if align_corners not in (None, False):
            raise ValueError(f"[Upsample] align_corners=False only (PyTorch's default), got {align_corners!r}")
        factors = _int_or_pair(scale_factor)
        if not all(isinstance(f, (int, float)) and not isinstance(f, bool) and float(f).is_integer() for f in factors):
            raise ValueError(f"[Upsample] scale_factor must be a whole number or a pair of them, got {scale_factor!r}")
        super().__init__(size=tuple(int(f) for f in factors), interpolation=mode, name=name)
        self.scale_factor, self.mode = scale_factor, mode


class ZeroPad2d(layers.ZeroPadding2D):
    """Zeros around NHWC images; padding an int or PyTorch's (left, right, top, bottom)."""

    def __init__(self, padding, name: str | None = None):
        if isinstance(padding, (list, tuple)):
            if len(padding) != 4:
                raise ValueError(f"[ZeroPad2d] padding must be an int or (left, right, top, bottom), got {padding!r}")
            left, right, top, bottom = padding
            padding = ((top, bottom), (left, right))
        super().__init__(padding=padding, name=name)
