"""State dicts (PyTorch's interchange of weights): every weight of a layer tree under a structural name.

A key is the path of attribute names from the model to the weight, joined by
"/": ``fc1/kernel`` for ``self.fc1 = Dense(...)``, ``layers/0/kernel`` for a
Sequential's first layer (a layer in a list attribute is named by its index).
Layer names (``dense_3``) take no part, so two instances of one architecture
have the same keys. Non-trainable weights (BatchNormalization's moving
statistics) are included, as PyTorch's buffers are.
"""

from __future__ import annotations

import collections

import numpy as np

from ranvier.device import array_module
from ranvier.tensor import Tensor

IncompatibleKeys = collections.namedtuple("IncompatibleKeys", "missing_keys unexpected_keys")


def named_state(layer, prefix: str = "") -> list:
    """(key, weight) for every weight of ``layer`` and its sublayers, in creation order, each once."""
    out, seen = [], set()
    _collect(layer, prefix, out, seen)
    return out


def _collect(layer, prefix: str, out: list, seen: set) -> None:
    for name, w in zip(layer._weight_names, layer._weights):
        if id(w) not in seen:
            seen.add(id(w))
            out.append((prefix + name, w))
    for child_name, child in _named_children(layer):
        _collect(child, f"{prefix}{child_name}/", out, seen)


def _named_children(layer) -> list:
    """(attribute path, sublayer) in ``sublayers()`` order; the layer's own name if it has no attribute."""
    names = {}
    for attr, value in vars(layer).items():
        if isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                names.setdefault(id(v), f"{attr}/{i}")
    for attr, value in layer._sublayers.items():
        names[id(value)] = attr
    return [(names.get(id(child), child.name), child) for child in layer.sublayers()]


def state_dict(layer) -> dict:
    """Key -> Tensor sharing the weight's memory (no grad), as PyTorch's ``state_dict``."""
    _require_built(layer, "state_dict")
    return collections.OrderedDict((key, w.detach()) for key, w in named_state(layer))


def load_state_dict(layer, state: dict, strict: bool = True) -> IncompatibleKeys:
    """Copy ``state``'s arrays (Tensors, NumPy, anything with DLPack or ``__array__``) into the weights.

    Every value is checked (a floating dtype, the weight's shape) before any is
    copied. ``strict`` refuses missing and unexpected keys, naming them all;
    otherwise they are returned, as PyTorch does.
    """
    where = f"[{type(layer).__name__} '{layer.name}'] load_state_dict"
    _require_built(layer, "load_state_dict")
    if not isinstance(state, dict):
        raise TypeError(f"{where}: state must be a dict of arrays, got {type(state).__name__}")
    targets = dict(named_state(layer))
    missing = [k for k in targets if k not in state]
    unexpected = [k for k in state if k not in targets]
    if strict and (missing or unexpected):
        raise ValueError(
            f"{where}: missing keys {missing}, unexpected keys {unexpected} "
            "(pass strict=False to load the keys that match)"
        )
    values = {}
    for key, w in targets.items():
        if key not in state:
            continue
        value = _host_or_device_array(state[key], w)
        if value.dtype.kind != "f":
            raise TypeError(f"{where}: '{key}' must be a floating array, got {value.dtype}")
        if tuple(value.shape) != w.shape:
            raise ValueError(f"{where}: '{key}' has shape {tuple(value.shape)}, the weight {w.shape}")
        values[key] = value
    for key, value in values.items():
        w = targets[key]
        w.data[...] = array_module(w.data).asarray(value, dtype=w.dtype)
    return IncompatibleKeys(missing, unexpected)


def _host_or_device_array(value, like: Tensor):
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "__dlpack__") and not isinstance(value, np.ndarray):
        from ranvier.tensor import from_dlpack

        return from_dlpack(value).data
    return array_module(like.data).asarray(value)


def _require_built(layer, op: str) -> None:
    if not layer.built:
        raise ValueError(
            f"[{type(layer).__name__} '{layer.name}'] {op}: the layer has no weights yet; build it first "
            "(call it on data, or give input_shape)"
        )
