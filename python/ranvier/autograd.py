"""PyTorch's autograd extension points: ``Function`` (a custom forward and backward) and ``grad``.

    class Square(ranvier.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x
        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    y = Square.apply(x)

Double backward (``create_graph=True``) is refused: every gradient in ranvier
is computed on arrays, by the kernels' backward functions, outside the graph.
"""

from __future__ import annotations

from ranvier.device import array_module
from ranvier.tensor import (
    Tensor,
    check_create_graph,
    make_result,
    make_results,
    no_grad,
    propagate,
    seed_gradient,
)


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: ``save_for_backward(*tensors)`` / ``saved_tensors``,
    ``needs_input_grad`` (one bool per forward argument), and any attribute set on it."""

    def __init__(self, needs_input_grad: tuple):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors: tuple = ()

    def save_for_backward(self, *tensors) -> None:
        self.saved_tensors = tensors


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``; call ``apply``.

    ``forward`` runs outside the graph and returns a Tensor or a tuple of them.
    ``backward`` gets one gradient Tensor per output (zeros for an output that got
    none) and returns one gradient (Tensor, array or None) per argument of
    ``forward``, each of that argument's shape.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("Function.forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("Function.backward")

    @classmethod
    def apply(cls, *args, **kwargs):
        name = cls.__name__
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        with no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        single = isinstance(outputs, Tensor)
        outs = (outputs,) if single else outputs
        if not isinstance(outs, tuple) or not all(isinstance(o, Tensor) for o in outs):
            raise TypeError(f"[{name}.forward] must return a Tensor or a tuple of Tensors, got {outputs!r}")
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        parents = tuple(args[i] for i in positions)

        def backward(grads):
            with no_grad():
                grad_outputs = tuple(Tensor(g if g is not None else _zeros_like(o.data)) for g, o in zip(grads, outs))
                result = cls.backward(ctx, *grad_outputs)
            result = result if isinstance(result, tuple) else (result,)
            if len(result) != len(args):
                raise RuntimeError(
                    f"[{name}.backward] returned {len(result)} gradients; forward took {len(args)} arguments "
                    "(return None for those that need none)"
                )
            return tuple(_gradient_array(name, i, result[i], args[i]) for i in positions)

        if single:
            return make_result(outs[0].data, parents, lambda g: backward((g,)))
        return make_results(tuple(o.data for o in outs), parents, backward)


def _zeros_like(data):
    return array_module(data).zeros_like(data)


def _gradient_array(name: str, index: int, grad, arg: Tensor):
    if grad is None:
        return None
    data = grad.data if isinstance(grad, Tensor) else grad
    if tuple(getattr(data, "shape", ())) != arg.shape:
        raise ValueError(
            f"[{name}.backward] the gradient of argument {index} has shape {tuple(getattr(data, 'shape', ()))}, "
            f"the argument {arg.shape}"
        )
    return data


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs`` (a tuple of Tensors), as PyTorch's
    ``torch.autograd.grad``; no ``.grad`` is changed. ``grad_outputs`` defaults to 1 for one-element
    outputs. An input the outputs do not depend on is an error unless ``allow_unused`` (then None).
    The graph is always kept (``retain_graph`` changes nothing); ``create_graph=True`` is refused.
    """
    check_create_graph("grad", create_graph)
    outputs = _tensors("outputs", outputs)
    inputs = _tensors("inputs", inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"[grad] grad_outputs has {len(grad_outputs)} entries, outputs {len(outputs)}")
    for i, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(f"[grad] output {i} does not require grad: no input of it has requires_grad=True")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"[grad] input {i} does not require grad")
    seeds = [seed_gradient("grad", t, g) for t, g in zip(outputs, grad_outputs)]
    capture = {id(t): None for t in inputs}
    propagate(outputs, seeds, capture)
    result = []
    for i, t in enumerate(inputs):
        g = capture[id(t)]
        if g is None and not allow_unused:
            raise RuntimeError(
                f"[grad] input {i} (shape {t.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        result.append(None if g is None else Tensor(g))
    return tuple(result)


def _tensors(what: str, value) -> list:
    items = [value] if isinstance(value, Tensor) else list(value)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"[grad] {what} must be Tensors, got {type(t).__name__} at {i}")
    return items
