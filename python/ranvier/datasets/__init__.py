"""Datasets with Keras' ``load_data()`` interface.

``digits`` ships inside the package (no download); the others download from
mirrors, verify checksums and cache under ``$RANVIER_HOME`` or
``~/.cache/ranvier``, or load the original files from a directory you name.
"""
from ranvier.datasets import digits

__all__ = ["digits"]
