"""Embedding: integer ids to learned vectors."""

from __future__ import annotations

import numpy as np

from ranvier import functional as F
from ranvier.layers.base import Layer, check_int


class Embedding(Layer):
    """ids (N, ...) -> embeddings[ids] (N, ..., output_dim); embeddings (input_dim, output_dim).

    Initialised uniform(-0.05, 0.05) as Keras. Ids outside [0, input_dim) are an error.
    """

    input_dtype = np.int64

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform", **kwargs):
        kwargs.pop("input_length", None)  # Keras 2 argument: lengths are inferred
        super().__init__(**kwargs)
        self.input_dim = check_int(input_dim, "Embedding", "input_dim")
        self.output_dim = check_int(output_dim, "Embedding", "output_dim")
        self.embeddings_initializer = embeddings_initializer

    def input_spec_for(self, shape):
        return None  # ids of any shape

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer)

    def call(self, ids):
        if ids.dtype.kind == "f":  # Keras accepts float ids holding integers
            ids = F.as_tensor(ids.data.astype(np.int64))
        return F.embedding(ids, self.embeddings)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim}
