"""Differentiable functions on Tensors: every op of ``ranvier.ops`` plus the
arithmetic, shape and reduction functions models need around them.

Each function computes its value with ``ranvier.ops`` (or array math) and
records a closure mapping the output's gradient to its inputs'. One module per
kernel family, named as in ``ranvier.ops`` and ``ranvier.reference``
(``arithmetic`` and ``shape`` have no kernels of their own; the optimizer updates are not
differentiable and have no module here).
"""

from ranvier.functional.activation import gelu, relu, sigmoid, tanh
from ranvier.functional.arithmetic import (
    abs,
    add,
    argmax,
    argmin,
    as_tensor,
    clamp,
    clip,
    clone,
    compare,
    div,
    exp,
    log,
    max,
    mean,
    min,
    mul,
    neg,
    power,
    sqrt,
    sub,
    sum,
    where,
)
from ranvier.functional.attention import attention
from ranvier.functional.conv import conv2d
from ranvier.functional.dense import linear, matmul
from ranvier.functional.dropout import dropout
from ranvier.functional.embedding import embedding
from ranvier.functional.losses import binary_cross_entropy, mse
from ranvier.functional.norm import layer_norm
from ranvier.functional.pool import avg_pool2d, global_avg_pool2d, max_pool2d
from ranvier.functional.rnn import lstm, simple_rnn
from ranvier.functional.shape import (
    chunk,
    concatenate,
    expand,
    flatten,
    gather,
    getitem,
    repeat,
    reshape,
    split,
    squeeze,
    stack,
    swapaxes,
    transpose,
    unsqueeze,
)
from ranvier.functional.softmax import log_softmax, softmax, softmax_cross_entropy
from ranvier.functional.spatial import crop2d, pad2d, upsample2d

__all__ = [
    "abs",
    "add",
    "argmax",
    "argmin",
    "as_tensor",
    "attention",
    "avg_pool2d",
    "binary_cross_entropy",
    "chunk",
    "clamp",
    "clip",
    "clone",
    "compare",
    "concatenate",
    "conv2d",
    "crop2d",
    "div",
    "dropout",
    "embedding",
    "exp",
    "expand",
    "flatten",
    "gather",
    "gelu",
    "getitem",
    "global_avg_pool2d",
    "layer_norm",
    "linear",
    "log",
    "log_softmax",
    "lstm",
    "matmul",
    "max",
    "max_pool2d",
    "mean",
    "min",
    "mse",
    "mul",
    "neg",
    "pad2d",
    "power",
    "relu",
    "repeat",
    "reshape",
    "sigmoid",
    "simple_rnn",
    "softmax",
    "softmax_cross_entropy",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "sub",
    "sum",
    "swapaxes",
    "tanh",
    "transpose",
    "unsqueeze",
    "upsample2d",
    "where",
]
