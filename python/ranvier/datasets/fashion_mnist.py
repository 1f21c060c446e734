"""Fashion-MNIST (Zalando): 70,000 28x28 grey images of clothing in 10 classes, MNIST's layout.

    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train: uint8 (60000, 28, 28)   y_train: uint8 (60000,)
    x_test:  uint8 (10000, 28, 28)   y_test:  uint8 (10000,)

Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,
6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot. MIT licence, copyright Zalando SE.
"""

from __future__ import annotations

from ranvier.datasets import _idx_dataset
from ranvier.datasets._download import RemoteFile

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")

MIRRORS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # what Keras downloads
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",  # the authors' repository
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",  # the authors' bucket (http only; hash-checked)
)

# SHA-256 and sizes as published in tensorflow/datasets (tensorflow_datasets/url_checksums/fashion_mnist.txt,
# for the third mirror); Keras' own fashion_mnist.py lists the same four SHA-256 values for the first mirror.
# Not checked here by downloading: the machine this was written on has no internet.
FILES = [
    RemoteFile(
        "train-images-idx3-ubyte.gz",
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        MIRRORS,
        26421880,
    ),
    RemoteFile(
        "train-labels-idx1-ubyte.gz", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", MIRRORS, 29515
    ),
    RemoteFile(
        "t10k-images-idx3-ubyte.gz",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        MIRRORS,
        4422102,
    ),
    RemoteFile(
        "t10k-labels-idx1-ubyte.gz", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", MIRRORS, 5148
    ),
]


def load_data(path=None, verify: bool = True):
    """``(x_train, y_train), (x_test, y_test)`` as ``keras.datasets.fashion_mnist.load_data()``.

    ``path=None`` downloads the four files once into ``$RANVIER_HOME/datasets/fashion_mnist``
    (default ``~/.cache/ranvier/datasets/fashion_mnist``) and checks their SHA-256.
    ``path=DIR`` reads the original files from ``DIR`` instead, without network, and
    checks them alike; extracted (uncompressed) copies have no published SHA-256 and
    are read only with ``verify=False``.
    """
    return _idx_dataset.load("fashion_mnist", FILES, path, verify)
