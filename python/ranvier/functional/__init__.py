"""Differentiable functions on Tensors: every op of ``ranvier.ops`` plus the
arithmetic, shape and reduction functions models need around them.

Each function computes its value with ``ranvier.ops`` (or array math) and
records a closure mapping the output's gradient to its inputs'. One module per
kernel family, named as in ``ranvier.ops`` and ``ranvier.reference``
(``arithmetic`` has no kernels of its own; the optimizer updates are not
differentiable and have no module here).
"""

from ranvier.functional.activation import gelu, relu, sigmoid, tanh
from ranvier.functional.arithmetic import (
    abs,
    add,
    as_tensor,
    clip,
    concatenate,
    div,
    exp,
    flatten,
    getitem,
    log,
    mean,
    mul,
    neg,
    power,
    reshape,
    sqrt,
    stack,
    sub,
    sum,
    transpose,
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
from ranvier.functional.softmax import log_softmax, softmax, softmax_cross_entropy

__all__ = [
    "abs",
    "add",
    "as_tensor",
    "attention",
    "avg_pool2d",
    "binary_cross_entropy",
    "clip",
    "concatenate",
    "conv2d",
    "div",
    "dropout",
    "embedding",
    "exp",
    "flatten",
    "gelu",
    "getitem",
    "global_avg_pool2d",
    "layer_norm",
    "linear",
    "log",
    "log_softmax",
    "lstm",
    "matmul",
    "max_pool2d",
    "mean",
    "mse",
    "mul",
    "neg",
    "power",
    "relu",
    "reshape",
    "sigmoid",
    "simple_rnn",
    "softmax",
    "softmax_cross_entropy",
    "sqrt",
    "stack",
    "sub",
    "sum",
    "tanh",
    "transpose",
]
