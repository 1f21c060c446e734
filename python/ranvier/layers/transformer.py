"""The Transformer encoder block ("Attention Is All You Need", post-norm by default)."""

from __future__ import annotations

from ranvier.layers.attention import MultiHeadAttention
from ranvier.layers.base import Layer, check_activation, check_bool, check_float, check_int
from ranvier.layers.core import Dense, Dropout
from ranvier.layers.normalization import LayerNormalization


class TransformerEncoder(Layer):
    """x (B, L, D) -> (B, L, D), as keras_nlp's TransformerEncoder:

        h = LayerNorm(x + Dropout(MultiHeadAttention(x, x)))
        y = LayerNorm(h + Dropout(Dense_D(Dense_intermediate(h, activation))))

    With ``normalize_first=True`` each LayerNorm moves before its sublayer
    (pre-norm). Heads split D: key_dim = D // num_heads.
    """

    def __init__(
        self,
        num_heads: int,
        intermediate_dim: int,
        dropout: float = 0.0,
        activation="relu",
        layer_norm_epsilon: float = 1e-5,
        normalize_first: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        name = "TransformerEncoder"
        self.num_heads = check_int(num_heads, name, "num_heads")
        self.intermediate_dim = check_int(intermediate_dim, name, "intermediate_dim")
        self.dropout_rate = check_float(dropout, name, "dropout", 0.0, 1.0)
        self.activation = check_activation(activation, name)
        self.layer_norm_epsilon = check_float(layer_norm_epsilon, name, "layer_norm_epsilon", 0.0, 1.0)
        self.normalize_first = check_bool(normalize_first, name, "normalize_first")

    def build(self, input_shape):
        d = input_shape[-1]
        if d % self.num_heads:
            raise ValueError(
                f"[TransformerEncoder '{self.name}'] feature size {d} is not divisible by num_heads={self.num_heads}"
            )
        self.self_attention = MultiHeadAttention(self.num_heads, d // self.num_heads, name=f"{self.name}_attention")
        self.attention_norm = LayerNormalization(epsilon=self.layer_norm_epsilon, name=f"{self.name}_attention_norm")
        self.intermediate = Dense(self.intermediate_dim, activation=self.activation, name=f"{self.name}_intermediate")
        self.output_dense = Dense(d, name=f"{self.name}_output")
        self.output_norm = LayerNormalization(epsilon=self.layer_norm_epsilon, name=f"{self.name}_output_norm")
        self.dropout = Dropout(self.dropout_rate, name=f"{self.name}_dropout")

    def call(self, x, padding_mask=None, use_causal_mask: bool = False):
        mask = None
        if padding_mask is not None:  # (B, L) True for real tokens -> (B, L, L) over keys
            pm = padding_mask.data if hasattr(padding_mask, "requires_grad") else padding_mask
            mask = pm[:, None, :].repeat(x.shape[1], axis=1)
        h = self.attention_norm(x) if self.normalize_first else x
        h = x + self.dropout(self.self_attention(h, h, attention_mask=mask, use_causal_mask=use_causal_mask))
        if not self.normalize_first:
            h = self.attention_norm(h)
        f = self.output_norm(h) if self.normalize_first else h
        y = h + self.dropout(self.output_dense(self.intermediate(f)))
        return y if self.normalize_first else self.output_norm(y)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout_rate,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "normalize_first": self.normalize_first,
        }
