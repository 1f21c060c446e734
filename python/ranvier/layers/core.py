"""Core layers: InputLayer (and Input), Dense, Activation, Flatten, Reshape, Dropout, Lambda."""

from __future__ import annotations

import numpy as np

from ranvier import activations
from ranvier import functional as F
from ranvier.layers.base import (
    ConfigError,
    Layer,
    _registry,
    check_activation,
    check_bool,
    check_float,
    check_int,
    check_shape,
)
from ranvier.layers.symbolic import Node, SymbolicTensor


class InputLayer(Layer):
    """The entry of a model: its shape (without the batch axis) and dtype. ``Input(shape)`` makes one and
    returns its symbolic tensor; as the first layer of a Sequential it declares the input shape."""

    def __init__(self, shape=None, dtype=None, batch_shape=None, name=None, **kwargs):
        if (shape is None) == (batch_shape is None):
            raise ValueError(
                f"[InputLayer] give shape or batch_shape (with the batch axis), got {shape=}, {batch_shape=}"
            )
        if batch_shape is not None:
            batch_shape = check_shape(batch_shape, "InputLayer", "batch_shape", allow_unknown=True)
            if not batch_shape:
                raise ValueError("[InputLayer] batch_shape needs the batch axis, got ()")
            shape = batch_shape[1:]
        shape = check_shape(shape, "InputLayer", "shape", allow_unknown=True)
        try:
            dtype = np.dtype("float32" if dtype is None else dtype)
        except TypeError:
            raise TypeError(f"[InputLayer] dtype must be a NumPy dtype name such as 'float32', got {dtype!r}") from None
        if dtype.kind not in "biuf":
            raise TypeError(f"[InputLayer] dtype must be a bool, integer or float dtype, got {dtype}")
        super().__init__(name=name, input_shape=shape, **kwargs)
        self.shape = shape
        self.input_dtype = dtype
        self.output = SymbolicTensor((None, *shape), dtype)
        node = Node(self, (None, (), {}), [self.output], self.output)
        self.output.node = node

    def call(self, x):
        return x

    def get_config(self):
        return {"shape": list(self.shape), "dtype": self.input_dtype.name, "name": self.name}


def Input(shape, name=None, dtype=None, batch_size=None, batch_shape=None):  # noqa: N802 - Keras' name
    """A symbolic input of ``shape`` (without the batch axis) for ``ranvier.Model(inputs, outputs)``;
    as the first entry of ``Sequential([...])`` it declares the input shape."""
    if batch_size is not None:
        check_int(batch_size, "Input", "batch_size")  # the batch axis stays free: a model takes any batch
    if batch_shape is not None:
        return InputLayer(batch_shape=batch_shape, dtype=dtype, name=name).output
    return InputLayer(shape=shape, dtype=dtype, name=name).output


# files written before InputLayer name the class "Input" (config {"shape", "name"})
_registry.setdefault("Input", InputLayer)


class Dense(Layer):
    """y = activation(x @ kernel + bias): x (..., in), kernel (in, units), bias (units,).

    The names of activations.FUSED (relu, gelu, silu, ...) are fused into the GEMM; softmax is applied
    after it (and fused with cross-entropy by ``Model.compile``). ``input_dim=784``
    (Keras 2) is ``input_shape=(784,)``: the weights exist at construction.
    """

    def __init__(
        self,
        units: int,
        activation=None,
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        input_dim: int | None = None,
        **kwargs,
    ):
        if input_dim is not None:
            if kwargs.get("input_shape") is not None:
                raise ValueError("[Dense] give input_dim or input_shape, not both")
            kwargs["input_shape"] = (check_int(input_dim, "Dense", "input_dim"),)
        super().__init__(**kwargs)
        self.units = check_int(units, "Dense", "units")
        activations.get(check_activation(activation, "Dense"))  # fail early on unknown names
        self.activation = activation
        self.use_bias = check_bool(use_bias, "Dense", "use_bias")
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer

    def build(self, input_shape):
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer) if self.use_bias else None

    def call(self, x):
        if activations.is_fused(self.activation):
            act = activations.fused_name(self.activation)
            return F.linear(x, self.kernel, self.bias, activation=act)
        return activations.get(self.activation)(self.call_logits(x))

    def call_logits(self, x):
        """The output before a non-fused activation (softmax): what fused losses take."""
        return F.linear(x, self.kernel, self.bias)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation, "use_bias": self.use_bias}


class Activation(Layer):
    """Applies an activation by name (any of ranvier.activations.NAMES) or a callable."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.fn = activations.get(check_activation(activation, "Activation"))
        self.activation = activation

    def call(self, x):
        return self.fn(x)

    def call_logits(self, x):
        return x

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...)."""

    def call(self, x):
        return F.flatten(x)


class Reshape(Layer):
    """(N, ...) -> (N, *target_shape); one entry of target_shape may be -1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(target_shape, (list, tuple)):
            raise TypeError(f"[Reshape] target_shape must be a tuple of positive integers or -1, got {target_shape!r}")
        self.target_shape = tuple(
            -1 if type(d) is int and d == -1 else check_int(d, "Reshape", "target_shape entry") for d in target_shape
        )

    def call(self, x):
        return F.reshape(x, (x.shape[0],) + self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Dropout(Layer):
    """In training, zeroes each input with probability ``rate`` and scales the rest by 1 / (1 - rate);
    the identity in inference (``model.eval()``, ``predict``, ``evaluate``)."""

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_float(rate, "Dropout", "rate", 0.0, 1.0)
        if self.rate == 1.0:
            raise ValueError(f"[Dropout] rate must be in [0, 1), got {rate}")
        # a seeded layer draws a new mask each step from its own generator
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def call(self, x):
        seed = int(self._rng.integers(0, 2**63 - 1)) if self._rng is not None else None
        return F.dropout(x, self.rate, training=self.training, seed=seed)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class Lambda(Layer):
    """y = function(x, **arguments): any function of Tensors (ranvier.functional keeps it differentiable).

    A model holding a Lambda cannot be saved with ``save``: ranvier's file format
    is a closed registry of classes and stores no code, so a function cannot be
    written safely (Keras' safe mode refuses to load one too). Save the weights
    with ``save_weights``, or write a Layer subclass with ``get_config`` and load
    it through ``custom_objects``. ``output_shape`` is accepted for Keras'
    signature; shapes come from running the function.
    """

    def __init__(self, function, output_shape=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"[Lambda '{self.name}'] function must be callable, got {function!r}")
        if not (output_shape is None or callable(output_shape) or isinstance(output_shape, (tuple, list))):
            raise TypeError(
                f"[Lambda '{self.name}'] output_shape must be None, a tuple or a callable, got {output_shape!r}"
            )
        if not (arguments is None or isinstance(arguments, dict)):
            raise TypeError(f"[Lambda '{self.name}'] arguments must be a dict, got {arguments!r}")
        self.function = function
        self.output_shape_arg = output_shape
        self.arguments = dict(arguments or {})

    def call(self, x):
        return F.as_tensor(self.function(x, **self.arguments))

    def get_config(self):
        raise ConfigError(
            f"[save] Lambda '{self.name}' holds a Python function, which a ranvier file cannot store (it holds no "
            "code): save the weights with save_weights and rebuild the model in code, or replace the Lambda by a "
            "Layer subclass with get_config and load it with custom_objects"
        )

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        raise ConfigError(
            "[load_model] a Lambda layer cannot be loaded from a file (files hold no code); pass a Layer subclass "
            "under the name 'Lambda' in custom_objects"
        )
