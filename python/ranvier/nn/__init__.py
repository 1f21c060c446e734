"""PyTorch's names over ranvier's kernels, where the semantics match.

    import ranvier.nn as nn
    import ranvier.functional as F
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 128)
            self.fc2 = nn.Linear(128, 10)
        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))

The modules own their weights at construction (their sizes are given), so
``Adam(model.parameters())`` sees them all. Layouts stay ranvier's: images
NHWC, dense kernels (in, out), conv kernels (kh, kw, in, out); each class says
where it differs from PyTorch (sequences (N, L, C), Conv1d kernels (k, in, out),
ConvTranspose2d kernels (kh, kw, out, in)). Losses take PyTorch's ``(input, target)`` order.
There is no ``nn.functional``:
``ranvier.functional`` takes ranvier's layouts (``linear``'s weight is (in, out)).
"""

from ranvier.nn.activations import (
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Identity,
    LeakyReLU,
    PReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Softsign,
    Tanh,
)
from ranvier.nn.layers import (
    GRU,
    LSTM,
    AvgPool2d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    LayerNorm,
    Linear,
    MaxPool2d,
    MultiheadAttention,
    ReLU,
)
from ranvier.nn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from ranvier.nn.module import Module, Sequential
from ranvier.nn.spatial import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    Conv1d,
    ConvTranspose2d,
    MaxPool1d,
    Upsample,
    ZeroPad2d,
)

__all__ = [
    "GRU",
    "LSTM",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "LayerNorm",
    "Linear",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "MultiheadAttention",
    "ReLU",
    "Sequential",
    "ELU",
    "GELU",
    "SELU",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool1d",
    "Conv1d",
    "ConvTranspose2d",
    "Hardsigmoid",
    "Identity",
    "LeakyReLU",
    "MaxPool1d",
    "PReLU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Softsign",
    "Tanh",
    "Upsample",
    "ZeroPad2d",
]
