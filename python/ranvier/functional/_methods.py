"""Operators and methods of Tensor (a + b, a @ b, a.sum(), ...), defined by the functional API."""
from ranvier.functional.arithmetic import (add, div, exp, flatten, getitem, log, mean, mul, neg, power, reshape, sub,
                                           sum, transpose)
from ranvier.functional.dense import matmul, relu, sigmoid, tanh
from ranvier.tensor import Tensor


def install():
    T = Tensor
    T.__add__ = lambda a, b: add(a, b)
    T.__radd__ = lambda a, b: add(b, a)
    T.__sub__ = lambda a, b: sub(a, b)
    T.__rsub__ = lambda a, b: sub(b, a)
    T.__mul__ = lambda a, b: mul(a, b)
    T.__rmul__ = lambda a, b: mul(b, a)
    T.__truediv__ = lambda a, b: div(a, b)
    T.__rtruediv__ = lambda a, b: div(b, a)
    T.__neg__ = lambda a: neg(a)
    T.__pow__ = lambda a, e: power(a, e)
    T.__matmul__ = lambda a, b: matmul(a, b)
    T.__rmatmul__ = lambda a, b: matmul(b, a)
    T.__getitem__ = lambda a, i: getitem(a, i)
    T.sum = lambda a, axis=None, keepdims=False: sum(a, axis, keepdims)
    T.mean = lambda a, axis=None, keepdims=False: mean(a, axis, keepdims)
    T.reshape = lambda a, *shape: reshape(a, *shape)
    T.transpose = lambda a, *axes: transpose(a, axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else (axes or None))
    T.T = property(lambda a: transpose(a))
    T.exp = lambda a: exp(a)
    T.log = lambda a: log(a)
    T.relu = lambda a: relu(a)
    T.sigmoid = lambda a: sigmoid(a)
    T.tanh = lambda a: tanh(a)
    T.flatten = lambda a, start_axis=1: flatten(a, start_axis)

