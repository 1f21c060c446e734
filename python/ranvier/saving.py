"""Saving and loading models in safetensors files (never pickle).

``save_weights`` writes every weight in creation order; ``save`` adds the
architecture, the compile state and the optimizer's slots, so
``ranvier.load_model`` rebuilds the model ready to evaluate or resume training.
A file is trusted for nothing: the rules are in docs/DESIGN.md, "Files".
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
from pathlib import Path

import numpy as np

from ranvier import losses, metrics, optimizers
from ranvier.device import array_module, to_host
from ranvier.layers.base import check_int, check_shape, layer_from_config, layer_to_config, parameter_budget

_FORMAT = "ranvier.model/1"
SUFFIX = ".safetensors"
MAX_PARAMS = 2**28  # default cap on the parameters a file may declare: 1 GiB of float32
_MAX_NESTING = 100  # JSON levels in the metadata (a Sequential inside a Sequential adds three)
_SLOT_PREFIX = "optimizer/"  # optimizer slots are stored as "optimizer/<weight index>/<slot>"
_LOSSES = {
    cls.__name__: cls
    for cls in (
        losses.MeanSquaredError,
        losses.BinaryCrossentropy,
        losses.CategoricalCrossentropy,
        losses.SparseCategoricalCrossentropy,
    )
}
_METRICS = dict(metrics._CLASSES)
_OPTIMIZERS = {cls.__name__: cls for cls in optimizers._BY_NAME.values()}


# ---- writing -----------------------------------------------------------------------------------------


def save_weights(model, path) -> None:
    """Every weight of ``model`` (built) in a safetensors file, with the SHA-256 of the tensors."""
    _write(path, _weight_tensors(model, "save_weights"), {}, "save_weights")


def save_model(model, path) -> None:
    """Architecture, weights, compile state and optimizer slots in one safetensors file.

    Refused for a model that could not be rebuilt from the file (a subclassed
    model without ``get_config``): save its weights with ``save_weights`` instead.
    """
    architecture = layer_to_config(model)
    tensors = _weight_tensors(model, "save")
    first = model.layers[0] if getattr(model, "layers", None) else model
    input_shape = first.build_input_shape
    metadata = {"format": _FORMAT, "model": architecture, "input_shape": input_shape}
    if model.optimizer is not None and model.loss is not None:
        metadata["compile"] = _compile_state(model)
        tensors.update(_optimizer_slots(model))
    try:
        metadata = {key: value if key == "format" else json.dumps(value) for key, value in metadata.items()}
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"[save] model '{model.name}': its configuration is not JSON ({e}); give layers, losses and "
            "optimizers plain arguments, or save the weights with save_weights"
        ) from None
    _write(path, tensors, metadata, "save")


def _weight_tensors(model, op: str) -> dict:
    if not model.built:
        raise ValueError(f"[{op}] model '{model.name}' has no weights yet: build it (call it on data) first")
    return {f"{i:05d}:{path}": np.ascontiguousarray(w.numpy()) for i, (path, w) in enumerate(model.named_weights())}


def _compile_state(model) -> dict:
    opt = model.optimizer
    state = {
        "optimizer": {"class_name": type(opt).__name__, "config": opt.get_config(), "iterations": opt.iterations},
        "loss": None if isinstance(model.loss, list) else _loss_spec(model.loss),
        "metrics": [_metric_spec(m) for m in model._metrics],
    }
    per_output = getattr(model, "_output_losses", None)
    if per_output:  # a functional model: a loss weight per output, and with several outputs a loss each
        state["loss_weights"] = [weight for _, _, weight in per_output]
    if isinstance(model.loss, list):
        state["loss"] = [None if loss is None else _loss_spec(loss) for loss in model.loss]
        state["metrics"] = [
            [_metric_spec(metric) for i, _, metric in model._output_metrics if i == output]
            for output in range(len(model.loss))
        ]
    return state


def _loss_spec(loss) -> dict:
    return _function_spec(loss) if type(loss) is losses.Loss else _object_spec(loss)


def _metric_spec(metric):
    """A built-in metric by its name when that rebuilds it, else by class and config; a user function or
    class through custom_objects."""
    if type(metric) is metrics.MeanMetricWrapper or type(metric).__module__ != "ranvier.metrics":
        return {"function": metric.name}
    if isinstance(metric, metrics.LossMatchedAccuracy):
        return metric.name
    try:
        by_name = metrics.get(metric.name)
    except ValueError:
        by_name = None
    if type(by_name) is type(metric) and by_name.get_config() == metric.get_config():
        return metric.name
    return _object_spec(metric)


def _object_spec(obj) -> dict:
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def _function_spec(loss) -> dict:
    return {"function": loss.name}  # a plain function wrapped by losses.get: loaded through custom_objects


def _optimizer_slots(model) -> dict:
    """The optimizer's per-weight state (Adam's m and v, momenta), keyed by the weight's index."""
    index = {id(w): i for i, w in enumerate(model.weights)}
    return {
        f"{_SLOT_PREFIX}{index[pid]:05d}/{slot}": np.ascontiguousarray(to_host(value))
        for (pid, slot), value in model.optimizer._state.items()
        if pid in index
    }


def _digest(tensors: dict) -> str:
    """SHA-256 over every tensor's key, dtype, shape and bytes, in key order."""
    digest = hashlib.sha256()
    for key in sorted(tensors):
        a = np.ascontiguousarray(tensors[key])
        digest.update(json.dumps([key, a.dtype.str, list(a.shape)]).encode())
        digest.update(a.data)
    return digest.hexdigest()


def _write(path, tensors: dict, metadata: dict, op: str) -> None:
    from safetensors.numpy import save

    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        raise ValueError(
            f"[{op}] ranvier writes safetensors files only: the name must end in {SUFFIX}, got '{path.name}' "
            "(.keras and .h5 are Keras formats that ranvier does not write)"
        )
    _write_atomically(path, save(tensors, metadata={**metadata, "sha256": _digest(tensors)}))


def _write_atomically(path: Path, data: bytes) -> None:
    """A temporary file beside ``path`` renamed over it once complete: a failed or interrupted save leaves
    the previous file and no temporary. Created with mode 0o666, so the umask sets the permissions."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ---- reading -----------------------------------------------------------------------------------------


def _open(path, op: str):
    from safetensors import SafetensorError, safe_open

    try:
        return safe_open(str(path), framework="numpy")
    except SafetensorError as e:
        raise ValueError(f"[{op}] {path} is not a readable safetensors file ({e})") from None


def load_weights(model, path) -> None:
    """Copy the weights stored at ``path`` into ``model`` (built, with the same architecture)."""
    with _open(path, "load_weights") as f:
        _load_weights(model, f, path, "load_weights")


def _load_weights(model, f, path, op: str) -> dict:
    """Check every stored weight's dtype and shape against the model's, then the file's SHA-256, then copy.
    Returns every tensor of the file (the optimizer slots too)."""
    if not model.built:
        raise ValueError(f"[{op}] build model '{model.name}' (call it on data, or give input_shape) before loading")
    keys = sorted(k for k in f.keys() if not k.startswith(_SLOT_PREFIX))
    targets = model.named_weights()
    if len(keys) != len(targets):
        raise ValueError(f"[{op}] {path} holds {len(keys)} weights but model '{model.name}' has {len(targets)}")
    for i, (key, (target_path, w)) in enumerate(zip(keys, targets)):
        layer = target_path.rsplit("/", 1)[0]
        if not key.startswith(f"{i:05d}:"):
            raise ValueError(f"[{op}] {path}: tensor '{key}' is not weight {i} of a ranvier file ('{i:05d}:<path>')")
        stored = f.get_slice(key)
        if stored.get_dtype() != "F32":
            raise TypeError(
                f"[{op}] layer '{layer}': weight '{target_path}' is float32, the file's tensor '{key}' "
                f"is {stored.get_dtype()}"
            )
        shape = tuple(stored.get_shape())
        if shape != w.shape:
            raise ValueError(
                f"[{op}] layer '{layer}': weight '{target_path}' has shape {w.shape}, "
                f"the file has {shape} (saved as '{key.split(':', 1)[1]}')"
            )
    tensors = {key: f.get_tensor(key) for key in f.keys()}
    expected = (f.metadata() or {}).get("sha256")
    if expected is not None and _digest(tensors) != expected:
        raise ValueError(
            f"[{op}] {path}: the tensors do not match the SHA-256 saved with them; the file is corrupt or was edited"
        )
    for key, (_, w) in zip(keys, targets):
        w.data[...] = array_module(w.data).asarray(tensors[key])
    return tensors


def load_model(path, custom_objects: dict | None = None, compile: bool = True, max_params: int = MAX_PARAMS):
    """A model saved by ``model.save(path)``: rebuilt, its weights loaded and, with ``compile``, compiled
    as it was (optimizer with its state, loss, metrics).

    Layer classes come from ranvier or ``custom_objects`` (as do custom losses,
    metrics and optimizers, by name). A file may declare at most ``max_params``
    parameters (raise it for a larger model you trust); nothing is allocated
    beyond what the file holds.
    """
    max_params = check_int(max_params, "load_model", "max_params", 0, 2**62)
    with _open(path, "load_model") as f:
        metadata = f.metadata() or {}
        if metadata.get("format") != _FORMAT:
            raise ValueError(f"[load_model] {path} was not written by Model.save (no ranvier model metadata)")
        declared = sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys() if not k.startswith(_SLOT_PREFIX))
        if declared > max_params:
            raise ValueError(
                f"[load_model] {path} declares {declared:,} parameters, more than max_params={max_params:,}; "
                "pass a larger max_params if you trust the file"
            )
        architecture = _metadata_json(metadata, "model", path)
        input_shape = _metadata_json(metadata, "input_shape", path)
        with parameter_budget(declared, f"the {declared:,} parameters stored in {path}"):
            model = layer_from_config(architecture, custom_objects)
            if not callable(getattr(model, "compile", None)):
                raise ValueError(f"[load_model] {path} describes a {type(model).__name__}, not a model")
            if input_shape is not None:
                input_shape = _checked_input_shape(input_shape, max_params)
            if not model.built and input_shape is not None:
                model.build_for(input_shape)
        tensors = _load_weights(model, f, path, "load_model")
        if compile and "compile" in metadata:
            _restore_compile(model, _metadata_json(metadata, "compile", path), tensors, custom_objects or {}, path)
    return model


def _metadata_json(metadata: dict, key: str, path):
    if key not in metadata:
        raise ValueError(f"[load_model] {path}: the metadata has no '{key}' entry (written by another tool, or edited)")
    too_deep = ValueError(f"[load_model] {path}: the metadata's '{key}' is nested more than {_MAX_NESTING} levels deep")
    try:
        value = json.loads(metadata[key])
    except RecursionError:
        raise too_deep from None
    except ValueError as e:
        raise ValueError(f"[load_model] {path}: the metadata's '{key}' is not JSON ({e})") from None
    if _nesting(value) > _MAX_NESTING:
        raise too_deep
    return value


def _nesting(value) -> int:
    """How deeply lists and dicts nest in ``value`` (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _checked_input_shape(value, max_params: int) -> tuple:
    """The saved input shape (None for a free axis, built as 1), holding at most ``max_params`` values."""
    shape = tuple(1 if d is None else d for d in check_shape(value, "load_model", "input_shape", allow_unknown=True))
    if math.prod(shape) > max_params:
        raise ValueError(f"[load_model] input_shape {shape} holds more than max_params={max_params:,} values")
    return shape


# ---- compile state -------------------------------------------------------------------------------------


def _restore_compile(model, state, tensors: dict, custom_objects: dict, path) -> None:
    if not isinstance(state, dict) or not {"optimizer", "loss", "metrics"} <= set(state):
        raise ValueError(f"[load_model] {path}: 'compile' must hold optimizer, loss and metrics, got {state!r:.200}")
    spec = state["optimizer"]
    # None: an unset clip or weight decay; dict: a learning-rate schedule, which only loads ranvier's own classes
    settings = (bool, int, float, type(None), dict)
    optimizer = _build(spec, _OPTIMIZERS, optimizers.Optimizer, settings, custom_objects, "optimizer", path)
    iterations = check_int(spec.get("iterations", 0), "load_model", "optimizer iterations", 0, 2**62)
    loss = state["loss"]
    if isinstance(loss, list):  # a functional model's loss per output (None: no loss on that output)
        loss = [None if spec is None else _restored_loss(spec, custom_objects, path) for spec in loss]
    else:
        loss = _restored_loss(loss, custom_objects, path)
    if not isinstance(state["metrics"], list):
        raise ValueError(f"[load_model] {path}: 'metrics' must be a list, got {state['metrics']!r:.200}")
    metrics = [
        [_metric(m, custom_objects, path) for m in _metric_list(entry, path)]
        if isinstance(entry, list)
        else _metric(entry, custom_objects, path)
        for entry in state["metrics"]
    ]
    extra = {} if "loss_weights" not in state else {"loss_weights": state["loss_weights"]}
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, **extra)
    optimizer.iterations = iterations
    _restore_slots(model, optimizer, tensors, path)


def _restored_loss(spec, custom_objects: dict, path):
    if isinstance(spec, dict) and set(spec) == {"function"}:
        return _custom_function(spec["function"], custom_objects, "loss", path)
    return _build(spec, _LOSSES, losses.Loss, (bool, str), custom_objects, "loss", path)


def _metric_list(entry: list, path) -> list:
    if any(isinstance(m, list) for m in entry):
        raise ValueError(f"[load_model] {path}: metrics nest one list per output at most, got {entry!r:.200}")
    return entry


def _build(spec, known: dict, base: type, types: tuple, custom_objects: dict, what: str, path):
    """An optimizer, loss or metric from ``{"class_name", "config"}``: a known class, or one in custom_objects,
    given arguments of ``types`` only (numbers finite)."""
    if not (
        isinstance(spec, dict) and isinstance(spec.get("class_name"), str) and isinstance(spec.get("config"), dict)
    ):
        raise ValueError(f"[load_model] {path}: the {what} must be {{'class_name', 'config'}}, got {spec!r:.200}")
    name, config = spec["class_name"], spec["config"]
    cls = custom_objects.get(name) or known.get(name)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(
            f"[load_model] {path}: unknown {what} {name!r}; known: {', '.join(known)}, or pass the class in "
            "custom_objects (or load_model(..., compile=False))"
        )
    for key, value in config.items():
        if not isinstance(value, types) or (isinstance(value, float) and not math.isfinite(value)):
            kinds = " or ".join("finite number" if t is float else t.__name__ for t in types if t is not int)
            raise ValueError(f"[load_model] {path}: {what} {name} argument {key!r} must be a {kinds}, got {value!r}")
    try:
        return cls(**config)
    except TypeError as e:
        raise TypeError(f"[load_model] {path}: {what} {name}: {e}") from None
    except ValueError as e:
        raise ValueError(f"[load_model] {path}: {what} {name}: {e}") from None


def _metric(spec, custom_objects: dict, path):
    """A metric from its name, {"function": name} (custom_objects) or {"class_name", "config"}."""
    if isinstance(spec, dict) and set(spec) == {"function"}:
        return _custom_function(spec["function"], custom_objects, "metric", path)
    if isinstance(spec, dict):
        return _build(
            spec, _METRICS, metrics.Metric, (bool, str, int, float, list, type(None)), custom_objects, "metric", path
        )
    return spec


def _custom_function(name, custom_objects: dict, what: str, path):
    fn = custom_objects.get(name) if isinstance(name, str) else None
    if not callable(fn):
        raise ValueError(
            f"[load_model] {path}: the model was compiled with the {what} function {name!r}; pass it as "
            f"custom_objects={{{name!r}: ...}}, or use load_model(..., compile=False)"
        )
    return fn


def _restore_slots(model, optimizer, tensors: dict, path) -> None:
    """Each stored slot, checked against its weight's dtype and shape, into the optimizer's state."""
    weights = model.weights
    for key, value in tensors.items():
        if not key.startswith(_SLOT_PREFIX):
            continue
        index, _, slot = key[len(_SLOT_PREFIX) :].partition("/")
        if not (index.isdigit() and int(index) < len(weights) and slot.isidentifier()):
            raise ValueError(f"[load_model] {path}: optimizer tensor '{key}' names no weight of the model")
        w = weights[int(index)]
        if value.dtype != np.float32 or value.shape != w.shape:
            raise ValueError(
                f"[load_model] {path}: optimizer slot '{key}' is {value.dtype} {value.shape}, "
                f"its weight '{w.name}' is float32 {w.shape}"
            )
        optimizer._state[(id(w), slot)] = array_module(w.data).asarray(value)
