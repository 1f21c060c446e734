"""Layers with Keras names, arguments and weight layouts."""

from ranvier.layers.attention import MultiHeadAttention, PositionalEncoding
from ranvier.layers.base import Layer
from ranvier.layers.conv import AveragePooling2D, Conv2D, GlobalAveragePooling1D, GlobalAveragePooling2D, MaxPooling2D
from ranvier.layers.core import Activation, Dense, Dropout, Flatten, Input, Reshape
from ranvier.layers.embedding import Embedding
from ranvier.layers.normalization import BatchNormalization, LayerNormalization
from ranvier.layers.recurrent import LSTM, SimpleRNN
from ranvier.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from ranvier.layers.transformer import TransformerEncoder

__all__ = [
    "LSTM",
    "Activation",
    "AveragePooling2D",
    "BatchNormalization",
    "Conv2D",
    "Cropping1D",
    "Cropping2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "Input",
    "Layer",
    "LayerNormalization",
    "MaxPooling2D",
    "MultiHeadAttention",
    "PositionalEncoding",
    "Reshape",
    "SimpleRNN",
    "TransformerEncoder",
    "UpSampling1D",
    "UpSampling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
]
