"""Upsampling, zero padding and cropping of images (N, H, W, C) and sequences (N, L, C), as Keras 3
groups them under reshaping. Channels last only: a data_format of "channels_first" is refused.

The 1-D layers run the 2-D ops on (N, L, 1, C), a view of their input.
"""

from __future__ import annotations

from ranvier import functional as F
from ranvier.layers.base import Layer, check_int


def _channels_last(data_format, layer: str) -> str:
    if data_format is None or (isinstance(data_format, str) and data_format.lower() == "channels_last"):
        return "channels_last"
    raise ValueError(
        f"[{layer}] data_format must be 'channels_last' or None (ranvier's images are (N, H, W, C)), "
        f"got {data_format!r}"
    )


def _int_pair(value, layer: str, what: str, minimum: int) -> tuple:
    """An int (both) or a pair of ints, each >= minimum (Keras' standardize_tuple)."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"[{layer}] {what} must be an int or a pair of ints, got {value!r}")
        return tuple(check_int(v, layer, what, minimum=minimum) for v in value)
    value = check_int(value, layer, what, minimum=minimum)
    return (value, value)


def _edges(value, layer: str, what: str) -> tuple:
    """((top, bottom), (left, right)) from an int, (h, w), or a pair whose entries are an int or a pair."""
    if not isinstance(value, (list, tuple)):
        v = check_int(value, layer, what, minimum=0)
        return ((v, v), (v, v))
    if len(value) != 2:
        raise ValueError(
            f"[{layer}] {what} must be an int, a pair (h, w) or ((top, bottom), (left, right)), got {value!r}"
        )
    return tuple(_int_pair(v, layer, what, 0) for v in value)


def _check_rank(layer: Layer, x, rank: int) -> None:
    if x.ndim != rank:
        what = "images (N, H, W, C)" if rank == 4 else "sequences (N, L, C)"
        raise ValueError(f"[{type(layer).__name__} '{layer.name}'] expects {what}, got inputs of shape {x.shape}")


def _as_images(x):
    """(N, L, C) -> (N, L, 1, C)."""
    return F.reshape(x, (x.shape[0], x.shape[1], 1, x.shape[2]))


def _as_sequences(y):
    """(N, L, 1, C) -> (N, L, C)."""
    return F.reshape(y, (y.shape[0], y.shape[1], y.shape[3]))


class UpSampling2D(Layer):
    """(N, H, W, C) -> (N, H * size[0], W * size[1], C). interpolation "nearest" (Keras' default) repeats
    each pixel over a size[0] x size[1] block; "bilinear" interpolates as Keras 3 does (its resize without
    antialiasing, which for upsampling is PyTorch's align_corners=False). Keras' other modes are refused.
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = _int_pair(size, "UpSampling2D", "size", 1)
        self.data_format = _channels_last(data_format, "UpSampling2D")
        if not isinstance(interpolation, str) or interpolation.lower() not in ("nearest", "bilinear"):
            raise ValueError(
                "[UpSampling2D] interpolation must be 'nearest' or 'bilinear' (Keras' bicubic and lanczos "
                f"are not implemented), got {interpolation!r}"
            )
        self.interpolation = interpolation.lower()

    def call(self, x):
        _check_rank(self, x, 4)
        return F.upsample2d(x, self.size, self.interpolation)

    def get_config(self):
        return {
            **super().get_config(),
            "size": list(self.size),
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


class UpSampling1D(Layer):
    """Repeats each step `size` times: (N, L, C) -> (N, L * size, C)."""

    def __init__(self, size: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.size = check_int(size, "UpSampling1D", "size")

    def call(self, x):
        _check_rank(self, x, 3)
        return _as_sequences(F.upsample2d(_as_images(x), (self.size, 1)))

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class ZeroPadding2D(Layer):
    """Rows and columns of zeros around each image: (N, H, W, C) -> (N, top + H + bottom, left + W + right, C).

    padding: an int, (h, w) (symmetric) or ((top, bottom), (left, right)).
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _edges(padding, "ZeroPadding2D", "padding")
        self.data_format = _channels_last(data_format, "ZeroPadding2D")

    def call(self, x):
        _check_rank(self, x, 4)
        return F.pad2d(x, self.padding)

    def get_config(self):
        return {
            **super().get_config(),
            "padding": [list(p) for p in self.padding],
            "data_format": self.data_format,
        }


class ZeroPadding1D(Layer):
    """Zeros before and after each sequence: (N, L, C) -> (N, left + L + right, C).

    padding: an int (both ends) or (left, right).
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _int_pair(padding, "ZeroPadding1D", "padding", 0)
        self.data_format = _channels_last(data_format, "ZeroPadding1D")

    def call(self, x):
        _check_rank(self, x, 3)
        return _as_sequences(F.pad2d(_as_images(x), (self.padding, (0, 0))))

    def get_config(self):
        return {**super().get_config(), "padding": list(self.padding), "data_format": self.data_format}


class Cropping2D(Layer):
    """Drops rows and columns at the borders: (N, H, W, C) -> (N, H - top - bottom, W - left - right, C).

    cropping: an int, (h, w) (symmetric) or ((top, bottom), (left, right)); as in Keras it must leave
    at least one row and one column.
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _edges(cropping, "Cropping2D", "cropping")
        self.data_format = _channels_last(data_format, "Cropping2D")

    def call(self, x):
        _check_rank(self, x, 4)
        (top, bottom), (left, right) = self.cropping
        if top + bottom >= x.shape[1] or left + right >= x.shape[2]:
            raise ValueError(
                f"[Cropping2D '{self.name}'] cropping {self.cropping} must leave at least one row and column "
                f"of the images, got inputs of shape {x.shape}"
            )
        return F.crop2d(x, self.cropping)

    def get_config(self):
        return {
            **super().get_config(),
            "cropping": [list(c) for c in self.cropping],
            "data_format": self.data_format,
        }


class Cropping1D(Layer):
    """Drops steps at both ends: (N, L, C) -> (N, L - left - right, C). cropping: an int or (left, right);
    as in Keras it must leave at least one step."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _int_pair(cropping, "Cropping1D", "cropping", 0)

    def call(self, x):
        _check_rank(self, x, 3)
        if sum(self.cropping) >= x.shape[1]:
            raise ValueError(
                f"[Cropping1D '{self.name}'] cropping {self.cropping} must leave at least one step "
                f"of the sequences, got inputs of shape {x.shape}"
            )
        return _as_sequences(F.crop2d(_as_images(x), (self.cropping, (0, 0))))

    def get_config(self):
        return {**super().get_config(), "cropping": list(self.cropping)}
