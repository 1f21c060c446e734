"""Optimizers: Keras names and defaults, PyTorch-style use.

    opt = Adam(model.parameters(), lr=1e-3)    # PyTorch style
    model.compile(optimizer=Adam(learning_rate=1e-3), ...)   # Keras style

``step()`` updates every parameter in place with one fused kernel call
(``ranvier.ops.sgd_update`` / ``adam_update`` / ``rmsprop_update``); ``zero_grad()`` clears grads.
"""

from __future__ import annotations

import numbers

from ranvier import ops
from ranvier.device import array_module
from ranvier.tensor import Tensor


class Optimizer:
    def __init__(self, params=None, learning_rate: float = 0.01, lr: float | None = None):
        if isinstance(params, numbers.Number):  # Keras style: the first argument is the rate
            learning_rate, params = params, None
        self.learning_rate = float(lr if lr is not None else learning_rate)
        if not self.learning_rate >= 0:
            raise ValueError(f"[{type(self).__name__}] learning_rate must be >= 0, got {self.learning_rate}")
        self.params: list[Tensor] = []
        self.iterations = 0
        self._state: dict = {}
        if params is not None:
            self.set_params(_given_parameters(type(self).__name__, params))

    @property
    def lr(self) -> float:
        return self.learning_rate

    @lr.setter
    def lr(self, value: float) -> None:
        self.learning_rate = float(value)

    def set_params(self, params) -> None:
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"[{type(self).__name__}] parameters must be Tensors, got {type(p).__name__}")
        self.params = params

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        self.iterations += 1
        for p in self.params:
            if p.grad is not None:
                self._update(p, p.grad.data)

    def _slot(self, p: Tensor, name: str):
        """Per-parameter state (zeros at first use), on the parameter's device."""
        key = (id(p), name)
        if key not in self._state or self._state[key].shape != p.data.shape:
            self._state[key] = array_module(p.data).zeros_like(p.data)
        return self._state[key]

    def _update(self, p: Tensor, grad) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"learning_rate": self.learning_rate}

    def state_dict(self) -> dict:
        """Everything a resumed run needs: hyperparameters, step count and each parameter's slots
        (by the parameter's index in ``params``; arrays shared with the optimizer, as PyTorch)."""
        index = {id(p): i for i, p in enumerate(self.params)}
        state: dict = {}
        for (pid, slot), value in self._state.items():
            if pid in index:
                state.setdefault(index[pid], {})[slot] = value
        return {
            "class_name": type(self).__name__,
            "config": self.get_config(),
            "iterations": self.iterations,
            "state": state,
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore ``state_dict()`` of the same optimizer class over parameters of the same shapes;
        everything is checked before anything changes."""
        where = f"[{type(self).__name__}] load_state_dict"
        if not isinstance(state_dict, dict) or not {"class_name", "config", "iterations", "state"} <= set(state_dict):
            raise ValueError(f"{where}: expected the dict of Optimizer.state_dict(), got {state_dict!r:.200}")
        if state_dict["class_name"] != type(self).__name__:
            raise ValueError(f"{where}: the state is of a {state_dict['class_name']}")
        config = state_dict["config"]
        known = self.get_config()
        for key, value in config.items():
            if key not in known or not isinstance(value, (bool, numbers.Real)):
                raise ValueError(f"{where}: config entry {key!r}={value!r:.100} is not a {type(self).__name__} setting")
        slots = {}
        for index, per_slot in state_dict["state"].items():
            if not (isinstance(index, int) and 0 <= index < len(self.params)):
                raise ValueError(f"{where}: state for parameter {index!r}, the optimizer has {len(self.params)}")
            p = self.params[index]
            for slot, value in per_slot.items():
                value = value.data if isinstance(value, Tensor) else value
                if tuple(value.shape) != p.shape or value.dtype != p.dtype:
                    raise ValueError(
                        f"{where}: slot '{slot}' of parameter {index} is {value.dtype} {tuple(value.shape)}, "
                        f"the parameter {p.dtype} {p.shape}"
                    )
                slots[(id(p), slot)] = array_module(p.data).array(value)  # a copy: the loaded dict stays apart
        for key, value in config.items():
            setattr(self, key, type(known[key])(value))
        self.iterations = int(state_dict["iterations"])
        self._state = slots


def _given_parameters(optimizer: str, params) -> list:
    """The parameters handed to an optimizer's constructor: never nothing, never a model's partial list."""
    unbuilt = getattr(params, "unbuilt", ())
    if unbuilt:
        raise ValueError(
            f"[{optimizer}] the model has layers that create their weights from the first input they see, "
            f"and have not seen one: {', '.join(unbuilt)}. Their weights would not be trained. Give the "
            "first layer its input size (Dense(128, input_dim=784), input_shape=(784,), or ranvier.nn.Linear"
            "(784, 128)), or build the model first (model.build_for((784,)) or one call on a batch), then "
            "create the optimizer"
        )
    params = list(params)
    if not params:
        raise ValueError(f"[{optimizer}] got an empty parameter list: there is nothing to train")
    return params


class SGD(Optimizer):
    """p -= lr * v, v = momentum * v + (g + weight_decay * p) (PyTorch's form); nesterov optional."""

    def __init__(
        self,
        params=None,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        lr: float | None = None,
    ):
        super().__init__(params, learning_rate, lr)
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay)

    def _update(self, p, grad):
        velocity = self._slot(p, "velocity") if self.momentum else None
        ops.sgd_update(
            p.data,
            grad,
            velocity=velocity,
            lr=self.learning_rate,
            momentum=self.momentum,
            nesterov=self.nesterov,
            weight_decay=self.weight_decay,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }


class Adam(Optimizer):
    """Adam with bias correction; epsilon 1e-7 as Keras. weight_decay is L2 added to the gradient."""

    decoupled = False

    def __init__(
        self,
        params=None,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float = 0.0,
        lr: float | None = None,
        betas=None,
        eps=None,
    ):
        super().__init__(params, learning_rate, lr)
        if betas is not None:  # PyTorch spelling
            beta_1, beta_2 = betas
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = float(eps if eps is not None else epsilon)
        self.weight_decay = float(weight_decay)

    def _update(self, p, grad):
        ops.adam_update(
            p.data,
            grad,
            self._slot(p, "m"),
            self._slot(p, "v"),
            step=self.iterations,
            lr=self.learning_rate,
            beta1=self.beta_1,
            beta2=self.beta_2,
            eps=self.epsilon,
            weight_decay=self.weight_decay,
            decoupled=self.decoupled,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "weight_decay": self.weight_decay,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (p -= lr * weight_decay * p); default decay 0.004 as Keras."""

    decoupled = True

    def __init__(self, params=None, learning_rate: float = 0.001, weight_decay: float = 0.004, **kwargs):
        super().__init__(params, learning_rate, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """Keras' RMSprop (its default optimizer): v = rho v + (1 - rho) g^2, p -= lr g / (sqrt(v) + epsilon).

    momentum > 0 accumulates the steps in a velocity (Keras' form); centered
    divides by the root of v - mean(g)^2 instead. epsilon is added to the root
    as PyTorch does (Keras 3: sqrt(v + epsilon)); see ops.rmsprop_update.
    """

    def __init__(
        self,
        params=None,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        epsilon: float = 1e-7,
        lr: float | None = None,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        super().__init__(params, learning_rate, lr)
        if not 0 <= rho < 1:
            raise ValueError(f"[RMSprop] rho must be in [0, 1), got {rho}")
        self.rho, self.epsilon = float(rho), float(epsilon)
        self.momentum, self.centered = float(momentum), bool(centered)

    def _update(self, p, grad):
        velocity = self._slot(p, "momentum") if self.momentum else None
        mean_grad = self._slot(p, "average_gradient") if self.centered else None
        ops.rmsprop_update(
            p.data,
            grad,
            self._slot(p, "v"),
            velocity=velocity,
            mean_grad=mean_grad,
            lr=self.learning_rate,
            rho=self.rho,
            eps=self.epsilon,
            momentum=self.momentum,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop}


def get(optimizer) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in _BY_NAME:
        return _BY_NAME[optimizer.lower()]()
    raise ValueError(f"[compile] unknown optimizer {optimizer!r}; known: {', '.join(_BY_NAME)} or an Optimizer")
