"""Tensor: an array (NumPy on the CPU, CuPy on the GPU) with reverse-mode autograd.

Every differentiable function in ``ranvier.functional`` returns a Tensor that
remembers its inputs and a closure mapping the output's gradient to theirs;
``backward()`` walks that graph once in reverse topological order.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from ranvier.device import array_from_dlpack, array_module, check_device, device_of, is_gpu_array, to_device, to_host

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


def _comparison(op: str):
    """The Tensor method for comparison ``op`` ("eq", "lt", ...)."""

    def method(self, other):
        return _functional().compare(self, other, op)

    method.__name__ = f"__{op}__"
    return method


class Tensor:
    """An array with an optional gradient.

    ``data`` is a NumPy or CuPy array; ``grad`` a Tensor of the same shape (or
    None) filled by ``backward()`` on every tensor created with
    ``requires_grad=True``, accumulating across calls until cleared.
    """

    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "_parents",
        "_backward",
        "_version",
        "_saved_versions",
        "name",
        "constraint",  # a weight's projection after each optimizer step (set by its layer), when it has one
        "__weakref__",
    )
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
        self._version = 0  # bumped by every in-place write (t[i] = v)
        self._saved_versions: tuple = ()  # the parents' versions when this node was recorded
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

    def tolist(self):
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __dlpack__(self, **kwargs):
        """The data's DLPack capsule (zero-copy): ``torch.from_dlpack(t)``, ``np.from_dlpack(t)``."""
        return self.data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.data.__dlpack_device__()

    def detach(self) -> Tensor:
        """The same data (not copied) outside the graph."""
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

    def __rpow__(self, base):
        return _functional().power(_functional().as_tensor(base, like=self), self)

    def __matmul__(self, other):
        return _functional().matmul(self, other)

    def __rmatmul__(self, other):
        return _functional().matmul(other, self)

    # comparisons give bool Tensors without grad, as PyTorch; hashing stays by identity
    __eq__ = _comparison("eq")
    __ne__ = _comparison("ne")
    __lt__ = _comparison("lt")
    __le__ = _comparison("le")
    __gt__ = _comparison("gt")
    __ge__ = _comparison("ge")
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        if self.size != 1:
            raise RuntimeError(f"[Tensor] the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data.reshape(()))

    def __getitem__(self, index):
        return _functional().getitem(self, index)

    def __setitem__(self, index, value) -> None:
        """In-place write, where autograd allows it: a tensor that needs no grad, or a leaf inside
        ``no_grad()`` (a parameter's update). A graph that saved this tensor refuses a later backward."""
        if self.requires_grad and (self._backward is not None or is_grad_enabled()):
            where = "a result of the graph" if self._backward is not None else "a leaf that requires grad"
            raise RuntimeError(
                f"[Tensor.__setitem__] cannot write in place into {where}: its gradient would be wrong; "
                "write inside ranvier.no_grad() (a leaf only), or into t.detach().clone()"
            )
        if isinstance(value, Tensor):
            if value.requires_grad and is_grad_enabled():
                raise RuntimeError(
                    "[Tensor.__setitem__] the value requires grad, and writing it in place is not recorded; "
                    "assign value.detach(), or build the result with ranvier.where / ranvier.cat"
                )
            value = value.data
        self.data[index] = array_module(self.data).asarray(value, dtype=self.dtype)
        self._version += 1

    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Over ``axis`` (NumPy name) or ``dim`` (PyTorch name)."""
        return _functional().sum(self, _either(axis, dim), _either(keepdims, keepdim))

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _functional().mean(self, _either(axis, dim), _either(keepdims, keepdim))

    def max(self, dim=None, keepdim=False):
        """The largest value, or ``(values, indices)`` along ``dim`` (PyTorch's)."""
        return _functional().max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return _functional().min(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return _functional().argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return _functional().argmin(self, dim, keepdim)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        return _functional().clamp(self, min, max)

    clip = clamp

    def abs(self):
        return _functional().abs(self)

    def sqrt(self):
        return _functional().sqrt(self)

    def pow(self, exponent):
        return _functional().power(self, exponent)

    def clone(self):
        """A copy of the data that stays in the graph (PyTorch's clone)."""
        return _functional().clone(self)

    def reshape(self, *shape):
        return _functional().reshape(self, *shape)

    def view(self, *shape):
        """As ``reshape`` (ranvier's arrays carry no strides of their own: a view where NumPy can make one)."""
        return _functional().reshape(self, *shape)

    def flatten(self, start_dim=0, end_dim=-1):
        """Axes start_dim..end_dim merged (PyTorch's defaults: everything, to 1-D)."""
        return _functional().flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        return _functional().squeeze(self, dim)

    def unsqueeze(self, dim):
        return _functional().unsqueeze(self, dim)

    def expand(self, *sizes):
        return _functional().expand(self, *sizes)

    def repeat(self, *repeats):
        return _functional().repeat(self, *repeats)

    def split(self, split_size_or_sections, dim=0):
        return _functional().split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return _functional().chunk(self, chunks, dim)

    def gather(self, dim, index):
        return _functional().gather(self, dim, index)

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

    def permute(self, *dims):
        return _functional().transpose(self, _sizes(dims))

    def transpose(self, *axes):
        """Two axes: swapped, as PyTorch's ``transpose(dim0, dim1)`` (on a matrix both (0, 1) and (1, 0)
        transpose). Otherwise NumPy's: no axes reverses them, a permutation of every axis permutes."""
        axes = _sizes(axes)
        if len(axes) == 2:
            return _functional().swapaxes(self, *axes)
        return _functional().transpose(self, axes or None)

    @property
    def T(self):
        return _functional().transpose(self)

    def zero_grad(self) -> None:
        self.grad = None

    # ---- autograd ----------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` defaults to 1 for a tensor of one element. The graph is always
        kept (``retain_graph`` changes nothing); ``create_graph=True`` is refused
        (see ``ranvier.autograd``).
        """
        check_create_graph("backward", create_graph)
        if not self.requires_grad:
            raise RuntimeError("[backward] this tensor does not require grad: no input of it has requires_grad=True")
        propagate([self], [seed_gradient("backward", self, gradient)])
        for observer in _backward_observers:
            observer.backward_done()

    # Arithmetic and shape methods are attached by ranvier.functional.


def _either(numpy_value, torch_value):
    return numpy_value if torch_value is None else torch_value


def _sizes(sizes) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` alike."""
    return tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)


def _check_versions(node: Tensor) -> None:
    """Refuse a backward through values that were written in place after the graph saved them."""
    for parent, saved in zip(node._parents, node._saved_versions):
        if parent._version != saved:
            raise RuntimeError(
                f"[backward] a tensor of shape {parent.shape} used in the forward pass was modified in place "
                "(t[...] = v) since; its gradient would be wrong. Write into a clone instead"
            )


def check_create_graph(op: str, create_graph: bool) -> None:
    if create_graph:
        raise NotImplementedError(
            f"[{op}] create_graph=True (double backward) is not supported: ranvier's gradients are computed "
            "on arrays by its kernels, outside the graph, so they cannot be differentiated again"
        )


def seed_gradient(op: str, output: Tensor, gradient):
    """The array that starts backward at ``output``: ``gradient``, or 1 for a one-element output."""
    xp = array_module(output.data)
    if gradient is None:
        if output.size != 1:
            raise RuntimeError(f"[{op}] gradient must be given for a non-scalar tensor of shape {output.shape}")
        return xp.ones_like(output.data)
    seed = gradient.data if isinstance(gradient, Tensor) else xp.asarray(gradient, dtype=output.data.dtype)
    if tuple(seed.shape) != output.shape:
        raise ValueError(f"[{op}] gradient has shape {tuple(seed.shape)}, the tensor {output.shape}")
    return seed


def propagate(roots: list, seeds: list, capture: dict | None = None) -> None:
    """Carry the seeds' gradients from ``roots`` back through the graph.

    Without ``capture`` each leaf's gradient is added to its ``.grad`` (and told to
    the observers). With it, ``capture`` maps id(tensor) -> None for the tensors
    whose gradient is wanted (leaves or not) and receives them; no ``.grad`` changes.
    """
    grads: dict = {}
    for root, seed in zip(roots, seeds):
        grads[id(root)] = seed if id(root) not in grads else grads[id(root)] + seed
    for node in reversed(_topological_order(roots)):
        g = grads.pop(id(node), None)
        if g is None:
            continue
        if capture is not None and id(node) in capture:
            capture[id(node)] = g
        if node._backward is None:  # a leaf
            if capture is None:
                node.grad = Tensor(g) if node.grad is None else Tensor(node.grad.data + g)
                for observer in _backward_observers:
                    observer.grad_ready(node)
            continue
        _check_versions(node)
        for parent, pg in zip(node._parents, node._backward(g)):
            if pg is None or not parent.requires_grad:
                continue
            key = id(parent)
            grads[key] = pg if key not in grads else grads[key] + pg


_functional_module = None


def _functional():
    """ranvier.functional, imported on first use (it imports this module)."""
    global _functional_module
    if _functional_module is None:
        import ranvier.functional

        _functional_module = ranvier.functional
    return _functional_module


def _topological_order(roots: list) -> list:
    """Nodes reachable from the roots, each after all of its parents (iterative DFS).

    A leaf goes just before the first node that uses it, so in reverse its
    gradient is final (and handed to observers) as early as possible.
    """
    order, seen = [], set()
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
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
    """A new leaf Tensor from array-like data, float32 unless ``dtype`` says otherwise (float64 input
    becomes float32; integers and bools keep their dtype). The data is copied, as ``torch.tensor``."""
    if isinstance(data, Tensor):
        data = data.data
    xp = array_module(data) if is_gpu_array(data) else np
    data = xp.array(data, dtype=dtype)
    if dtype is None and data.dtype == np.float64:
        data = data.astype(np.float32)
    t = Tensor(data, requires_grad=requires_grad)
    return t.to(device) if device != t.device else t


def from_dlpack(x, requires_grad: bool = False) -> Tensor:
    """A Tensor over the memory of any DLPack array (PyTorch, CuPy, JAX, NumPy), without a copy:
    NumPy for a CPU array, CuPy for a CUDA one."""
    if not hasattr(x, "__dlpack__"):
        raise TypeError(f"[from_dlpack] x must support DLPack (have __dlpack__), got {type(x).__name__}")
    device_type = int(x.__dlpack_device__()[0])
    if device_type in (_DLPACK_CPU, _DLPACK_CUDA):
        return Tensor(array_from_dlpack(x, gpu=device_type == _DLPACK_CUDA), requires_grad=requires_grad)
    raise ValueError(f"[from_dlpack] x must be on the CPU or a CUDA device, got DLPack device type {device_type}")


_DLPACK_CPU, _DLPACK_CUDA = 1, 2


def records_grad(parents: tuple) -> bool:
    """Whether make_result will record a backward for these parents (a function can skip saving otherwise)."""
    return is_grad_enabled() and any(p.requires_grad for p in parents)


def make_result(data, parents: tuple, backward) -> Tensor:
    """The output of a differentiable function.

    ``backward(grad)`` returns one gradient array (or None) per parent. Nothing
    is recorded when no parent requires grad or inside ``no_grad()``.
    """
    out = Tensor(data)
    if records_grad(parents):
        out.requires_grad = True
        out._parents = parents
        out._backward = backward
        out._saved_versions = tuple(p._version for p in parents)
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
    node._saved_versions = tuple(p._version for p in parents)
    for i, out in enumerate(outs):
        out.requires_grad = True
        out._parents = (node,)
        out._backward = lambda g, i=i: (_OutputGrads(len(outs), i, g),)
    return outs
