"""Optimizer updates, plainly: they return updated copies."""

from __future__ import annotations

import numpy as np

__all__ = [
    "sgd_update",
    "adam_update",
    "rmsprop_update",
    "nadam_update",
    "adagrad_update",
    "adamax_update",
    "lion_update",
]


def sgd_update(param, grad, velocity=None, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
    g = grad + weight_decay * param
    if velocity is None:
        return param - lr * g, None
    velocity = momentum * velocity + g
    update = g + momentum * velocity if nesterov else velocity
    return param - lr * update, velocity


def adam_update(
    param, grad, m, v, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=0.0, decoupled=False, v_hat=None
):
    if decoupled:
        decayed = param - lr * weight_decay * param
    else:
        grad = grad + weight_decay * param
        decayed = param
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    second = v if v_hat is None else np.maximum(v_hat, v)  # NumPy's maximum keeps a NaN from either side
    m_hat = m / (1 - beta1**step)
    param = decayed - lr * m_hat / (np.sqrt(second / (1 - beta2**step)) + eps)
    return (param, m, v) if v_hat is None else (param, m, v, second)


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


def nadam_update(param, grad, m, v, step, u_product, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=0.0):
    u_t = beta1 * (1 - 0.5 * 0.96**step)
    u_next = beta1 * (1 - 0.5 * 0.96 ** (step + 1))
    param = param * (1 - lr * weight_decay)  # decoupled decay, as a factor: an Inf weight stays Inf
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * grad / (1 - u_product)
    return param - lr * m_hat / (np.sqrt(v / (1 - beta2**step)) + eps), m, v


def adagrad_update(param, grad, accumulator, lr=1e-3, eps=1e-7, weight_decay=0.0):
    param = param * (1 - lr * weight_decay)  # decoupled decay, as a factor: an Inf weight stays Inf
    accumulator = accumulator + grad**2
    return param - lr * grad / np.sqrt(accumulator + eps), accumulator


def adamax_update(param, grad, m, u, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=0.0):
    param = param * (1 - lr * weight_decay)  # decoupled decay, as a factor: an Inf weight stays Inf
    m = beta1 * m + (1 - beta1) * grad
    u = np.maximum(beta2 * u, np.abs(grad))
    return param - lr / (1 - beta1**step) * m / (u + eps), m, u


def lion_update(param, grad, m, lr=1e-3, beta1=0.9, beta2=0.99, weight_decay=0.0):
    param = param * (1 - lr * weight_decay)  # decoupled decay, as a factor: an Inf weight stays Inf
    param = param - lr * np.sign(beta1 * m + (1 - beta1) * grad)
    return param, beta2 * m + (1 - beta2) * grad
