"""CIFAR-10: 60,000 32x32 colour images in 10 classes (Krizhevsky, Nair and Hinton).

    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    x_train: uint8 (50000, 32, 32, 3)   y_train: uint8 (50000, 1)
    x_test:  uint8 (10000, 32, 32, 3)   y_test:  uint8 (10000, 1)

Shapes and dtypes are Keras' (channels-last images; labels keep Keras' trailing
axis of 1: ``y[:, 0]`` or ``to_categorical`` drop it). Keras reads the Python
(pickled) archive; ranvier reads the binary archive, the same images and labels,
because unpickling a downloaded file can run arbitrary code.

Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ranvier.datasets import cifar
from ranvier.datasets._download import ORIGINAL_ADVICE, ChecksumError, RemoteFile, check_sha256, fetch

CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

# SHA-256 and size as published in tensorflow/datasets (tensorflow_datasets/url_checksums/cifar10.txt,
# same URL), and listed alike by several independent projects. The CIFAR page itself publishes
# only an MD5 (c32a1d4ab5d03f1284b67883e8d87530), which ranvier does not check. Not checked here
# by downloading: the machine this was written on has no internet.
FILES = [
    RemoteFile(
        cifar.TARBALL,
        "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
        ("https://www.cs.toronto.edu/~kriz/",),
        170052171,
    ),
]
_BATCHES = cifar.TRAIN_BATCHES + (cifar.TEST_BATCH,)
PATH_HELP = (
    f" ({cifar.TARBALL}, or the .bin files it holds: {', '.join(cifar.TRAIN_BATCHES)}, "
    f"{cifar.TEST_BATCH}, directly or in {cifar.TARBALL_FOLDER}/)"
)


def load_data(path=None, verify: bool = True):
    """``(x_train, y_train), (x_test, y_test)`` as ``keras.datasets.cifar10.load_data()``.

    ``path=None`` downloads the binary tarball (170 MB) once into
    ``$RANVIER_HOME/datasets/cifar10`` (default ``~/.cache/ranvier/datasets/cifar10``) and
    checks its SHA-256. ``path`` may instead name the tarball, or a directory holding it
    or its .bin files, read without network; the tarball's SHA-256 is checked alike, and
    the extracted .bin files, which have no published checksum, are read only with
    ``verify=False``.
    """
    if path is None:
        source = fetch("cifar10", FILES, PATH_HELP)[0]
    else:
        source = _checked_source(Path(path)) if verify else path
    batches = cifar.load_batches(source, _BATCHES)
    x_train = np.concatenate([batches[n][0] for n in cifar.TRAIN_BATCHES])
    y_train = np.concatenate([batches[n][1] for n in cifar.TRAIN_BATCHES])
    x_test, y_test = batches[cifar.TEST_BATCH]
    return (x_train, y_train[:, None]), (x_test, y_test[:, None])


def _checked_source(path: Path) -> Path:
    """The tarball ``path`` names or holds, its SHA-256 checked; extracted .bin files are refused (unverifiable)."""
    tarball = path / cifar.TARBALL if path.is_dir() else path
    if tarball.is_file():
        check_sha256("cifar10", tarball, FILES[0], ORIGINAL_ADVICE)
        return tarball
    folders = (path, path / cifar.TARBALL_FOLDER)
    if path.is_dir() and any((folder / name).is_file() for folder in folders for name in _BATCHES):
        raise ChecksumError(
            f"[cifar10] {path} holds extracted .bin files, which have no published SHA-256 to check them against; "
            f"put the original {cifar.TARBALL} there, or pass verify=False to read them unchecked"
        )
    return path  # load_batches says what is missing
