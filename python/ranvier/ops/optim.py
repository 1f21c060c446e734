"""Optimizer updates, fused into one pass and applied in place.

Every array that is updated (param and its state: velocity, m, v, v_hat,
mean_grad, accumulator, u) must be a C-contiguous, writeable float32 array:
anything else is an error, because a converted copy would silently drop the
update. The ops return the same arrays they updated.
"""

from __future__ import annotations

from ranvier import backend

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
    """One SGD step in place, PyTorch's formula (dampening 0):

        g = grad + weight_decay * param
        velocity = momentum * velocity + g
        param -= lr * (g + momentum * velocity if nesterov else velocity)

    ``velocity`` (param's shape, zeros before the first step) is needed when
    momentum > 0; without it the step is param -= lr * g. Returns
    (param, velocity), the same arrays, updated.
    """
    backend.kernels(param).sgd_update(param, grad, velocity, lr, momentum, bool(nesterov), weight_decay)
    return param, velocity


def adam_update(
    param, grad, m, v, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=0.0, decoupled=False, v_hat=None
):
    """One Adam step in place (Kingma & Ba, Algorithm 1, as PyTorch computes it):

        g = grad + weight_decay * param          (decoupled=False: L2 in the gradient)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        param -= lr * weight_decay * param       (decoupled=True: AdamW, before the step)
        v_max = max(v_max, v); v = v_max         (AMSGrad: when the array v_hat= is given)
        param -= lr * m_hat / (sqrt(v_hat) + eps),
            m_hat = m / (1 - beta1**step), v_hat = v / (1 - beta2**step)

    ``step`` counts updates from 1; m and v (param's shape) start at zeros.
    eps defaults to 1e-7, Keras' default (PyTorch's is 1e-8). Keras adds its
    epsilon to sqrt(v) rather than sqrt(v_hat): its eps_keras equals
    eps * sqrt(1 - beta2**step) here. Returns (param, m, v), the same arrays,
    updated (and v_hat, the running maximum of v, when given).
    """
    backend.kernels(param).adam_update(
        param, grad, m, v, step, lr, beta1, beta2, eps, weight_decay, bool(decoupled), v_hat
    )
    return (param, m, v) if v_hat is None else (param, m, v, v_hat)


def rmsprop_update(param, grad, v, velocity=None, mean_grad=None, lr=1e-3, rho=0.9, eps=1e-7, momentum=0.0):
    """One RMSprop step in place, with Keras' options (momentum, centered):

        v = rho * v + (1 - rho) * g**2
        mean_grad = rho * mean_grad + (1 - rho) * g     (centered: when mean_grad is given)
        denom = sqrt(v - mean_grad**2) + eps             (sqrt(v) + eps uncentered)
        increment = lr * g / denom
        velocity = momentum * velocity + increment; param -= velocity   (with velocity)
        param -= increment                                               (without)

    v, velocity and mean_grad (param's shape) start at zeros; velocity is
    needed when momentum > 0. eps is added to the root, as PyTorch does;
    Keras 3 takes sqrt(v + eps) instead, which differs where v is not well
    above eps (gradients of about sqrt(eps) or smaller: Keras' steps are
    smaller there). v - mean_grad**2 is clamped at 0 against rounding. Returns
    (param, v, velocity, mean_grad), the same arrays, updated.
    """
    backend.kernels(param).rmsprop_update(param, grad, v, velocity, mean_grad, lr, rho, eps, momentum)
    return param, v, velocity, mean_grad


def nadam_update(param, grad, m, v, step, u_product, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=0.0):
    """One Nadam step in place, Keras 3's formula (Dozat's momentum schedule):

        u_t = beta1 * (1 - 0.5 * 0.96**step),  u_next = beta1 * (1 - 0.5 * 0.96**(step + 1))
        param -= lr * weight_decay * param       (decoupled, before the step)
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g**2
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
        param -= lr * m_hat / (sqrt(v / (1 - beta2**step)) + eps)

    ``u_product`` is u_1 * ... * u_step (the optimizer keeps the running product, as
    Keras does). Returns (param, m, v), the same arrays, updated.
    """
    backend.kernels(param).nadam_update(param, grad, m, v, step, u_product, lr, beta1, beta2, eps, weight_decay)
    return param, m, v


def adagrad_update(param, grad, accumulator, lr=1e-3, eps=1e-7, weight_decay=0.0):
    """One Adagrad step in place, Keras 3's formula (epsilon inside the root):

        param -= lr * weight_decay * param       (decoupled, before the step)
        accumulator += g**2
        param -= lr * g / sqrt(accumulator + eps)

    ``accumulator`` starts at Keras' initial_accumulator_value (0.1). Returns
    (param, accumulator), the same arrays, updated.
    """
    backend.kernels(param).adagrad_update(param, grad, accumulator, lr, eps, weight_decay)
    return param, accumulator


def adamax_update(param, grad, m, u, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7, weight_decay=0.0):
    """One Adamax step in place, Keras 3's formula:

        param -= lr * weight_decay * param       (decoupled, before the step)
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g|)                  (a NaN on either side stays NaN)
        param -= lr / (1 - beta1**step) * m / (u + eps)

    Returns (param, m, u), the same arrays, updated.
    """
    backend.kernels(param).adamax_update(param, grad, m, u, step, lr, beta1, beta2, eps, weight_decay)
    return param, m, u


def lion_update(param, grad, m, lr=1e-3, beta1=0.9, beta2=0.99, weight_decay=0.0):
    """One Lion step in place, Keras 3's formula:

        param -= lr * weight_decay * param       (decoupled, before the step)
        param -= lr * sign(beta1 * m + (1 - beta1) * g)     (sign of NaN is NaN, sign of 0 is 0)
        m = beta2 * m + (1 - beta2) * g

    Returns (param, m), the same arrays, updated.
    """
    backend.kernels(param).lion_update(param, grad, m, lr, beta1, beta2, weight_decay)
    return param, m
