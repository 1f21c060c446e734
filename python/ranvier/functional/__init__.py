"""Differentiable functions on Tensors: every op of ``ranvier.ops`` plus the
arithmetic, shape and reduction functions models need around them.

Each function computes its value with ``ranvier.ops`` (or array math) and
records a closure mapping the output's gradient to its inputs'. One module per
family, as in ``ranvier.ops``.
"""
from ranvier.functional import _methods
from ranvier.functional.arithmetic import (abs, add, as_tensor, clip, concatenate, div, exp, flatten, getitem, log,
                                           mean, mul, neg, power, reshape, sqrt, stack, sub, sum, transpose)
from ranvier.functional.attention import attention
from ranvier.functional.conv import avg_pool2d, conv2d, global_avg_pool2d, max_pool2d
from ranvier.functional.dense import gelu, linear, matmul, relu, sigmoid, tanh
from ranvier.functional.losses import binary_cross_entropy, log_softmax, mse, softmax, softmax_cross_entropy
from ranvier.functional.norm import dropout, embedding, layer_norm
from ranvier.functional.recurrent import lstm, simple_rnn

_methods.install()
