"""1-D and global max pooling layers (Keras' channels_last); the 2-D max and
average pooling and the global average pooling layers are in conv.py."""

from __future__ import annotations

from ranvier import functional as F
from ranvier.layers.base import Layer
from ranvier.layers.conv import _GlobalPooling, channels_last, single


class _Pooling1D(Layer):
    function = None

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.pool_size = single(pool_size, "pool_size", name)
        self.strides = self.pool_size if strides is None else single(strides, "strides", name)
        if str(padding).lower() not in ("valid", "same"):
            raise ValueError(f"[{name}] padding must be 'valid' or 'same', got {padding!r}")
        self.padding = str(padding).lower()
        self.data_format = channels_last(data_format, name)

    def call(self, x):
        return type(self).function(x, self.pool_size, self.strides, self.padding)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": [self.pool_size],
            "strides": [self.strides],
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling1D(_Pooling1D):
    """(N, L, C) -> (N, LO, C): the maximum over each pool_size window, moving by strides (default pool_size)."""

    function = staticmethod(F.max_pool1d)


class AveragePooling1D(_Pooling1D):
    """(N, L, C) -> (N, LO, C): the mean over each window ("same" padding averages only the real steps)."""

    function = staticmethod(F.avg_pool1d)


class GlobalMaxPooling1D(_GlobalPooling):
    """(N, L, C) -> (N, C) (keepdims: (N, 1, C)): each channel's maximum; NaN if any step is NaN."""

    rank = 3

    def pool(self, x):
        return F.global_max_pool(x)


class GlobalMaxPooling2D(_GlobalPooling):
    """(N, H, W, C) -> (N, C) (keepdims: (N, 1, 1, C)): each channel's maximum; NaN if any pixel is NaN."""

    def pool(self, x):
        return F.global_max_pool(x)
