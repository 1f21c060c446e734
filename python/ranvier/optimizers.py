"""Optimizers: Keras names and defaults, PyTorch-style use.

    opt = Adam(model.parameters(), lr=1e-3)    # PyTorch style
    model.compile(optimizer=Adam(learning_rate=1e-3, clipnorm=1.0), ...)   # Keras style

``step()`` updates every parameter in place with one fused kernel call
(``ranvier.ops.sgd_update`` / ``adam_update`` / ``rmsprop_update`` / ``nadam_update`` / ``adagrad_update`` /
``adamax_update`` / ``lion_update``); ``zero_grad()`` clears grads.

Every optimizer takes Keras 3's common arguments: ``weight_decay`` (decoupled: each weight is first
multiplied by 1 - learning_rate * weight_decay), ``clipnorm`` (each gradient's L2 norm capped),
``clipvalue`` (each gradient element clipped to [-clipvalue, clipvalue]) and ``global_clipnorm`` (the L2
norm of all gradients together capped), at most one of the three clips. A clip keeps NaN gradients NaN.
``learning_rate`` may be a ``ranvier.schedules`` schedule, evaluated at ``iterations`` (updates done so far).
After each update a weight's ``constraint`` (set by its layer) is applied to it.
"""

from __future__ import annotations

import math
import numbers
import re

from ranvier import ops, schedules
from ranvier.device import array_module
from ranvier.tensor import Tensor


class Optimizer:
    """The common part: parameters, learning rate (float or schedule), clipping, decoupled weight decay,
    constraints, slots and their state_dict."""

    def __init__(
        self,
        params=None,
        learning_rate=0.01,
        lr: float | None = None,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        name: str | None = None,
        **keras_options,
    ):
        where = f"[{type(self).__name__}]"
        for key, value in keras_options.items():
            if key not in _NOT_SUPPORTED:
                raise TypeError(f"{where} unexpected argument {key!r}")
            if value != _NOT_SUPPORTED[key]:
                raise ValueError(f"{where} {key}={value!r} is not supported by ranvier (only its default, as Keras')")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{where} name must be a str, got {type(name).__name__}")
        self.name = name or _snake_case(type(self).__name__)  # Keras' default: "adam_w", "rm_sprop"
        if isinstance(params, (numbers.Number, schedules.LearningRateSchedule)):
            learning_rate, params = params, None  # Keras style: the first argument is the rate
        self._learning_rate = None
        self.learning_rate = lr if lr is not None else learning_rate
        self.weight_decay = self._optional_real("weight_decay", weight_decay)
        self.clipnorm = self._optional_real("clipnorm", clipnorm)
        self.clipvalue = self._optional_real("clipvalue", clipvalue)
        self.global_clipnorm = self._optional_real("global_clipnorm", global_clipnorm)
        clips = [k for k in ("clipnorm", "clipvalue", "global_clipnorm") if getattr(self, k) is not None]
        if len(clips) > 1:
            raise ValueError(
                f"[{type(self).__name__}] only one of clipnorm, clipvalue and global_clipnorm can be set, "
                f"got {', '.join(f'{k}={getattr(self, k)}' for k in clips)}"
            )
        self.params: list[Tensor] = []
        self.iterations = 0
        self._state: dict = {}
        self._no_decay_ids: set = set()
        self._no_decay_pattern = None
        if params is not None:
            self.set_params(_given_parameters(type(self).__name__, params))

    def _optional_real(self, name: str, value) -> float | None:
        """None, or a finite real number >= 0 (Keras' None/0 both mean off; 0 is kept as given)."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"[{type(self).__name__}] {name} must be a number or None, got {type(value).__name__}")
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"[{type(self).__name__}] {name} must be a finite number >= 0, got {value!r}")
        return float(value)

    # ---- learning rate ---------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The rate the next update uses: the schedule's value at ``iterations`` when there is one."""
        rate = self._learning_rate
        return float(rate(self.iterations)) if isinstance(rate, schedules.LearningRateSchedule) else rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        where = f"[{type(self).__name__}] learning_rate"
        if isinstance(value, dict):  # a saved schedule: only ranvier's own schedule classes load
            value = schedules.get(value)
        if isinstance(value, schedules.LearningRateSchedule):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            raise TypeError(
                f"{where}: this optimizer was created with a LearningRateSchedule ({self._learning_rate!r}), "
                "so its learning rate is not settable to a number (as Keras); create the optimizer with a float "
                "learning_rate to set it, or set another schedule"
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{where} must be a number or a LearningRateSchedule, got {type(value).__name__}")
        if not value >= 0:
            raise ValueError(f"{where} must be >= 0, got {value}")
        self._learning_rate = float(value)

    @property
    def lr(self) -> float:
        return self.learning_rate

    @lr.setter
    def lr(self, value) -> None:
        self.learning_rate = value

    def set_params(self, params) -> None:
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"[{type(self).__name__}] parameters must be Tensors, got {type(p).__name__}")
        self.params = params

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Weights that weight_decay leaves alone: these Tensors, and those whose name contains (as a regular
        expression search, as Keras) one of ``var_names`` ("bias", "gamma")."""
        self._no_decay_ids = {id(p) for p in var_list or ()}
        self._no_decay_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _decays(self, p: Tensor) -> bool:
        if not self.weight_decay or id(p) in self._no_decay_ids:
            return False
        return not (self._no_decay_pattern is not None and self._no_decay_pattern.search(p.name or ""))

    # ---- one update --------------------------------------------------------------------
    def step(self) -> None:
        """One update of every parameter that has a gradient: clip, then (per optimizer) decay and step,
        then each weight's constraint."""
        lr = self.learning_rate  # at the step count before this update, as Keras
        live = [p for p in self.params if p.grad is not None]
        scales = self._clip_scales([p.grad.data for p in live])
        self.iterations += 1
        self._begin_step()
        for p, scale in zip(live, scales):
            self._update(p, self._clipped(p.grad.data, scale), lr, self.weight_decay if self._decays(p) else 0.0)
        for p in live:
            constraint = getattr(p, "constraint", None)
            if constraint is not None:
                p.data[...] = constraint(p.data)

    def _clip_scales(self, grads: list) -> list:
        """Each gradient's factor under clipnorm or global_clipnorm (Keras' formulas), None where it stays as
        it is. A NaN norm makes the factor NaN, so a gradient with a NaN never turns into numbers; an Inf
        norm makes it 0 under clipnorm (NaN where g is Inf, as Keras' clip_by_norm) and NaN under
        global_clipnorm (as Keras' clip_by_global_norm)."""
        if self.clipnorm:
            return [_scale(math.sqrt(_squared_norm(g)), self.clipnorm, finite_only=False) for g in grads]
        if self.global_clipnorm and grads:
            norm = math.sqrt(sum(_squared_norm(g) for g in grads))
            return [_scale(norm, self.global_clipnorm, finite_only=True)] * len(grads)
        return [None] * len(grads)

    def _clipped(self, g, scale):
        """g scaled or clipped by value into a scratch buffer the optimizer reuses (one gradient's size,
        never the gradient itself changed), or g itself when no clip applies."""
        if self.clipvalue:
            return array_module(g).clip(g, -self.clipvalue, self.clipvalue, out=self._scratch_like(g))
        if scale is None:
            return g
        return array_module(g).multiply(g, g.dtype.type(scale), out=self._scratch_like(g))

    def _scratch_like(self, g):
        xp, buffer = array_module(g), getattr(self, "_scratch", None)
        if buffer is None or array_module(buffer) is not xp or buffer.dtype != g.dtype or buffer.size < g.size:
            buffer = self._scratch = xp.empty(g.size, g.dtype)
        return buffer[: g.size].reshape(g.shape)

    def _begin_step(self) -> None:
        """Per-step scalars shared by all parameters (Nadam's momentum product)."""

    def _slot(self, p: Tensor, name: str, initial: float = 0.0):
        """Per-parameter state (``initial`` at first use), on the parameter's device."""
        key = (id(p), name)
        if key not in self._state or self._state[key].shape != p.data.shape:
            xp = array_module(p.data)
            self._state[key] = xp.full_like(p.data, initial) if initial else xp.zeros_like(p.data)
        return self._state[key]

    def _update(self, p: Tensor, grad, lr: float, weight_decay: float) -> None:
        raise NotImplementedError

    def _decay_first(self, p: Tensor, lr: float, weight_decay: float) -> None:
        """Keras' decoupled weight decay, for the kernels that do not fuse it: p -= lr * wd * p."""
        if weight_decay:
            p.data *= 1.0 - lr * weight_decay

    def get_config(self) -> dict:
        rate = self._learning_rate
        return {  # no "name": a saved file holds numbers, None and schedules only
            "learning_rate": schedules.serialize(rate) if isinstance(rate, schedules.LearningRateSchedule) else rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
        }

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

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
        for key in config:
            if key not in known:
                raise ValueError(f"{where}: config entry {key!r} is not a {type(self).__name__} setting")
        try:  # the constructor checks every value; the optimizer changes only if all are good
            rebuilt = type(self)(**{**known, **config})
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: config {config!r:.200}: {e}") from None
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
        for key in known:
            if key == "learning_rate":
                self._learning_rate = rebuilt._learning_rate
            else:
                setattr(self, key, getattr(rebuilt, key))
        self.iterations = int(state_dict["iterations"])
        self._state = slots


# Keras 3 optimizer arguments ranvier has no machinery for: accepted at their defaults only.
_NOT_SUPPORTED = {
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


def _snake_case(name: str) -> str:
    """Keras' to_snake_case."""
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _squared_norm(g) -> float:
    flat = g.reshape(-1)
    return float(array_module(g).dot(flat, flat))


def _scale(norm: float, clip: float, finite_only: bool) -> float | None:
    """clip / norm where the norm is above the clip, None below (Keras' factor is 1 there); NaN for a NaN
    norm, and for an Inf one when ``finite_only``."""
    if norm <= clip:
        return None
    return clip / norm if math.isfinite(norm) or not finite_only else math.nan


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
    """p -= lr * v, v = momentum * v + g (PyTorch's form of Keras' momentum; the same for a constant rate);
    nesterov optional."""

    def __init__(
        self,
        params=None,
        learning_rate=0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        lr: float | None = None,
        **common,
    ):
        super().__init__(params, learning_rate, lr, **common)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _update(self, p, grad, lr, weight_decay):
        self._decay_first(p, lr, weight_decay)
        velocity = self._slot(p, "velocity") if self.momentum else None
        ops.sgd_update(p.data, grad, velocity=velocity, lr=lr, momentum=self.momentum, nesterov=self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class _Betas(Optimizer):
    """The Adam family's arguments: beta_1, beta_2, epsilon (1e-7 as Keras); PyTorch's betas= and eps= too."""

    def __init__(
        self,
        params=None,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        lr: float | None = None,
        betas=None,
        eps=None,
        **common,
    ):
        super().__init__(params, learning_rate, lr, **common)
        if betas is not None:  # PyTorch spelling
            beta_1, beta_2 = betas
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = float(eps if eps is not None else epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adam(_Betas):
    """Adam with bias correction; ``amsgrad`` keeps the running maximum of v. weight_decay is decoupled
    (Keras 3: the same as AdamW's)."""

    def __init__(self, params=None, learning_rate=0.001, amsgrad: bool = False, **kwargs):
        super().__init__(params, learning_rate, **kwargs)
        self.amsgrad = bool(amsgrad)

    def _update(self, p, grad, lr, weight_decay):
        ops.adam_update(
            p.data,
            grad,
            self._slot(p, "m"),
            self._slot(p, "v"),
            step=self.iterations,
            lr=lr,
            beta1=self.beta_1,
            beta2=self.beta_2,
            eps=self.epsilon,
            weight_decay=weight_decay,
            decoupled=True,
            v_hat=self._slot(p, "v_hat") if self.amsgrad else None,
        )

    def get_config(self):
        return {**super().get_config(), "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (p -= lr * weight_decay * p); default decay 0.004 as Keras."""

    def __init__(self, params=None, learning_rate=0.001, weight_decay: float = 0.004, **kwargs):
        super().__init__(params, learning_rate, weight_decay=weight_decay, **kwargs)


class Nadam(_Betas):
    """Keras 3's Nadam: Adam with Nesterov momentum and Dozat's momentum schedule (ops.nadam_update)."""

    def __init__(self, params=None, learning_rate=0.001, **kwargs):
        super().__init__(params, learning_rate, **kwargs)
        self._u_product = (0, 1.0)  # (step, u_1 * ... * u_step), derived from iterations

    def _begin_step(self):
        step, product = self._u_product
        if step > self.iterations:  # iterations was set back (a loaded state): start the product again
            step, product = 0, 1.0
        for t in range(step + 1, self.iterations + 1):
            product *= self.beta_1 * (1.0 - 0.5 * 0.96**t)
        self._u_product = (self.iterations, product)

    def _update(self, p, grad, lr, weight_decay):
        ops.nadam_update(
            p.data,
            grad,
            self._slot(p, "m"),
            self._slot(p, "v"),
            step=self.iterations,
            u_product=self._u_product[1],
            lr=lr,
            beta1=self.beta_1,
            beta2=self.beta_2,
            eps=self.epsilon,
            weight_decay=weight_decay,
        )


class Adamax(_Betas):
    """Keras 3's Adamax: Adam with the infinity norm, u = max(beta_2 u, |g|) (ops.adamax_update)."""

    def _update(self, p, grad, lr, weight_decay):
        ops.adamax_update(
            p.data,
            grad,
            self._slot(p, "m"),
            self._slot(p, "u"),
            step=self.iterations,
            lr=lr,
            beta1=self.beta_1,
            beta2=self.beta_2,
            eps=self.epsilon,
            weight_decay=weight_decay,
        )


class Adagrad(Optimizer):
    """Keras 3's Adagrad: acc += g^2, p -= lr g / sqrt(acc + epsilon); acc starts at
    ``initial_accumulator_value`` (ops.adagrad_update)."""

    def __init__(
        self,
        params=None,
        learning_rate=0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        lr: float | None = None,
        **common,
    ):
        super().__init__(params, learning_rate, lr, **common)
        self.initial_accumulator_value = float(initial_accumulator_value)
        if not (math.isfinite(self.initial_accumulator_value) and self.initial_accumulator_value >= 0):
            raise ValueError(
                f"[Adagrad] initial_accumulator_value must be a finite number >= 0, got {initial_accumulator_value}"
            )
        self.epsilon = float(epsilon)

    def _update(self, p, grad, lr, weight_decay):
        accumulator = self._slot(p, "accumulator", self.initial_accumulator_value)
        ops.adagrad_update(p.data, grad, accumulator, lr=lr, eps=self.epsilon, weight_decay=weight_decay)

    def get_config(self):
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }


class Lion(Optimizer):
    """Keras 3's Lion: p -= lr sign(beta_1 m + (1 - beta_1) g), m = beta_2 m + (1 - beta_2) g
    (ops.lion_update). Its steps are all of size lr: use a rate 3-10 times smaller than Adam's."""

    def __init__(
        self,
        params=None,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        lr: float | None = None,
        **common,
    ):
        super().__init__(params, learning_rate, lr, **common)
        if not 0 < beta_1 <= 1:  # Keras' check
            raise ValueError(f"[Lion] beta_1 must be in (0, 1], got {beta_1}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)

    def _update(self, p, grad, lr, weight_decay):
        ops.lion_update(
            p.data, grad, self._slot(p, "m"), lr=lr, beta1=self.beta_1, beta2=self.beta_2, weight_decay=weight_decay
        )

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


class RMSprop(Optimizer):
    """Keras' RMSprop (its default optimizer): v = rho v + (1 - rho) g^2, p -= lr g / (sqrt(v) + epsilon).

    momentum > 0 accumulates the steps in a velocity (Keras' form); centered
    divides by the root of v - mean(g)^2 instead. epsilon is added to the root
    as PyTorch does (Keras 3: sqrt(v + epsilon)); see ops.rmsprop_update.
    """

    def __init__(
        self,
        params=None,
        learning_rate=0.001,
        rho: float = 0.9,
        epsilon: float = 1e-7,
        lr: float | None = None,
        momentum: float = 0.0,
        centered: bool = False,
        **common,
    ):
        super().__init__(params, learning_rate, lr, **common)
        if not 0 <= rho < 1:
            raise ValueError(f"[RMSprop] rho must be in [0, 1), got {rho}")
        self.rho, self.epsilon = float(rho), float(epsilon)
        self.momentum, self.centered = float(momentum), bool(centered)

    def _update(self, p, grad, lr, weight_decay):
        self._decay_first(p, lr, weight_decay)
        velocity = self._slot(p, "momentum") if self.momentum else None
        mean_grad = self._slot(p, "average_gradient") if self.centered else None
        ops.rmsprop_update(
            p.data,
            grad,
            self._slot(p, "v"),
            velocity=velocity,
            mean_grad=mean_grad,
            lr=lr,
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


_BY_NAME = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "nadam": Nadam,
    "adagrad": Adagrad,
    "adamax": Adamax,
    "lion": Lion,
}


def get(optimizer) -> Optimizer:
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in _BY_NAME:
        return _BY_NAME[optimizer.lower()]()
    raise ValueError(f"[compile] unknown optimizer {optimizer!r}; known: {', '.join(_BY_NAME)} or an Optimizer")
