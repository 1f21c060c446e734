"""Module and Sequential: PyTorch's containers over ranvier's Model."""

from __future__ import annotations

from ranvier.layers.base import Layer
from ranvier.models import Model


class Module(Model):
    """Subclass, assign sublayers as attributes in ``__init__`` (after ``super().__init__()``) and implement
    ``forward``; calling the module calls ``forward``. ``parameters()``, ``named_parameters()``,
    ``train()``/``eval()`` and ``zero_grad()`` as in PyTorch; it is a ranvier Model too (``fit``, ``predict``).
    """

    def __init__(self):
        super().__init__()
        self.built = True  # its sublayers own their weights; there is nothing to build from an input

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def call(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def children(self) -> list:
        return [layer for _, layer in self.named_children()]

    def zero_grad(self) -> None:
        for w in self.weights:
            w.grad = None


class Sequential(Module):
    """``Sequential(m0, m1, ...)``: each module feeds the next; ``seq[i]``, ``len(seq)``, names "0", "1", ..."""

    def __init__(self, *modules):
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Layer):
                raise TypeError(f"[Sequential] module {i} must be a ranvier.nn module or layer, got {module!r}")
            setattr(self, str(i), module)

    def forward(self, x):
        for module in self._sublayers.values():
            x = module(x)
        return x

    def __getitem__(self, index: int) -> Layer:
        return list(self._sublayers.values())[index]

    def __len__(self) -> int:
        return len(self._sublayers)

    def __iter__(self):
        return iter(list(self._sublayers.values()))
