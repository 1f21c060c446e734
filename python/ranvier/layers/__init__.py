"""Layers with Keras names, arguments and weight layouts."""
from ranvier.layers.attention import MultiHeadAttention, PositionalEncoding
from ranvier.layers.base import Layer
from ranvier.layers.conv import AveragePooling2D, Conv2D, GlobalAveragePooling2D, MaxPooling2D
from ranvier.layers.core import Activation, Dense, Flatten, Input, Reshape
from ranvier.layers.normalization import BatchNormalization
from ranvier.layers.recurrent import LSTM, SimpleRNN

__all__ = ["LSTM", "Activation", "AveragePooling2D", "BatchNormalization", "Conv2D", "Dense", "Flatten",
           "GlobalAveragePooling2D", "Input", "Layer", "MaxPooling2D", "MultiHeadAttention", "PositionalEncoding",
           "Reshape", "SimpleRNN"]
