"""``ranvier.save(obj, path)`` / ``ranvier.load(path)``: state dicts in safetensors files (never pickle).

``obj`` is a tree of dicts (str or int keys), lists and tuples whose leaves are
Tensors, arrays (NumPy or CuPy) and JSON values (None, bool, int, float, str).
The arrays become the file's tensors ("0", "1", ...); the tree, with each
array leaf replaced by a reference to its tensor, is JSON in the metadata. A
file is untrusted input, as in ``saving.py``: its SHA-256 is checked, the tree
may nest at most 100 levels and may only refer to tensors the file holds.
Everything loads on the CPU; a Tensor comes back as a Tensor, an array as an array.
"""

from __future__ import annotations

import json
import numbers

import numpy as np

from ranvier.device import is_gpu_array, to_host
from ranvier.saving import _MAX_NESTING, _digest, _nesting, _open, _write
from ranvier.tensor import Tensor

_FORMAT = "ranvier.state/1"


def save(obj, path) -> None:
    """Write ``obj`` (e.g. ``{"model": m.state_dict(), "optimizer": opt.state_dict()}``) to ``path``
    (a ``.safetensors`` name), atomically."""
    tensors: dict = {}
    tree = _encode(obj, tensors, "obj")
    _write(path, tensors, {"format": _FORMAT, "tree": json.dumps(tree, allow_nan=True)}, "save")


def _encode(value, tensors: dict, where: str):
    if isinstance(value, Tensor) or isinstance(value, np.ndarray) or is_gpu_array(value):
        key = str(len(tensors))
        data = value.data if isinstance(value, Tensor) else value
        tensors[key] = np.ascontiguousarray(to_host(data))
        return {"tensor" if isinstance(value, Tensor) else "array": key}
    if isinstance(value, dict):
        for k in value:
            if not isinstance(k, (str, int)) or isinstance(k, bool):
                raise TypeError(f"[save] {where}: dict keys must be str or int, got {k!r}")
        return {"dict": [[k, _encode(v, tensors, f"{where}[{k!r}]")] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        kind = "list" if isinstance(value, list) else "tuple"
        return {kind: [_encode(v, tensors, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, numbers.Real, str)):
        return {"value": value}
    raise TypeError(
        f"[save] {where} is a {type(value).__name__}: ranvier.save stores Tensors, arrays, dicts, lists, "
        "tuples and JSON values only (never pickle)"
    )


def load(path):
    """What ``save`` wrote to ``path``, its arrays on the CPU."""
    with _open(path, "load") as f:
        metadata = f.metadata() or {}
        if metadata.get("format") != _FORMAT or "tree" not in metadata:
            raise ValueError(f"[load] {path} was not written by ranvier.save (no ranvier state metadata)")
        tensors = {key: f.get_tensor(key) for key in f.keys()}
    if "sha256" in metadata and _digest(tensors) != metadata["sha256"]:
        raise ValueError(f"[load] {path}: the tensors do not match the SHA-256 saved with them; corrupt or edited")
    try:
        tree = json.loads(metadata["tree"])
    except (ValueError, RecursionError) as e:
        raise ValueError(f"[load] {path}: the metadata's tree is not JSON ({type(e).__name__})") from None
    if _nesting(tree) > _MAX_NESTING:
        raise ValueError(f"[load] {path}: the metadata's tree nests more than {_MAX_NESTING} levels")
    return _decode(tree, tensors, path)


def _decode(node, tensors: dict, path):
    if not (isinstance(node, dict) and len(node) == 1):
        raise ValueError(f"[load] {path}: malformed tree node {node!r:.200}")
    ((kind, body),) = node.items()
    if kind in ("tensor", "array"):
        if not isinstance(body, str) or body not in tensors:
            raise ValueError(f"[load] {path}: the tree refers to a tensor {body!r:.50} the file does not hold")
        return Tensor(tensors[body]) if kind == "tensor" else tensors[body]
    if kind == "value" and (body is None or isinstance(body, (bool, int, float, str))):
        return body
    if kind in ("list", "tuple") and isinstance(body, list):
        items = [_decode(v, tensors, path) for v in body]
        return items if kind == "list" else tuple(items)
    if kind == "dict" and isinstance(body, list):
        out = {}
        for entry in body:
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], (str, int))):
                raise ValueError(f"[load] {path}: malformed dict entry {entry!r:.200}")
            out[entry[0]] = _decode(entry[1], tensors, path)
        return out
    raise ValueError(f"[load] {path}: malformed tree node {node!r:.200}")
