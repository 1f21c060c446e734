"""MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 grey pixels.

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train: uint8 (60000, 28, 28)   y_train: uint8 (60000,)   digits 0..9
    x_test:  uint8 (10000, 28, 28)   y_test:  uint8 (10000,)

Shapes and dtypes are Keras': no channel axis (add one with ``x[..., None]``
for Conv2D). Keras reads a repackaged ``mnist.npz``; ranvier reads LeCun's four
original IDX files instead, with the same content.
"""

from __future__ import annotations

from ranvier.datasets import _idx_dataset
from ranvier.datasets._download import RemoteFile

MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # what TensorFlow Datasets downloads
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # what torchvision downloads
)

# SHA-256 and sizes as published in tensorflow/datasets (tensorflow_datasets/url_checksums/mnist.txt,
# for the first mirror); the same four hashes appear in several independent projects, one of which
# lists them for the second mirror. Not checked here by downloading: the machine this was written
# on has no internet.
FILES = [
    RemoteFile(
        "train-images-idx3-ubyte.gz",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        MIRRORS,
        9912422,
    ),
    RemoteFile(
        "train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", MIRRORS, 28881
    ),
    RemoteFile(
        "t10k-images-idx3-ubyte.gz",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        MIRRORS,
        1648877,
    ),
    RemoteFile(
        "t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", MIRRORS, 4542
    ),
]


def load_data(path=None, verify: bool = True):
    """``(x_train, y_train), (x_test, y_test)`` as ``keras.datasets.mnist.load_data()``.

    ``path=None`` downloads the four files once into ``$RANVIER_HOME/datasets/mnist``
    (default ``~/.cache/ranvier/datasets/mnist``) and checks their SHA-256. ``path=DIR``
    reads the original files from ``DIR`` instead, without network, and checks them
    alike; extracted (uncompressed) copies have no published SHA-256 and are read only
    with ``verify=False``. (Keras' ``path`` names a cache file instead.)
    """
    return _idx_dataset.load("mnist", FILES, path, verify)
