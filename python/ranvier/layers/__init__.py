"""Layers with Keras names, arguments and weight layouts."""
from ranvier.layers.base import Layer
from ranvier.layers.core import Activation, Dense, Flatten, Input, Reshape

__all__ = ["Activation", "Dense", "Flatten", "Input", "Layer", "Reshape"]
