"""Input pipelines for ``Model.fit``: ``Dataset`` (tf.data's API over arrays) and ``PyDataset`` (Keras 3's
batch-by-index data set with worker threads). See each module's docstring."""

from ranvier.data.dataset import AUTOTUNE, Dataset
from ranvier.data.py_dataset import PyDataset

__all__ = ["AUTOTUNE", "Dataset", "PyDataset"]
