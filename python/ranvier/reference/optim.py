"""Optimizer updates, plainly: they return updated copies."""

from __future__ import annotations

import numpy as np

__all__ = ["sgd_update", "adam_update", "rmsprop_update"]


def sgd_update(param, grad, velocity=None, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
    g = grad + weight_decay * param
    if velocity is None:
        return param - lr * g, None
    velocity = momentum * velocity + g
    update = g + momentum * velocity if nesterov else velocity
    return param - lr * update, velocity


def adam_update(param, grad, m, v, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=0.0, decoupled=False):
    if decoupled:
        decayed = param - lr * weight_decay * param
    else:
        grad = grad + weight_decay * param
        decayed = param
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**step)
    v_hat = v / (1 - beta2**step)
    return decayed - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def rmsprop_update(param, grad, v, velocity=None, mean_grad=None, lr=1e-3, rho=0.9, eps=1e-7, momentum=0.0):
    v = rho * v + (1 - rho) * grad**2
    if mean_grad is None:
        denom = np.sqrt(v) + eps
    else:
        mean_grad = rho * mean_grad + (1 - rho) * grad
        denom = np.sqrt(np.maximum(v - mean_grad**2, 0)) + eps
    increment = lr * grad / denom
    if velocity is None:
        return param - increment, v, None, mean_grad
    velocity = momentum * velocity + increment
    return param - velocity, v, velocity, mean_grad
