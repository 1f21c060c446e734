"""Layers with Keras names, arguments and weight layouts."""

from ranvier.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from ranvier.layers.attention import MultiHeadAttention, PositionalEncoding
from ranvier.layers.base import Layer
from ranvier.layers.bidirectional import Bidirectional
from ranvier.layers.conv import (
    AveragePooling2D,
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    MaxPooling2D,
)
from ranvier.layers.core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Lambda, Reshape
from ranvier.layers.embedding import Embedding
from ranvier.layers.merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from ranvier.layers.normalization import BatchNormalization, LayerNormalization
from ranvier.layers.pooling import AveragePooling1D, GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D
from ranvier.layers.recurrent import GRU, LSTM, SimpleRNN
from ranvier.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from ranvier.layers.time_distributed import TimeDistributed
from ranvier.layers.transformer import TransformerEncoder

__all__ = [
    "GRU",
    "LSTM",
    "Activation",
    "AveragePooling1D",
    "AveragePooling2D",
    "BatchNormalization",
    "Bidirectional",
    "Conv1D",
    "Conv2D",
    "Conv2DTranspose",
    "Cropping1D",
    "Cropping2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "Layer",
    "LayerNormalization",
    "MaxPooling1D",
    "MaxPooling2D",
    "MultiHeadAttention",
    "PositionalEncoding",
    "Reshape",
    "SimpleRNN",
    "TransformerEncoder",
    "Add",
    "Average",
    "Concatenate",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "add",
    "average",
    "concatenate",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
    "ELU",
    "Lambda",
    "LeakyReLU",
    "PReLU",
    "ReLU",
    "Softmax",
    "TimeDistributed",
    "UpSampling1D",
    "UpSampling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
]
