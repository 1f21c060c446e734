"""Datasets with Keras' ``load_data()`` interface.

``digits`` ships inside the package (no download); ``mnist``,
``fashion_mnist`` and ``cifar10`` download from mirrors, verify SHA-256 and
cache under ``$RANVIER_HOME/datasets`` or ``~/.cache/ranvier/datasets``, or
load the original files from a directory you name: ``load_data(path=DIR)``.
"""

from ranvier.datasets import cifar10, digits, fashion_mnist, mnist

__all__ = ["cifar10", "digits", "fashion_mnist", "mnist"]
