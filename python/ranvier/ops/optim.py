"""Optimizer updates, fused into one pass and applied in place.

Every array that is updated (param, velocity, m, v) must be a C-contiguous,
writeable float32 array: anything else is an error, because a converted copy
would silently drop the update. The ops return the same arrays they updated.
"""
from __future__ import annotations

import numpy as np

from ranvier import backend
from ranvier.ops import _checks

__all__ = ["sgd_update", "adam_update"]


def _in_place(op: str, name: str, a, param=None):
    a = _checks.as_array(op, name, a)
    if a.dtype != np.float32:
        raise TypeError(f"[{op}] {name} must be a float32 array (updated in place), got {_checks.describe(a)}")
    if not a.flags.c_contiguous:
        raise ValueError(
            f"[{op}] {name} must be C-contiguous: it is updated in place, and a contiguous copy "
            f"would lose the update; got a strided {_checks.describe(a)} view"
        )
    if not getattr(a.flags, "writeable", True):
        raise ValueError(f"[{op}] {name} must be writeable (it is updated in place)")
    if param is not None and a.shape != param.shape:
        raise ValueError(f"[{op}] {name} must have param's shape {tuple(param.shape)}, got {tuple(a.shape)}")
    return a


def _grad(op: str, grad, param):
    grad = _checks.float32(op, "grad", grad)
    if grad.shape != param.shape:
        raise ValueError(f"[{op}] grad must have param's shape {tuple(param.shape)}, got {tuple(grad.shape)}")
    return _checks.contiguous(grad)


def _distinct(op: str, **arrays):
    """Updated arrays must not overlap each other or grad."""
    names = [n for n, a in arrays.items() if a is not None]
    _checks.same_device(op, **arrays)
    xp = backend.array_module(arrays[names[0]])
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if xp.may_share_memory(arrays[a], arrays[b]):
                raise ValueError(f"[{op}] {a} and {b} must be separate arrays, but they share memory")


def sgd_update(param, grad, velocity=None, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
    """One SGD step in place, PyTorch's formula (dampening 0):

        g = grad + weight_decay * param
        velocity = momentum * velocity + g
        param -= lr * (g + momentum * velocity if nesterov else velocity)

    ``velocity`` (param's shape, zeros before the first step) is needed when
    momentum > 0; without it the step is param -= lr * g. Returns
    (param, velocity), the same arrays, updated.
    """
    op = "sgd_update"
    param = _in_place(op, "param", param)
    grad = _grad(op, grad, param)
    if velocity is not None:
        velocity = _in_place(op, "velocity", velocity, param)
    lr = _checks.real(op, "lr", lr, low=0)
    momentum = _checks.real(op, "momentum", momentum, low=0)
    weight_decay = _checks.real(op, "weight_decay", weight_decay, low=0)
    if momentum > 0 and velocity is None:
        raise ValueError(f"[{op}] momentum {momentum} needs velocity= (param's shape, zeros at the first step)")
    if nesterov and momentum == 0:
        raise ValueError(f"[{op}] nesterov needs momentum > 0")
    _distinct(op, param=param, velocity=velocity, grad=grad)
    backend.kernels(param).sgd_update(param, velocity, grad, lr, momentum, bool(nesterov), weight_decay)
    return param, velocity


def adam_update(param, grad, m, v, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=0.0,
                decoupled=False):
    """One Adam step in place (Kingma & Ba, Algorithm 1, as PyTorch computes it):

        g = grad + weight_decay * param          (decoupled=False: L2 in the gradient)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        param -= lr * weight_decay * param       (decoupled=True: AdamW, before the step)
        param -= lr * m_hat / (sqrt(v_hat) + eps),
            m_hat = m / (1 - beta1**step), v_hat = v / (1 - beta2**step)

    ``step`` counts updates from 1; m and v (param's shape) start at zeros.
    eps defaults to 1e-7, Keras' default (PyTorch's is 1e-8). Keras adds its
    epsilon to sqrt(v) rather than sqrt(v_hat): its eps_keras equals
    eps * sqrt(1 - beta2**step) here. Returns (param, m, v), the same arrays,
    updated.
    """
    op = "adam_update"
    param = _in_place(op, "param", param)
    grad = _grad(op, grad, param)
    m = _in_place(op, "m", m, param)
    v = _in_place(op, "v", v, param)
    step = _checks.integer(op, "step", step, low=1)
    lr = _checks.real(op, "lr", lr, low=0)
    beta1 = _checks.real(op, "beta1", beta1, low=0, high=1, high_open=True)
    beta2 = _checks.real(op, "beta2", beta2, low=0, high=1, high_open=True)
    eps = _checks.real(op, "eps", eps, low=0)
    weight_decay = _checks.real(op, "weight_decay", weight_decay, low=0)
    _distinct(op, param=param, m=m, v=v, grad=grad)
    backend.kernels(param).adam_update(param, m, v, grad, step, lr, beta1, beta2, eps, weight_decay, bool(decoupled))
    return param, m, v
