"""Keras' activation functions over Tensors, and the registry of activation
names: one table that the layers, the ops and the compiled modules' enum agree
on (``tests/test_structure.py`` checks the fused names against
``ranvier._cpu.ACTIVATIONS``, which C++'s ``kActivationNames`` defines)."""

from __future__ import annotations

from ranvier import functional as F

# Applied by the kernels inside the dense and conv stores ("linear" is none),
# with Keras' default parameters (leaky_relu's negative_slope 0.2, elu's alpha 1).
FUSED = (
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "gelu",
    "leaky_relu",
    "elu",
    "selu",
    "silu",
    "softplus",
    "softsign",
    "hard_sigmoid",
    "exponential",
)

# Keras' other names for the same function
_ALIASES = {"swish": "silu"}


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0); with parameters, Keras' ReLU: (x if x > threshold else 0) clipped to
    [0, max_value], less negative_slope * max(threshold - x, 0)."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    return F.relu_general(x, negative_slope, max_value, threshold)


def relu6(x):
    """min(max(x, 0), 6)"""
    return F.relu_general(x, 0.0, 6.0, 0.0)


def leaky_relu(x, negative_slope=0.2):
    """x where x > 0, negative_slope * x elsewhere"""
    return F.leaky_relu(x, negative_slope)


def elu(x, alpha=1.0):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere"""
    return F.elu(x, alpha)


def selu(x):
    """scale * elu(x, alpha), alpha = 1.67326..., scale = 1.05070..."""
    return F.selu(x)


def silu(x):
    """x * sigmoid(x)"""
    return F.silu(x)


swish = silu


def softplus(x):
    """log(1 + exp(x))"""
    return F.softplus(x)


def softsign(x):
    """x / (1 + |x|)"""
    return F.softsign(x)


def sigmoid(x):
    return F.sigmoid(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6 (Keras 3; Keras 2's was 0.2 x + 0.5 clipped)"""
    return F.hard_sigmoid(x)


def tanh(x):
    return F.tanh(x)


def gelu(x, approximate=False):
    """x * Phi(x), the exact form; ranvier has no tanh approximation"""
    if approximate:
        raise ValueError("[gelu] approximate=True (the tanh form) is not implemented; use the exact form")
    return F.gelu(x)


def exponential(x):
    """exp(x)"""
    return F.exponential(x)


def linear(x):
    """x, unchanged"""
    return x


def softmax(x, axis=-1):
    return F.softmax(x, axis=axis)


_FUNCTIONS = {
    "linear": linear,
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "gelu": gelu,
    "softmax": softmax,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "selu": selu,
    "silu": silu,
    "swish": silu,
    "softplus": softplus,
    "softsign": softsign,
    "hard_sigmoid": hard_sigmoid,
    "exponential": exponential,
    "relu6": relu6,
}

NAMES = tuple(_FUNCTIONS)


def canonical(activation):
    """The registry's name for an activation name (Keras' "swish" is "silu")."""
    return _ALIASES.get(activation, activation)


def is_fused(activation) -> bool:
    """Whether the GEMM's store applies ``activation`` (None is linear)."""
    return activation is None or (isinstance(activation, str) and canonical(activation) in FUSED)


def fused_name(activation):
    """What ``ops.linear``/``ops.conv2d`` take for a fused activation: None for linear, else its name."""
    name = canonical(activation)
    return None if name in (None, "linear") else name


def get(activation):
    """The function behind an activation name (Keras names), None, or a callable."""
    if callable(activation):
        return activation
    if activation is None:
        return _FUNCTIONS["linear"]
    if activation not in _FUNCTIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(NAMES)}")
    return _FUNCTIONS[activation]
