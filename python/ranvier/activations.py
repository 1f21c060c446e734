"""The registry of activation names: one table that the layers, the ops and
the compiled modules' enum agree on (``tests/test_structure.py`` checks the
fused names against ``ranvier._cpu.ACTIVATIONS``, which C++'s
``kActivationNames`` defines)."""

from __future__ import annotations

from ranvier import functional as F

# Applied by the kernels inside the dense and conv stores ("linear" is none).
FUSED = ("linear", "relu", "sigmoid", "tanh", "gelu")

_FUNCTIONS = {
    "linear": lambda x: x,
    "relu": F.relu,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "gelu": F.gelu,
    "softmax": lambda x: F.softmax(x, axis=-1),
}

NAMES = tuple(_FUNCTIONS)


def is_fused(activation) -> bool:
    """Whether the GEMM's store applies ``activation`` (None is linear)."""
    return activation is None or activation in FUSED


def get(activation):
    """The function behind an activation name (Keras names), None, or a callable."""
    if callable(activation):
        return activation
    if activation is None:
        return _FUNCTIONS["linear"]
    if activation not in _FUNCTIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(NAMES)}")
    return _FUNCTIONS[activation]
