"""Multi-head attention and sinusoidal positional encoding."""

from __future__ import annotations

import numpy as np

from ranvier import functional as F
from ranvier.device import array_module
from ranvier.layers.base import Layer, check_bool, check_int
from ranvier.tensor import Tensor


class MultiHeadAttention(Layer):
    """Keras MultiHeadAttention: ``layer(query, value, key=None, attention_mask=None, use_causal_mask=False)``.

    query (B, Lq, Dq), value (B, Lk, Dv), key defaults to value. Weights in
    Keras' layout: query/key kernels (D, num_heads, key_dim), value kernel
    (D, num_heads, value_dim), output kernel (num_heads, value_dim, Dq).
    Per head: softmax(q k^T / sqrt(key_dim)) v, computed by the tiled
    attention kernel. attention_mask (B, Lq, Lk) boolean, True = attend.
    """

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        use_bias: bool = True,
        output_shape: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = "MultiHeadAttention"
        self.num_heads, self.key_dim = check_int(num_heads, name, "num_heads"), check_int(key_dim, name, "key_dim")
        self.value_dim = self.key_dim if value_dim is None else check_int(value_dim, name, "value_dim")
        self.use_bias = check_bool(use_bias, name, "use_bias")
        self.out_dim = None if output_shape is None else check_int(output_shape, name, "output_shape")

    def __call__(self, query, value=None, key=None, **kwargs):
        if not self.built:  # key and value may have other feature sizes than query
            q = F.as_tensor(query)
            v = q if value is None else F.as_tensor(value)
            k = v if key is None else F.as_tensor(key)
            self.input_spec = (None, q.shape[-1])
            self._build_projections(q.shape[-1], k.shape[-1], v.shape[-1])
            self.built = True
        return super().__call__(query, value, key, **kwargs)

    def _builds_weights(self) -> bool:
        return True  # in __call__, from the query, key and value sizes

    def _build_declared(self) -> None:
        """``input_shape`` builds self-attention projections (key and value the query's size)."""
        declared = self._init_input_shape
        if not self.built and declared and declared[-1] is not None:
            self.input_spec = (None, declared[-1])
            self._build_projections(declared[-1], declared[-1], declared[-1])
            self.built = True

    def _build_projections(self, dq, dk, dv):
        h = self.num_heads
        self.query_kernel = self.add_weight("query/kernel", (dq, h, self.key_dim))
        self.query_bias = self.add_weight("query/bias", (h, self.key_dim), "zeros") if self.use_bias else None
        self.key_kernel = self.add_weight("key/kernel", (dk, h, self.key_dim))
        self.key_bias = self.add_weight("key/bias", (h, self.key_dim), "zeros") if self.use_bias else None
        self.value_kernel = self.add_weight("value/kernel", (dv, h, self.value_dim))
        self.value_bias = self.add_weight("value/bias", (h, self.value_dim), "zeros") if self.use_bias else None
        out = self.out_dim or dq
        self.output_kernel = self.add_weight("attention_output/kernel", (h, self.value_dim, out))
        self.output_bias = self.add_weight("attention_output/bias", (out,), "zeros") if self.use_bias else None

    def _heads(self, x, kernel, bias, dim):
        """(B, L, D) -> (B, heads, L, dim) through one fused dense projection."""
        b, length = x.shape[0], x.shape[1]
        w = F.reshape(kernel, (kernel.shape[0], -1))
        y = F.linear(x, w, None if bias is None else F.reshape(bias, (-1,)))
        return F.transpose(F.reshape(y, (b, length, self.num_heads, dim)), (0, 2, 1, 3))

    def call(self, query, value=None, key=None, attention_mask=None, use_causal_mask: bool = False):
        value = query if value is None else F.as_tensor(value)
        key = value if key is None else F.as_tensor(key)
        if value.shape[-1] != self.value_kernel.shape[0] or key.shape[-1] != self.key_kernel.shape[0]:
            raise ValueError(
                f"[MultiHeadAttention '{self.name}'] key/value feature sizes {key.shape[-1]}/{value.shape[-1]} "
                f"differ from those it was built for ({self.key_kernel.shape[0]}/{self.value_kernel.shape[0]})"
            )
        q = self._heads(query, self.query_kernel, self.query_bias, self.key_dim)
        k = self._heads(key, self.key_kernel, self.key_bias, self.key_dim)
        v = self._heads(value, self.value_kernel, self.value_bias, self.value_dim)
        mask = None
        if attention_mask is not None:
            m = attention_mask.data if isinstance(attention_mask, Tensor) else attention_mask
            mask = array_module(q.data).asarray(m).astype(bool)[:, None]  # (B, 1, Lq, Lk): every head
        o = F.attention(q, k, v, mask=mask, causal=use_causal_mask)  # (B, H, Lq, value_dim)
        b, lq = o.shape[0], o.shape[2]
        merged = F.reshape(F.transpose(o, (0, 2, 1, 3)), (b, lq, self.num_heads * self.value_dim))
        w = F.reshape(self.output_kernel, (self.num_heads * self.value_dim, -1))
        return F.linear(merged, w, self.output_bias)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "use_bias": self.use_bias,
            "output_shape": self.out_dim,
        }


def sinusoidal_encoding(length: int, dim: int) -> np.ndarray:
    """pe[p, 2i] = sin(p / 10000^(2i/dim)), pe[p, 2i+1] = cos(p / 10000^(2i/dim)) ("Attention Is All You Need")."""
    positions = np.arange(length, dtype=np.float64)[:, None]
    rates = 1.0 / np.power(10000.0, np.arange(0, dim, 2, dtype=np.float64) / dim)
    pe = np.zeros((length, dim))
    pe[:, 0::2] = np.sin(positions * rates)
    pe[:, 1::2] = np.cos(positions * rates)[:, : dim // 2]
    return pe.astype(np.float32)


class PositionalEncoding(Layer):
    """x (B, L, D) -> x + pe[:L], the fixed sinusoidal encoding of each position (no weights)."""

    def call(self, x):
        pe = array_module(x.data).asarray(sinusoidal_encoding(x.shape[1], x.shape[2]))
        return x + pe
