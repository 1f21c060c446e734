"""The four IDX files that MNIST and Fashion-MNIST share, loaded as Keras returns them.

train-images-idx3-ubyte.gz  uint8 (60000, 28, 28)     train-labels-idx1-ubyte.gz  uint8 (60000,)
t10k-images-idx3-ubyte.gz   uint8 (10000, 28, 28)     t10k-labels-idx1-ubyte.gz   uint8 (10000,)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ranvier.datasets import _download, idx

FILE_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
NUM_CLASSES = 10
PATH_HELP = " (" + ", ".join(FILE_NAMES) + "; extracted copies only with verify=False)"


def load(dataset: str, files, path=None, verify: bool = True):
    """``(x_train, y_train), (x_test, y_test)`` from the cache (downloading ``files``) or from the folder
    ``path``, whose files are checked against the published SHA-256 unless ``verify`` is False."""
    if path is None:
        paths = _download.fetch(dataset, files, PATH_HELP)
    else:
        paths = [_find(Path(path), f.name) for f in files]
        if verify:
            for p, f in zip(paths, files):
                _download.check_original(dataset, p, f)
    x_train, y_train, x_test, y_test = (idx.read_idx(p) for p in paths)
    _check_split(x_train, y_train, paths[0], paths[1])
    _check_split(x_test, y_test, paths[2], paths[3])
    return (x_train, y_train), (x_test, y_test)


def _find(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, or its uncompressed version under either usual name
    (``train-images-idx3-ubyte``, or ``train-images.idx3-ubyte`` as some copies are named)."""
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{folder}: not a directory; load_data(path=DIR) needs a directory holding the original files{PATH_HELP}"
        )
    plain = name[: -len(".gz")]
    candidates = (name, plain, plain.replace("-idx", ".idx"))
    for candidate in candidates:
        if (folder / candidate).is_file():
            return folder / candidate
    raise FileNotFoundError(
        f"{folder}: none of {', '.join(candidates)} found; load_data(path=DIR) needs the original files{PATH_HELP}"
    )


def _check_split(images: np.ndarray, labels: np.ndarray, images_path, labels_path) -> None:
    if images.dtype != np.uint8 or images.ndim != 3:
        raise ValueError(f"{images_path}: expected uint8 images (N, rows, cols), got {images.dtype} {images.shape}")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"{labels_path}: expected uint8 labels (N,), got {labels.dtype} {labels.shape}")
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        raise ValueError(f"{labels_path}: labels must be 0..{NUM_CLASSES - 1}, label {bad[0]} is {labels[bad[0]]}")
    if len(images) != len(labels):
        raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
