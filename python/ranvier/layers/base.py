"""Layer: the base of every layer and model.

A layer creates its weights at construction when it is given its input size
(``input_shape``), else lazily from the first input it sees; it checks later
inputs against that shape, tracks sublayers assigned as attributes, and
switches between training and inference.
"""

from __future__ import annotations

import math
import numbers
import re
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from ranvier import constraints, initializers, regularizers, state
from ranvier.device import array_module, check_device, to_device
from ranvier.layers.symbolic import is_symbolic, symbolic_call
from ranvier.tensor import Tensor, no_grad

_name_counts: defaultdict = defaultdict(int)

# ranvier's own public layer classes by name (Sequential too; not the
# abstract Layer and Model): the closed set a file may name. Other classes
# load only through custom_objects.
_registry: dict = {}

# Largest size argument (units, filters, dims): what an int32 index holds.
MAX_DIM = 2**31 - 1

# While a file is loaded: the parameters its layers may still create (see parameter_budget).
_budget: ContextVar = ContextVar("parameter_budget", default=None)


def _snake_case(name: str) -> str:
    """Keras' default layer names: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    count = _name_counts[prefix]
    _name_counts[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def check_int(value, layer: str, what: str, minimum: int = 1, maximum: int = MAX_DIM) -> int:
    """``value`` as an int in [minimum, maximum]; bools, floats and strings are refused, not rounded."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"[{layer}] {what} must be an integer in [{minimum}, {maximum}], got {value!r}")
    if not minimum <= value <= maximum:
        raise ValueError(f"[{layer}] {what} must be an integer in [{minimum}, {maximum}], got {value!r}")
    return int(value)


def check_float(value, layer: str, what: str, low: float, high: float) -> float:
    """``value`` as a finite float in [low, high] (ints accepted, bools and strings not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"[{layer}] {what} must be a number in [{low}, {high}], got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"[{layer}] {what} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def check_bool(value, layer: str, what: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"[{layer}] {what} must be True or False, got {value!r}")
    return bool(value)


def check_activation(value, layer: str):
    """An activation name, None or a callable (the name is checked against the registry)."""
    if not (value is None or isinstance(value, str) or callable(value)):
        raise TypeError(f"[{layer}] activation must be a name, None or a callable, got {value!r}")
    return value


def check_shape(value, layer: str, what: str, allow_unknown: bool = False) -> tuple:
    """A shape without the batch axis: positive ints (and None where ``allow_unknown``)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"[{layer}] {what} must be a tuple of positive integers, got {value!r}")
    dims = tuple(value)
    return tuple(None if d is None and allow_unknown else check_int(d, layer, f"{what} entry") for d in dims)


class _Budget:
    def __init__(self, left: int, limit: str):
        self.left, self.limit = left, limit


@contextmanager
def parameter_budget(count: int, limit: str):
    """Layers built inside may create at most ``count`` parameters in all; ``limit`` says why, in errors.
    Checked in add_weight before anything is allocated."""
    token = _budget.set(_Budget(count, limit))
    try:
        yield
    finally:
        _budget.reset(token)


def shape_str(shape) -> str:
    dims = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


# The weight arguments every layer takes (Keras' names), and the weight each one applies to.
_ROLE_WEIGHT = {"kernel": "kernel", "bias": "bias", "recurrent": "recurrent_kernel", "embeddings": "embeddings"}
_PENALTY_ROLE = {weight: role for role, weight in _ROLE_WEIGHT.items()}
_WEIGHT_PENALTY_ARGS = tuple(f"{role}_{kind}" for role in _ROLE_WEIGHT for kind in ("regularizer", "constraint"))


# Layer's own list/tuple attributes: weights, their names and flags, penalties, shapes, the cached scan
# of sublayers(); never a sublayer.
_BOOKKEEPING_SEQUENCES = frozenset(
    {
        "_weights",
        "_weight_names",
        "_weight_trainable",
        "_regularized",
        "_activity_losses",
        "input_spec",
        "build_input_shape",
        "output_shape",
        "_init_input_shape",
        "_sublayer_scan",
    }
)


class Parameters(list):
    """What ``parameters()`` returns: the trainable weights, and the layers that have not created theirs
    yet (``unbuilt``), so that an optimizer made over them can refuse instead of training nothing."""

    def __init__(self, weights, unbuilt=()):
        super().__init__(weights)
        self.unbuilt = tuple(unbuilt)


def _accepts_training(call):
    """Keras' ``layer(x, training=True/False)``: that one call runs in that mode (the layer and its
    sublayers), and the modes before come back after it. In a functional graph the model's mode decides:
    a ``training=`` there is refused rather than dropped."""

    def call_in_mode(self, *args, training=None, **kwargs):
        if training is None:
            return call(self, *args, **kwargs)
        label = f"{type(self).__name__} '{self.name}'"
        mode = check_bool(training, label, "training")
        if is_symbolic((args, kwargs)):
            raise NotImplementedError(
                f"[{label}] training= in a functional graph is not supported: the model's mode (fit, "
                "predict, model.train()/eval()) decides for every layer"
            )
        restore = self._enter_mode(mode)
        try:
            return call(self, *args, **kwargs)
        finally:
            restore()

    call_in_mode.__name__, call_in_mode.__doc__, call_in_mode.__wrapped__ = "__call__", call.__doc__, call
    return call_in_mode


class _BuildsWhenDeclared(type):
    """Builds a layer once its whole ``__init__`` has run (subclasses set their sizes after Layer's)."""

    def __call__(cls, *args, **kwargs):
        layer = super().__call__(*args, **kwargs)
        layer._build_declared()
        return layer


class Layer(metaclass=_BuildsWhenDeclared):
    """Base class. Subclasses implement ``build(input_shape)`` (optional) and ``call(x)``.

    ``input_shape`` (without the batch axis) builds the layer at construction,
    as in Keras, so its ``parameters()`` are complete before any call.
    ``trainable = False`` freezes the layer and its sublayers (Keras 3): no
    gradient, no optimizer update, and a frozen BatchNormalization runs in
    inference mode. Weights are created on the layer's ``device`` ("cpu" until
    ``to`` moves it); a sublayer takes its parent's device and frozen state.
    """

    # what the layer takes: float32 features or integer ids (Embedding); a model
    # converts its inputs to a float input_dtype, and build_for's dummy sample has it
    input_dtype = np.float32

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # ranvier.nn's PyTorch-named classes are not in the file format: a file names Keras' classes only
        public = (
            cls.__module__.startswith("ranvier.")
            and not cls.__module__.startswith("ranvier.nn")
            and not cls.__name__.startswith("_")
        )
        if public and cls.call is not Layer.call:
            _registry.setdefault(cls.__name__, cls)
        if "__call__" in cls.__dict__:  # every __call__ takes Keras' training=, as Layer's does
            cls.__call__ = _accepts_training(cls.__dict__["__call__"])

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        """The layer that ``get_config()`` describes (containers rebuild their children too)."""
        return cls(**config)

    def __init__(
        self,
        name: str | None = None,
        input_shape=None,
        trainable: bool = True,
        dtype=None,
        activity_regularizer=None,
        **kwargs,
    ):
        penalties = {key: kwargs.pop(key) for key in _WEIGHT_PENALTY_ARGS if key in kwargs}
        if kwargs:
            raise TypeError(f"[{type(self).__name__}] unexpected argument(s): {', '.join(sorted(kwargs))}")
        object.__setattr__(self, "_sublayers", {})
        if name is not None and not isinstance(name, str):
            raise TypeError(f"[{type(self).__name__}] name must be a string, got {name!r}")
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self.training = True
        self.built = False
        self.device = "cpu"
        self._weights: list[Tensor] = []
        self._weight_names: list[str] = []
        self._weight_trainable: list[bool] = []  # as created; requires_grad also follows the layer's freezing
        where = f"{type(self).__name__} '{self.name}'"
        # kernel_regularizer, bias_constraint, ...: attached by add_weight to the weight they name
        self._weight_penalties = {
            key: (regularizers.get if key.endswith("_regularizer") else constraints.get)(value, where)
            for key, value in penalties.items()
            if value is not None
        }
        for key in _WEIGHT_PENALTY_ARGS:  # Keras' attributes: layer.kernel_regularizer, layer.bias_constraint, ...
            object.__setattr__(self, key, self._weight_penalties.get(key))
        self.activity_regularizer = regularizers.get(activity_regularizer, where)
        self._regularized: list = []  # (weight, regularizer) pairs
        self._activity_losses: list = []  # the activity penalty of the last call
        self._trainable = check_bool(
            trainable, f"{type(self).__name__} '{self.name}'", "trainable"
        )  # nothing to propagate yet
        self.input_spec: tuple | None = None  # what inputs must match, without the batch axis
        self.build_input_shape: tuple | None = None  # the first input's shape, without the batch axis
        self.output_shape: tuple | None = None
        self._init_input_shape = (
            None
            if input_shape is None
            else check_shape(input_shape, type(self).__name__, "input_shape", allow_unknown=True)
        )

    # ---- tracking ------------------------------------------------------------------
    def __setattr__(self, key, value):
        if isinstance(value, Layer):
            self._sublayers[key] = value
            self._adopt(value)
            self.__dict__["_sublayer_scan"] = None  # what sublayers() finds has changed
        elif key not in _BOOKKEEPING_SEQUENCES and (
            isinstance(value, (list, tuple)) or isinstance(self.__dict__.get(key), (list, tuple))
        ):
            self.__dict__["_sublayer_scan"] = None  # it may have changed
        object.__setattr__(self, key, value)

    def __delattr__(self, key):
        object.__delattr__(self, key)
        self.__dict__["_sublayer_scan"] = None

    def _adopt(self, layer: Layer) -> None:
        """A sublayer lives on its parent's device and is frozen with it."""
        if layer.device != self.device:
            layer.to(self.device)
        if not self.trainable:
            layer.trainable = False

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = check_bool(value, f"{type(self).__name__} '{self.name}'", "trainable")
        for w, own in zip(self._weights, self._weight_trainable):
            w.requires_grad = own and self._trainable
            if not w.requires_grad:
                w.grad = None
        for layer in self.sublayers():
            layer.trainable = self._trainable

    def add_weight(self, name: str, shape, initializer="glorot_uniform", trainable: bool = True) -> Tensor:
        shape = tuple(int(d) for d in shape)
        budget = _budget.get()
        if budget is not None:
            size = math.prod(shape)
            if size > budget.left:
                raise ValueError(
                    f"[{type(self).__name__} '{self.name}'] weight '{name}' of shape {shape} ({size:,} parameters) "
                    f"goes beyond {budget.limit}"
                )
            budget.left -= size
        value = np.ascontiguousarray(initializers.get(initializer)(shape), dtype=np.float32)
        value = to_device(value, self.device, f"{self.name}.add_weight")
        w = Tensor(value, requires_grad=trainable and self.trainable, name=f"{self.name}/{name}")
        role = _PENALTY_ROLE.get(name.rsplit("/", 1)[-1])  # "query/kernel" is a kernel too
        if role is not None:
            regularizer = self._weight_penalties.get(f"{role}_regularizer")
            if regularizer is not None:
                self._regularized.append((w, regularizer))
            w.constraint = self._weight_penalties.get(f"{role}_constraint")
        self._weights.append(w)
        self._weight_names.append(name)
        self._weight_trainable.append(trainable)
        return w

    def sublayers(self) -> list:
        # predict and evaluate walk the tree on every call: a layer whose only sequences are tuples
        # (immutable: only an attribute assignment, which clears the scan, can change them) keeps its scan
        scan = self.__dict__.get("_sublayer_scan")
        if scan is not None:
            return list(scan)
        found = list(self._sublayers.values())
        mutable = False
        for key, value in vars(self).items():
            if isinstance(value, (list, tuple)) and key not in _BOOKKEEPING_SEQUENCES:
                mutable = mutable or not isinstance(value, tuple)
                for v in value:
                    if isinstance(v, Layer) and v not in found:
                        found.append(v)
        if not mutable:
            self.__dict__["_sublayer_scan"] = tuple(found)
        return found

    def named_weights(self, prefix: str = "") -> list:
        """(path, tensor) for every weight of this layer and its sublayers, in creation order."""
        out = [(f"{prefix}{self.name}/{n}", w) for n, w in zip(self._weight_names, self._weights)]
        for layer in self.sublayers():
            out.extend(layer.named_weights(f"{prefix}{self.name}/"))
        return out

    @property
    def weights(self) -> list:
        return [w for _, w in self.named_weights()]

    @property
    def trainable_weights(self) -> list:
        """The weights an optimizer updates: none of a frozen layer, sublayers' included."""
        if not self.trainable:
            return []
        own = [w for w, trainable in zip(self._weights, self._weight_trainable) if trainable]
        return own + [w for layer in self.sublayers() for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self) -> list:
        """Frozen weights and those never trained by gradients (BatchNormalization's moving statistics)."""
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def losses(self) -> list:
        """The regularization penalties (scalar Tensors, differentiable) of this layer's and its sublayers'
        trainable weights, now, and the activity penalties of their last call; training adds their sum
        to the loss."""
        found = []
        for layer in self._layer_tree():  # each layer once; fit asks every step
            found.extend(layer._activity_losses)
            found.extend(regularizer(w) for w, regularizer in layer._regularized if w.requires_grad)
        return found

    def parameters(self) -> Parameters:
        """Trainable weights (PyTorch name), for ``optimizer = Adam(model.parameters())``; the list also
        names the layers still unbuilt (``.unbuilt``), which an optimizer refuses."""
        return Parameters(self.trainable_weights, (f"{type(x).__name__} '{x.name}'" for x in self.unbuilt_layers()))

    def named_parameters(self, prefix: str = ""):
        """(dotted path, weight) for every trainable weight (PyTorch name): attribute names for sublayers
        ("fc1.kernel"), list positions for those held in a list ("layers.0.kernel")."""
        if not self.trainable:
            return
        for name, w, trainable in zip(self._weight_names, self._weights, self._weight_trainable):
            if trainable:
                yield prefix + name.replace("/", "."), w
        for key, layer in self.named_children():
            yield from layer.named_parameters(f"{prefix}{key}.")

    def named_children(self) -> list:
        """(attribute name, sublayer), sublayers held in a list or tuple as "attribute.index"."""
        found = list(self._sublayers.items())
        seen = {id(layer) for _, layer in found}
        for key, value in vars(self).items():
            if isinstance(value, (list, tuple)):
                for i, layer in enumerate(value):
                    if isinstance(layer, Layer) and id(layer) not in seen:
                        seen.add(id(layer))
                        found.append((f"{key}.{i}", layer))
        return found

    def unbuilt_layers(self) -> list:
        """This layer or its sublayers that will create trainable weights from the first input they see."""
        if not self.trainable:
            return []
        if not self.built and self._builds_weights():
            return [self]
        return [x for layer in self.sublayers() for x in layer.unbuilt_layers()]

    def _builds_weights(self) -> bool:
        return type(self).build is not Layer.build

    def count_params(self) -> int:
        return int(sum(w.size for w in self.weights))

    def get_weights(self) -> list:
        return [np.array(w.numpy()) for w in self.weights]

    def set_weights(self, values) -> None:
        weights = self.named_weights()
        if len(values) != len(weights):
            raise ValueError(f"[{self.name}] set_weights got {len(values)} arrays for {len(weights)} weights")
        for (path, w), v in zip(weights, values):
            v = np.asarray(v, dtype=np.float32)
            if v.shape != w.shape:
                raise ValueError(f"[{self.name}] weight {path} has shape {w.shape}, got {v.shape}")
            w.data[...] = array_module(w.data).asarray(v)

    def state_dict(self) -> dict:
        """Every weight by its attribute path (``fc1/kernel``), as PyTorch's; see ranvier.state."""
        return state.state_dict(self)

    def load_state_dict(self, state_dict: dict, strict: bool = True):
        """Copy a ``state_dict`` in (checked first); returns (missing_keys, unexpected_keys)."""
        return state.load_state_dict(self, state_dict, strict)

    # ---- device and modes ---------------------------------------------------------------
    def to(self, device: str):
        """Move every weight to "cpu" or "cuda" in place; weights built later are created there too."""
        check_device(f"{self.name}.to", device)
        for w in self._weights:
            w.data = to_device(w.data, device, f"{self.name}.to")
            w.grad = None
        self.device = device
        for layer in self.sublayers():
            layer.to(device)
        return self

    def train(self, mode: bool = True):
        self.training = mode
        for layer in self.sublayers():
            layer.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def _enter_eval(self):
        return self._enter_mode(False)

    def _enter_mode(self, mode: bool):
        """``train(mode)`` now, and a function that calls ``train(mode before)``: what predict and evaluate
        do around every call, and ``layer(x, training=...)``. One walk of the layer tree serves both (each walk
        calls ``sublayers()`` on every layer, a scan of its attributes); a layer that overrides
        ``train``/``eval`` gets the calls themselves."""
        was_training = self.training
        tree = self._layer_tree()
        if type(self).eval is not Layer.eval or any(type(layer).train is not Layer.train for layer in tree):
            self.train(mode)
            return lambda: self.train(was_training)
        for layer in tree:
            layer.training = mode

        def restore():
            for layer in tree:
                layer.training = was_training

        return restore

    def _layer_tree(self) -> list:
        """This layer and every layer under it, each once, in the order train() visits them."""
        tree, seen, stack = [], set(), [self]
        while stack:
            layer = stack.pop()
            if id(layer) not in seen:
                seen.add(id(layer))
                tree.append(layer)
                stack.extend(reversed(layer.sublayers()))
        return tree

    # ---- calling ---------------------------------------------------------------------
    def build(self, input_shape: tuple) -> None:
        """Create weights for inputs of shape (batch, *input_shape[1:])."""

    def call(self, x, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.call")

    def __call__(self, x, *args, **kwargs):
        if not isinstance(x, Tensor):
            if is_symbolic((x, args, kwargs)):
                return symbolic_call(self, x, args, kwargs)  # building a functional model's graph
            x = Tensor(x)
        if not self.built:
            declared = self._init_input_shape
            self.build_from(x.shape if declared is None else (None,) + declared)
        self._check_input(x.shape)
        y = self.call(x, *args, **kwargs)
        first = y[0] if isinstance(y, (tuple, list)) else y
        output_shape = (None,) + tuple(first.shape[1:])
        if output_shape != self.output_shape:  # the same batch after batch: no attribute write
            self.output_shape = output_shape
        if self.activity_regularizer is not None:  # per sample, as Keras: divided by the batch size
            self._activity_losses = [self.activity_regularizer(first) / max(first.shape[0], 1)]
        return y

    def _build_declared(self) -> None:
        """Build at construction from ``input_shape`` when its feature (last) axis is known; a layer whose
        sublayers are made in build (and build from their first input) then runs one zero sample through."""
        declared = self._init_input_shape
        if self.built or not declared or declared[-1] is None:
            return
        self.build_from((None,) + declared)
        if self.unbuilt_layers() and None not in declared:
            self.build_for(declared)

    def build_from(self, shape) -> None:
        """Build for inputs of ``shape`` (with the batch axis)."""
        self.build((None,) + tuple(shape[1:]))
        self._check_penalties_used()
        self.built = True
        self.build_input_shape = tuple(shape[1:])
        self.input_spec = self.input_spec_for(tuple(shape[1:]))

    def _check_penalties_used(self) -> None:
        """A kernel_regularizer (or another weight argument) on a layer that made no such weight is an error,
        not a silent no-op."""
        made = {_PENALTY_ROLE.get(n.rsplit("/", 1)[-1]) for n in self._weight_names}
        for key in self._weight_penalties:
            role = key.rsplit("_", 1)[0]
            if role not in made:
                weights = ", ".join(self._weight_names) or "none"
                raise ValueError(
                    f"[{type(self).__name__} '{self.name}'] {key} was given, but the layer has no "
                    f"{_ROLE_WEIGHT[role]!r} weight to apply it to (its weights: {weights})"
                )

    def input_spec_for(self, shape: tuple):
        """What later inputs must match (without the batch axis), as Keras checks it:
        a layer with weights fixes the rank and the feature (last) axis; others accept anything."""
        if not self._weights or not shape:
            return None
        return (None,) * (len(shape) - 1) + (shape[-1],)

    def _check_input(self, shape) -> None:
        spec = self.input_spec
        if spec is None:
            return
        got = tuple(shape[1:])
        if got == spec:  # every axis known and matching: the common case, without the per-axis loop
            return
        if len(got) != len(spec) or any(s is not None and s != g for s, g in zip(spec, got)):
            raise ValueError(
                f"[{type(self).__name__} '{self.name}'] expects inputs of shape {shape_str(spec)} "
                f"(without the batch axis), got a batch of shape {shape_str(tuple(shape))}"
            )

    def build_for(self, input_shape) -> None:
        """Build from a shape without the batch axis by running one zero sample through."""
        was_training = self.training
        self.eval()  # a dummy sample must not move batch-norm statistics
        try:
            with no_grad():
                self(to_device(np.zeros((1,) + tuple(input_shape), self.input_dtype), self.device, "build_for"))
        finally:
            self.train(was_training)

    # ---- saving ------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Constructor arguments that rebuild this layer (saved as JSON by Model.save)."""
        config = {"name": self.name, "trainable": self.trainable}
        if self._init_input_shape is not None:
            config["input_shape"] = list(self._init_input_shape)
        where = f"{type(self).__name__} '{self.name}'"
        for key, value in self._weight_penalties.items():
            config[key] = (regularizers if key.endswith("_regularizer") else constraints).serialize(value, where)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer, where)
        return config

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '{self.name}'>"


class ConfigError(ValueError):
    """An architecture that cannot be rebuilt; the message names the layer and what is wrong."""


class ConfigTypeError(TypeError):
    """A layer argument of the wrong type in an architecture; the message names the layer."""


def layer_to_config(layer: Layer) -> dict:
    """``{"class_name", "config"}``: refused for a class that could not be rebuilt from it (a class outside
    ranvier that defines no get_config, such as a subclassed Model)."""
    cls = type(layer)
    if _registry.get(cls.__name__) is not cls and cls.get_config is Layer.get_config:
        raise ConfigError(
            f"[save] {cls.__name__} '{layer.name}' cannot be rebuilt from a file: it does not define get_config "
            f"(and from_config when its constructor differs). Save its weights with save_weights and rebuild "
            f"the model in code, or define get_config"
        )
    return {"class_name": cls.__name__, "config": layer.get_config()}


def layer_class(name, custom_objects: dict | None = None) -> type:
    """The class a file names: from ``custom_objects``, else ranvier's closed registry; nothing else."""
    custom = (custom_objects or {}).get(name) if isinstance(name, str) else None
    if custom is not None:
        if not (isinstance(custom, type) and issubclass(custom, Layer)):
            raise TypeError(f"[load_model] custom_objects[{name!r}] must be a Layer subclass, got {custom!r}")
        return custom
    if not isinstance(name, str) or name not in _registry:
        known = ", ".join(sorted(_registry))
        raise ConfigError(
            f"[load_model] unknown layer class {name!r}; a file may name ranvier's layers ({known}) "
            f"or a class passed in custom_objects"
        )
    return _registry[name]


def layer_from_config(spec, custom_objects: dict | None = None) -> Layer:
    """The layer ``layer_to_config`` described. Errors name the layer's class and name: a missing or
    unknown argument, a value of the wrong type or out of range."""
    if not (isinstance(spec, dict) and set(spec) == {"class_name", "config"} and isinstance(spec["config"], dict)):
        raise ConfigError(f"[load_model] a layer must be {{'class_name': str, 'config': dict}}, got {str(spec)[:200]}")
    cls = layer_class(spec["class_name"], custom_objects)
    config = spec["config"]
    label = f"{cls.__name__} {config.get('name', '(unnamed)')!r}"
    try:
        return cls.from_config(dict(config), custom_objects)
    except (ConfigError, ConfigTypeError):
        raise
    except KeyError as e:
        raise ConfigError(f"[load_model] {label}: its config has no key {e}") from None
    except TypeError as e:
        raise ConfigTypeError(f"[load_model] {label}: {e}") from None
    except ValueError as e:
        raise ConfigError(f"[load_model] {label}: {e}") from None


Layer.__call__ = _accepts_training(Layer.__call__)
