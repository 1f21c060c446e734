"""Tensor: an array (NumPy on the CPU, CuPy on the GPU) with reverse-mode autograd.

Every differentiable function in ``ranvier.functional`` returns a Tensor that
remembers its inputs and a closure mapping the output's gradient to theirs;
``backward()`` walks that graph once in reverse topological order.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from ranvier.device import array_module, check_device, device_of, is_gpu_array, to_device, to_host

_state = threading.local()

# Objects told about every backward pass (gradient reducers of ranvier.distributed):
# grad_ready(leaf) once a leaf's gradient is final, backward_done() at the end.
_backward_observers: list = []


def add_backward_observer(observer) -> None:
    """Call ``observer.grad_ready(leaf)`` as each leaf's gradient is complete and
    ``observer.backward_done()`` after every backward pass, until removed."""
    _backward_observers.append(observer)


def remove_backward_observer(observer) -> None:
    if observer in _backward_observers:
        _backward_observers.remove(observer)


def is_grad_enabled() -> bool:
    return getattr(_state, "grad_enabled", True)


@contextlib.contextmanager
def no_grad():
    """Inside this block no graph is recorded (inference, optimizer updates)."""
    previous = is_grad_enabled()
    _state.grad_enabled = False
    try:
        yield
    finally:
        _state.grad_enabled = previous


class Tensor:
    """An array with an optional gradient.

    ``data`` is a NumPy or CuPy array; ``grad`` a Tensor of the same shape (or
    None) filled by ``backward()`` on every tensor created with
    ``requires_grad=True``, accumulating across calls until cleared.
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "name", "__weakref__")
    __array_priority__ = 1000  # make ndarray + Tensor call Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        if not (isinstance(data, np.ndarray) or is_gpu_array(data)):
            data = np.asarray(data)
            if data.dtype == np.float64:
                data = data.astype(np.float32)  # Python floats and lists default to float32
        self.data = data
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple = ()
        self._backward = None
        self.name = name

    # ---- array-like properties -------------------------------------------------
    @property
    def shape(self) -> tuple:
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return int(self.data.size)

    @property
    def device(self) -> str:
        return device_of(self.data)

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({self.numpy()!r}{grad})".replace("\n", "\n       ")

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (copied from the GPU when on CUDA)."""
        return to_host(self.data)

    def item(self):
        return self.numpy().item()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def detach(self) -> Tensor:
        return Tensor(self.data)

    def to(self, device: str) -> Tensor:
        """This tensor on "cpu" or "cuda" (a leaf: the copy starts a new graph)."""
        if check_device("Tensor.to", device) == self.device:
            return self
        return Tensor(to_device(self.data, device, "Tensor.to"), requires_grad=self.requires_grad, name=self.name)

    # ---- operators and methods, computed by ranvier.functional -----------------
    # functional imports this module, so it is looked up at call time, not imported here.
    def __add__(self, other):
        return _functional().add(self, other)

    def __radd__(self, other):
        return _functional().add(other, self)

    def __sub__(self, other):
        return _functional().sub(self, other)

    def __rsub__(self, other):
        return _functional().sub(other, self)

    def __mul__(self, other):
        return _functional().mul(self, other)

    def __rmul__(self, other):
        return _functional().mul(other, self)

    def __truediv__(self, other):
        return _functional().div(self, other)

    def __rtruediv__(self, other):
        return _functional().div(other, self)

    def __neg__(self):
        return _functional().neg(self)

    def __pow__(self, exponent):
        return _functional().power(self, exponent)

    def __matmul__(self, other):
        return _functional().matmul(self, other)

    def __rmatmul__(self, other):
        return _functional().matmul(other, self)

    def __getitem__(self, index):
        return _functional().getitem(self, index)

    def sum(self, axis=None, keepdims=False):
        return _functional().sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return _functional().mean(self, axis, keepdims)

    def reshape(self, *shape):
        return _functional().reshape(self, *shape)

    def flatten(self, start_axis=1):
        return _functional().flatten(self, start_axis)

    def exp(self):
        return _functional().exp(self)

    def log(self):
        return _functional().log(self)

    def relu(self):
        return _functional().relu(self)

    def sigmoid(self):
        return _functional().sigmoid(self)

    def tanh(self):
        return _functional().tanh(self)

    def transpose(self, *axes):
        """Axes reversed, or permuted as given (``t.transpose(1, 0)`` or ``t.transpose((1, 0))``)."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = axes[0]
        return _functional().transpose(self, tuple(axes) or None)

    @property
    def T(self):
        return _functional().transpose(self)

    def zero_grad(self) -> None:
        self.grad = None

    # ---- autograd ----------------------------------------------------------------
    def backward(self, gradient=None) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` defaults to 1 for a tensor of one element.
        """
        if not self.requires_grad:
            raise RuntimeError("[backward] this tensor does not require grad: no input of it has requires_grad=True")
        xp = array_module(self.data)
        if gradient is None:
            if self.size != 1:
                raise RuntimeError(f"[backward] gradient must be given for a non-scalar tensor of shape {self.shape}")
            seed = xp.ones_like(self.data)
        else:
            seed = gradient.data if isinstance(gradient, Tensor) else xp.asarray(gradient, dtype=self.data.dtype)
            if tuple(seed.shape) != self.shape:
                raise ValueError(f"[backward] gradient has shape {tuple(seed.shape)}, the tensor {self.shape}")
        grads = {id(self): seed}
        for node in reversed(_topological_order(self)):
            g = grads.pop(id(node), None)
            if g is None:
                continue
            if node._backward is None:  # a leaf
                node.grad = Tensor(g) if node.grad is None else Tensor(node.grad.data + g)
                for observer in _backward_observers:
                    observer.grad_ready(node)
                continue
            for parent, pg in zip(node._parents, node._backward(g)):
                if pg is None or not parent.requires_grad:
                    continue
                key = id(parent)
                grads[key] = pg if key not in grads else grads[key] + pg
        for observer in _backward_observers:
            observer.backward_done()

    # Arithmetic and shape methods are attached by ranvier.functional.


_functional_module = None


def _functional():
    """ranvier.functional, imported on first use (it imports this module)."""
    global _functional_module
    if _functional_module is None:
        import ranvier.functional

        _functional_module = ranvier.functional
    return _functional_module


def _topological_order(root: Tensor) -> list:
    """Nodes reachable from root, each after all of its parents (iterative DFS).

    A leaf goes just before the first node that uses it, so in reverse its
    gradient is final (and handed to observers) as early as possible.
    """
    order, seen = [], {id(root)}
    stack = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent.requires_grad and parent._backward is not None and id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, iter(parent._parents)))
                break
        else:
            stack.pop()
            for parent in node._parents:
                if parent.requires_grad and parent._backward is None and id(parent) not in seen:
                    seen.add(id(parent))
                    order.append(parent)
            order.append(node)
    return order


def tensor(data, requires_grad: bool = False, dtype=None, device: str = "cpu") -> Tensor:
    """A new leaf Tensor from array-like data (float64 input becomes float32)."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        data = array_module(data).asarray(data, dtype=dtype)
    t = Tensor(data, requires_grad=requires_grad)
    return t.to(device) if device != t.device else t


def make_result(data, parents: tuple, backward) -> Tensor:
    """The output of a differentiable function.

    ``backward(grad)`` returns one gradient array (or None) per parent. Nothing
    is recorded when no parent requires grad or inside ``no_grad()``.
    """
    out = Tensor(data)
    if is_grad_enabled() and any(p.requires_grad for p in parents):
        out.requires_grad = True
        out._parents = parents
        out._backward = backward
    return out


class _OutputGrads:
    """Gradients of the outputs of a multi-output function, one slot per output.

    Adding two of them merges their slots, so the backward loop accumulates
    every output's gradient before the function's backward runs once.
    """

    __slots__ = ("slots",)

    def __init__(self, count: int, index: int, grad):
        self.slots = [None] * count
        self.slots[index] = grad

    def __add__(self, other: _OutputGrads) -> _OutputGrads:
        merged = _OutputGrads(len(self.slots), 0, None)
        merged.slots = [a if b is None else b if a is None else a + b for a, b in zip(self.slots, other.slots)]
        return merged


def make_results(datas: tuple, parents: tuple, backward) -> tuple:
    """Outputs of a function with several results (an LSTM's sequence and states).

    ``backward(grads)`` gets one gradient per output (None for outputs that
    received none) and returns one gradient per parent.
    """
    outs = tuple(Tensor(d) for d in datas)
    if not (is_grad_enabled() and any(p.requires_grad for p in parents)):
        return outs
    node = Tensor(np.empty(0, np.float32))  # joins the outputs; never seen by users
    node.requires_grad = True
    node._parents = parents
    node._backward = lambda grads: backward(grads.slots)
    for i, out in enumerate(outs):
        out.requires_grad = True
        out._parents = (node,)
        out._backward = lambda g, i=i: (_OutputGrads(len(outs), i, g),)
    return outs
