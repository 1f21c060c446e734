"""Saving and loading models in safetensors files (never pickle).

``save_weights`` writes every weight in creation order; ``load_weights`` reads
them back by position and checks each shape. ``save`` adds the architecture as
JSON in the file's metadata, so ``ranvier.load_model`` rebuilds the model.
"""

from __future__ import annotations

import json

import numpy as np

from ranvier.device import array_module
from ranvier.layers.base import layer_from_config, layer_to_config

_FORMAT = "ranvier.model/1"


def _weights_dict(model) -> dict:
    return {f"{i:05d}:{path}": np.ascontiguousarray(w.numpy()) for i, (path, w) in enumerate(model.named_weights())}


def save_weights(model, path: str, metadata: dict | None = None) -> None:
    from safetensors.numpy import save_file

    if not model.built:
        raise ValueError(f"[save_weights] model '{model.name}' has no weights yet: build it (call it on data) first")
    save_file(_weights_dict(model), str(path), metadata=metadata)


def load_weights(model, path: str) -> None:
    """Copy the weights stored at ``path`` into ``model`` (which must have the same architecture)."""
    from safetensors.numpy import load_file

    stored = load_file(str(path))
    keys = sorted(stored)
    if not model.built:
        raise ValueError(
            f"[load_weights] build model '{model.name}' (call it on data, or give input_shape) before loading weights"
        )
    targets = model.named_weights()
    if len(keys) != len(targets):
        raise ValueError(f"[load_weights] {path} holds {len(keys)} weights but model '{model.name}' has {len(targets)}")
    for key, (target_path, w) in zip(keys, targets):
        value = stored[key]
        if value.shape != w.shape:
            layer = target_path.rsplit("/", 1)[0]
            raise ValueError(
                f"[load_weights] layer '{layer}': weight '{target_path}' has shape {w.shape}, "
                f"the file has {value.shape} (saved as '{key.split(':', 1)[1]}')"
            )
    for key, (_, w) in zip(keys, targets):
        w.data[...] = array_module(w.data).asarray(stored[key])


def save_model(model, path: str) -> None:
    """Architecture (JSON in the file's metadata) and weights in one safetensors file."""
    try:
        config = layer_to_config(model)
    except NotImplementedError as e:
        raise NotImplementedError(f"[save] {e}; use save_weights for a subclassed model without get_config") from None
    first = model.layers[0] if getattr(model, "layers", None) else model
    input_shape = first.build_input_shape
    metadata = {
        "format": _FORMAT,
        "model": json.dumps(config),
        "input_shape": json.dumps(None if input_shape is None else list(input_shape)),
    }
    save_weights(model, path, metadata=metadata)


def load_model(path: str, custom_objects: dict | None = None):
    """A model saved by ``model.save(path)``: rebuilt from its JSON, then its weights loaded."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        metadata = f.metadata() or {}
    if metadata.get("format") != _FORMAT:
        raise ValueError(f"[load_model] {path} was not written by Model.save (no ranvier model metadata)")
    model = layer_from_config(json.loads(metadata["model"]), custom_objects)
    input_shape = json.loads(metadata["input_shape"])
    if not model.built and input_shape is not None:
        model.build_for(tuple(input_shape))
    load_weights(model, path)
    return model
