"""Symbolic tensors and nodes: what calling a layer on ``Input(...)`` records (Keras' functional API).

A ``SymbolicTensor`` has a shape (batch axis None), a dtype and the node that
made it. Calling a layer on symbolic tensors builds the layer, infers the
output shapes by running one zero sample through it (in inference mode, without
gradient) and records a ``Node``: the layer, the call's arguments with their
symbolic tensors, and the symbolic outputs. ``ranvier.Model(inputs, outputs)``
(graph_model.py) replays the nodes on real tensors.
"""

from __future__ import annotations

import numpy as np

from ranvier.device import to_device
from ranvier.tensor import Tensor, no_grad

# Sizes a free (None) non-batch axis takes in the shape pass: large enough for valid convolutions and
# pooling, and far enough apart that a layer's strided output still differs between the two runs.
FREE_SIZES = (64, 96)


class SymbolicTensor:
    """A placeholder for a batch of shape ``shape`` (``shape[0]`` is None) made by ``node``."""

    def __init__(self, shape: tuple, dtype, node: Node | None = None, index: int = 0):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.index = index  # which of node's outputs

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def layer(self):
        return self.node.layer

    @property
    def name(self) -> str:
        return self.node.layer.name if self.index == 0 else f"{self.node.layer.name}_{self.index}"

    def __repr__(self) -> str:
        dims = ", ".join("None" if d is None else str(d) for d in self.shape)
        return f"<SymbolicTensor shape=({dims}) dtype={self.dtype} from '{self.node.layer.name}'>"

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"[{self!r}] a symbolic tensor holds no values: call layers on it and pass it to "
            "ranvier.Model(inputs, outputs), then call the model on data"
        )

    def __bool__(self):
        raise TypeError(f"[{self!r}] a symbolic tensor has no truth value")


class Node:
    """One call of ``layer`` on symbolic tensors: ``call_args`` is (x, args, kwargs) as given."""

    def __init__(self, layer, call_args, outputs: list, structure):
        self.layer = layer
        self.call_args = call_args
        self.inbound = [t for t in flatten(call_args) if isinstance(t, SymbolicTensor)]
        self.outputs = outputs
        self.structure = structure  # the outputs as the layer returned them (a tensor, tuple or list)
        nodes = layer.__dict__.setdefault("_inbound_nodes", [])
        self.index = len(nodes)
        nodes.append(self)


def flatten(structure) -> list:
    """The leaves of nested lists, tuples and dicts (dicts in key order as given)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for item in structure.values() for leaf in flatten(item)]
    return [structure]


def map_structure(fn, structure):
    """``structure`` with every leaf replaced by ``fn(leaf)`` (lists, tuples and dicts kept)."""
    if isinstance(structure, (list, tuple)):
        return type(structure)(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(fn, item) for key, item in structure.items()}
    return fn(structure)


def is_symbolic(structure) -> bool:
    return any(isinstance(leaf, SymbolicTensor) for leaf in flatten(structure))


def symbolic_call(layer, x, args: tuple, kwargs: dict):
    """Record ``layer(x, *args, **kwargs)`` on symbolic tensors; returns the symbolic output(s).

    Every argument must be symbolic or a plain value: a real Tensor beside
    symbolic ones would be baked into the graph, so it is refused. A free axis
    (None) is run at the two FREE_SIZES: output axes that change between them stay None.
    """
    call_args = (x, tuple(args), dict(kwargs))
    label = f"{type(layer).__name__} '{layer.name}'"
    for leaf in flatten(call_args):
        if isinstance(leaf, Tensor) or hasattr(leaf, "__array_interface__"):
            raise TypeError(
                f"[{label}] called on symbolic tensors and a concrete array/Tensor together: a functional "
                "model's inputs must all come from ranvier.Input(...)"
            )
    symbolic = [t for t in flatten(call_args) if isinstance(t, SymbolicTensor)]
    free = any(d is None for t in symbolic for d in t.shape[1:])
    first = _run_on_zeros(layer, call_args, FREE_SIZES[0])
    outputs = flatten(first)
    if not all(isinstance(out, Tensor) for out in outputs):
        raise TypeError(f"[{label}] returned {type(first).__name__}, not Tensors: it cannot be used in a Model graph")
    shapes = [(None,) + tuple(out.shape[1:]) for out in outputs]
    if free:
        try:
            second = flatten(_run_on_zeros(layer, call_args, FREE_SIZES[1]))
        except ValueError as e:
            shapes_in = ", ".join(str(t.shape) for t in symbolic)
            raise ValueError(
                f"[{label}] cannot take inputs with a free (None) axis here ({shapes_in}): its output or "
                f"weights depend on that axis' size ({e})"
            ) from None
        shapes = [
            (None,) + tuple(a if a == b else None for a, b in zip(shape[1:], out.shape[1:]))
            for shape, out in zip(shapes, second)
        ]
    symbolic_outputs = [SymbolicTensor(shape, out.dtype) for shape, out in zip(shapes, outputs)]
    iterator = iter(symbolic_outputs)
    structure = map_structure(lambda _: next(iterator), first)
    node = Node(layer, call_args, symbolic_outputs, structure)
    for i, out in enumerate(symbolic_outputs):
        out.node, out.index = node, i
    return structure


def _run_on_zeros(layer, call_args, free_size: int):
    """The layer's output for one zero sample per symbolic tensor (free axes at ``free_size``)."""

    def zeros(leaf):
        if not isinstance(leaf, SymbolicTensor):
            return leaf
        shape = (1,) + tuple(free_size if d is None else d for d in leaf.shape[1:])
        return Tensor(to_device(np.zeros(shape, leaf.dtype), layer.device, f"{layer.name} (symbolic call)"))

    x, args, kwargs = map_structure(zeros, call_args)
    was_training = layer.training
    layer.eval()  # the dummy sample must not move batch-norm statistics or draw dropout masks
    try:
        with no_grad():
            return layer(x, *args, **kwargs)
    finally:
        layer.train(was_training)
