"""The seed networks of ``bench --train``: each as a ranvier model, the same
network in PyTorch, its data and its training FLOPs per sample.

Training FLOPs are counted analytically from the layers' multiply-adds (MACs):
forward 2 x MACs, backward twice that (the input's and the weights'
gradients), less the input gradient of the layer reading the data, which the
backward kernels skip (need_dx=False: the data does not require grad).
Element-wise work (activations, pooling, normalization, the optimizer) is
left out: it is bandwidth, not FLOPs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import numpy as np

CLASSES = 10


@dataclass(frozen=True)
class Network:
    name: str
    batch: int
    optimizer: str  # "sgd_momentum" or "adam"
    input_shape: Tuple[int, ...]  # one sample, NHWC for images
    macs: Tuple[int, ...]  # forward multiply-adds per sample, one per layer with weights
    input_gradient_macs: int  # of the skipped input gradient of the layer reading the data (0: none, e.g. Embedding)
    build_ranvier: Callable[[], object]
    build_torch: Callable[[object], object]  # torch -> nn.Module taking NCHW images or ids
    vocabulary: int = 0  # > 0: the input is token ids below it
    classes: int = CLASSES

    @property
    def flops_per_sample(self) -> float:
        return 2.0 * (3 * sum(self.macs) - self.input_gradient_macs)

    def data(self, rng: np.random.Generator, samples: int):
        """x (samples, *input_shape) and integer labels, as ranvier takes them."""
        if self.vocabulary:
            x = rng.integers(0, self.vocabulary, (samples, *self.input_shape), dtype=np.int64)
        else:
            x = rng.standard_normal((samples, *self.input_shape), dtype=np.float32)
        return x, rng.integers(0, self.classes, samples, dtype=np.int64)


def conv_macs(out_h: int, out_w: int, k: int, cin: int, cout: int) -> int:
    return out_h * out_w * k * k * cin * cout


def lstm_macs(steps: int, features: int, units: int) -> int:
    return steps * 4 * units * (features + units)


def lstm_input_gradient_macs(steps: int, features: int, units: int) -> int:
    """dx = dgates @ kernel^T: the recurrent part of the backward runs whether or not x needs a gradient."""
    return steps * 4 * units * features


def encoder_macs(length: int, d: int, intermediate: int) -> int:
    """Q, K, V and output projections, scores and their weighted sum, the feed-forward pair."""
    return 4 * length * d * d + 2 * length * length * d + 2 * length * d * intermediate


def _mnist_cnn():
    from ranvier import Sequential
    from ranvier.layers import Conv2D, Dense, Flatten, MaxPooling2D

    return Sequential(
        [
            Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
            MaxPooling2D(),
            Conv2D(64, 3, activation="relu"),
            MaxPooling2D(),
            Flatten(),
            Dense(128, activation="relu"),
            Dense(CLASSES, activation="softmax"),
        ]
    )


def _mnist_cnn_torch(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, CLASSES),
    )  # fmt: skip


def _cifar_cnn():
    from ranvier import Sequential
    from ranvier.layers import Conv2D, Dense, Flatten, MaxPooling2D

    return Sequential(
        [
            Conv2D(32, 3, activation="relu", padding="same", input_shape=(32, 32, 3)),
            MaxPooling2D(),
            Conv2D(64, 3, activation="relu", padding="same"),
            MaxPooling2D(),
            Conv2D(64, 3, activation="relu", padding="same"),
            MaxPooling2D(),
            Flatten(),
            Dense(128, activation="relu"),
            Dense(CLASSES, activation="softmax"),
        ]
    )


def _cifar_cnn_torch(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1024, 128), nn.ReLU(), nn.Linear(128, CLASSES),
    )  # fmt: skip


def _mlp():
    from ranvier import Sequential
    from ranvier.layers import Dense

    return Sequential([Dense(128, activation="relu", input_shape=(784,)), Dense(CLASSES, activation="softmax")])


def _mlp_torch(torch):
    nn = torch.nn
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, CLASSES))


LSTM_STEPS, LSTM_FEATURES, LSTM_UNITS = 32, 32, 64


def _lstm():
    from ranvier import Sequential
    from ranvier.layers import LSTM, Dense

    return Sequential(
        [
            LSTM(LSTM_UNITS, return_sequences=True, input_shape=(LSTM_STEPS, LSTM_FEATURES)),
            LSTM(LSTM_UNITS),
            Dense(CLASSES, activation="softmax"),
        ]
    )


def _lstm_torch(torch):
    nn = torch.nn

    class StackedLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = nn.LSTM(LSTM_FEATURES, LSTM_UNITS, batch_first=True)
            self.second = nn.LSTM(LSTM_UNITS, LSTM_UNITS, batch_first=True)
            self.head = nn.Linear(LSTM_UNITS, CLASSES)

        def forward(self, x):
            h, _ = self.first(x)
            _, (last, _) = self.second(h)
            return self.head(last[0])

    return StackedLSTM()


VOCABULARY, LENGTH, D_MODEL, HEADS, INTERMEDIATE, TEXT_CLASSES = 1000, 64, 128, 4, 512, 2


def _transformer():
    from ranvier import Sequential
    from ranvier.layers import Dense, Embedding, GlobalAveragePooling1D, PositionalEncoding, TransformerEncoder

    return Sequential(
        [
            Embedding(VOCABULARY, D_MODEL, input_shape=(LENGTH,)),
            PositionalEncoding(),
            TransformerEncoder(num_heads=HEADS, intermediate_dim=INTERMEDIATE),
            GlobalAveragePooling1D(),
            Dense(TEXT_CLASSES, activation="softmax"),
        ]
    )


def _transformer_torch(torch):
    from ranvier.layers.attention import sinusoidal_encoding

    nn = torch.nn

    class EncoderClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCABULARY, D_MODEL)
            self.register_buffer("positions", torch.from_numpy(sinusoidal_encoding(LENGTH, D_MODEL)))
            self.encoder = nn.TransformerEncoderLayer(
                D_MODEL, HEADS, INTERMEDIATE, dropout=0.0, batch_first=True, layer_norm_eps=1e-5
            )
            self.head = nn.Linear(D_MODEL, TEXT_CLASSES)

        def forward(self, ids):
            return self.head(self.encoder(self.embedding(ids) + self.positions).mean(dim=1))

    return EncoderClassifier()


NETWORKS = (
    Network(
        "MNIST CNN",
        64,
        "sgd_momentum",
        (28, 28, 1),
        (conv_macs(26, 26, 3, 1, 32), conv_macs(11, 11, 3, 32, 64), 1600 * 128, 128 * CLASSES),
        conv_macs(26, 26, 3, 1, 32),
        _mnist_cnn,
        _mnist_cnn_torch,
    ),
    Network(
        "CIFAR CNN",
        32,
        "adam",
        (32, 32, 3),
        (conv_macs(32, 32, 3, 3, 32), conv_macs(16, 16, 3, 32, 64), conv_macs(8, 8, 3, 64, 64), 1024 * 128, 1280),
        conv_macs(32, 32, 3, 3, 32),
        _cifar_cnn,
        _cifar_cnn_torch,
    ),
    Network("MLP 784-128-10", 32, "adam", (784,), (784 * 128, 128 * CLASSES), 784 * 128, _mlp, _mlp_torch),
    Network(
        f"stacked LSTM 64-64 T{LSTM_STEPS}",
        32,
        "adam",
        (LSTM_STEPS, LSTM_FEATURES),
        (
            lstm_macs(LSTM_STEPS, LSTM_FEATURES, LSTM_UNITS),
            lstm_macs(LSTM_STEPS, LSTM_UNITS, LSTM_UNITS),
            LSTM_UNITS * CLASSES,
        ),
        lstm_input_gradient_macs(LSTM_STEPS, LSTM_FEATURES, LSTM_UNITS),
        _lstm,
        _lstm_torch,
    ),
    Network(
        f"Transformer encoder d{D_MODEL} h{HEADS} L{LENGTH}",
        32,
        "adam",
        (LENGTH,),
        (encoder_macs(LENGTH, D_MODEL, INTERMEDIATE), D_MODEL * TEXT_CLASSES),
        0,
        _transformer,
        _transformer_torch,
        vocabulary=VOCABULARY,
        classes=TEXT_CLASSES,
    ),
)


def select(filters=()) -> list:
    """The networks whose name contains one of ``filters`` (empty: all)."""
    return [n for n in NETWORKS if not filters or any(f in n.name for f in filters)]


def torch_input(torch, network: Network, x: np.ndarray):
    """x as the PyTorch network takes it: NCHW images, int64 ids, or as is."""
    if len(network.input_shape) == 3:
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return torch.from_numpy(x)


def optimizer_for(network: Network, torch_params=None, torch=None) -> Optional[object]:
    """The network's optimizer: ranvier's (torch_params None) or PyTorch's over torch_params."""
    if torch_params is None:
        from ranvier import optimizers

        if network.optimizer == "adam":
            return optimizers.Adam(learning_rate=1e-3)
        return optimizers.SGD(learning_rate=0.01, momentum=0.9)
    if network.optimizer == "adam":
        return torch.optim.Adam(torch_params, lr=1e-3)
    return torch.optim.SGD(torch_params, lr=0.01, momentum=0.9)
