"""Models: ``Sequential`` and subclassed ``Model``, with Keras-style training.

    model = Sequential([Dense(128, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=5, validation_split=0.1)

The same model also trains PyTorch-style: ``loss = loss_fn(y, model(x));
loss.backward(); opt.step(); opt.zero_grad()``. ``fit`` is that loop, batched.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ranvier import activations, saving, utils
from ranvier import callbacks as callbacks_mod
from ranvier import losses as losses_mod
from ranvier import metrics as metrics_mod
from ranvier import optimizers as optimizers_mod
from ranvier.device import array_module, device_of, is_gpu_array, to_device
from ranvier.distributed.strategy import Strategy
from ranvier.layers.base import Layer, layer_from_config, layer_to_config, shape_str
from ranvier.progress import Progbar
from ranvier.tensor import Tensor, no_grad


def _as_array(x, device: str, op: str, what: str):
    """User data as a numeric array on ``device`` (moved before any conversion: uint8 travels light)."""
    if isinstance(x, Tensor):
        x = x.data
    if not is_gpu_array(x):
        x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"[{op}] {what} must hold numbers (bool, integer or float), got {x.dtype}")
    return to_device(x, device, op)


def _as_model_input(model, x, op: str):
    """x in the dtype the model takes (Layer.input_dtype): float32 features, integer ids left as they are."""
    x = _as_array(x, model.device, op, "x")
    dtype = np.dtype(model.input_dtype)
    return x.astype(dtype) if dtype.kind == "f" and x.dtype != dtype else x


def _as_targets(y, device: str, op: str):
    """Targets: floats become float32, integer labels stay."""
    y = _as_array(y, device, op, "y")
    return y.astype(np.float32) if y.dtype.kind == "f" and y.dtype != np.float32 else y


def _warn_non_finite(op: str, loss: float, where: str, stacklevel: int) -> None:
    warnings.warn(
        f"[{op}] the loss is {loss} at {where}: the weights or the data hold NaN/inf (check the data, "
        "lower the learning rate); callbacks.TerminateOnNaN() stops training at such a batch",
        RuntimeWarning,
        stacklevel=stacklevel + 1,
    )


def _num_samples(x) -> int:
    return int(x.shape[0])


class Model(Layer):
    """Subclass and implement ``call(self, x)``; assign layers as attributes in ``__init__``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self._metrics: list = []
        self._fused_loss = None
        self.distribute = Strategy()

    def _build_declared(self) -> None:
        """A model given its input shape builds at construction by running one zero sample through."""
        shape = self._declared_input_shape()
        if not self.built and shape is not None:
            self.build_for(tuple(1 if d is None else d for d in shape))

    # ---- device ------------------------------------------------------------------------
    def to(self, device: str):
        """Move every weight to "cpu" or "cuda" in place (optimizer references stay valid);
        an unbuilt model creates its weights there."""
        super().to(device)
        if self.optimizer is not None:
            self.optimizer._state.clear()
        return self

    # ---- compile / train ------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, distribute=None):
        """``distribute``: a ``ranvier.distributed`` strategy (``DataParallel()``) to train on many processes."""
        self.distribute = distribute if distribute is not None else Strategy()
        self.optimizer = optimizers_mod.get(optimizer)
        self.loss = losses_mod.get(loss) if loss is not None else None
        loss_name = getattr(self.loss, "name", "")
        self._metrics = [metrics_mod.get(m, loss_name) for m in (metrics or [])]
        self._fused_loss = None
        last = self._last_layer()
        if self.loss is not None and last is not None and getattr(last, "activation", None) in ("softmax", "sigmoid"):
            fused = self.loss.from_logits_version()
            wants = "softmax" if isinstance(self.loss, losses_mod.CategoricalCrossentropy) else "sigmoid"
            if fused is not None and last.activation == wants and not getattr(self.loss, "from_logits", True):
                self._fused_loss = fused  # cross-entropy on the logits: one stable fused kernel
        return self

    def _last_layer(self):
        return None

    def forward_logits(self, x):
        """The model's output before its final softmax/sigmoid (only for fused losses)."""
        raise NotImplementedError

    def _bind_optimizer(self):
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"[{self.name}] call compile(optimizer=..., loss=...) before fit/evaluate")
        params = self.trainable_weights
        if [id(p) for p in self.optimizer.params] != [id(p) for p in params]:
            self.optimizer.set_params(params)

    def compute_loss(self, x, y):
        """(loss Tensor, predictions) for one batch, through the fused loss when there is one; the
        regularization penalties (``self.losses``) are added to the loss, as Keras."""
        if self._fused_loss is not None:
            logits = self.forward_logits(Tensor(x))
            loss = self._fused_loss(y, logits)
            last = self._last_layer()
            if last.activity_regularizer is None:
                with no_grad():
                    preds = activations.get(last.activation)(logits)
            else:  # call_logits skipped the layer's __call__: its activity penalty is on the activated output
                preds = activations.get(last.activation)(logits)
                last._activity_losses = [last.activity_regularizer(preds) / max(preds.shape[0], 1)]
            return self._with_penalties(loss), preds
        preds = self(Tensor(x))
        return self._with_penalties(self.loss(y, preds)), preds

    def _with_penalties(self, loss):
        for penalty in self.losses:
            loss = loss + penalty
        return loss

    def train_step(self, x, y) -> dict:
        """One optimizer step on a batch; returns the batch's loss and metrics."""
        loss, preds = self.compute_loss(x, y)
        self.optimizer.zero_grad()
        if loss.requires_grad:  # else every weight is frozen
            loss.backward()
            self.optimizer.step()
        return self._logs(loss, preds, y)

    def _logs(self, loss, preds, y) -> dict:
        logs = {"loss": float(loss.item())}
        for name, fn in self._metrics:
            logs[name] = fn(y, preds.data)
        return logs

    def fit(
        self,
        x,
        y=None,
        batch_size: int = 32,
        epochs: int = 1,
        verbose="auto",
        callbacks=None,
        validation_split: float = 0.0,
        validation_data=None,
        shuffle: bool = True,
        initial_epoch: int = 0,
        device: str | None = None,
    ):
        """Train for ``epochs``; returns a ``History`` whose ``history`` maps each log name to a list per epoch.

        x may hold any numbers: it is moved to the model's device and converted
        once to the compute dtype float32 (uint8 images, float64, float16, int
        and bool features alike), as Keras does; a model whose first layer takes
        ids (``Embedding``, see ``Layer.input_dtype``) gets integers unchanged.
        y keeps integer labels and converts floats to float32. A non-finite loss
        raises a RuntimeWarning naming the epoch and batch, once per epoch;
        ``callbacks.TerminateOnNaN()`` stops training there instead.
        """
        if device is not None:
            self.to(device)
        if batch_size < 1:
            raise ValueError(f"[fit] batch_size must be >= 1, got {batch_size}")
        x, y, validation_data = self._fit_data(x, y, validation_split, validation_data)
        verbose = 1 if verbose == "auto" else int(verbose)
        if not self.built:
            self.build_for(x.shape[1:])
        self._bind_optimizer()
        callbacks, verbose = self.distribute.begin_fit(self, list(callbacks or []), verbose)
        history = callbacks_mod.History()
        steps = -(-_num_samples(x) // batch_size)
        cbs = callbacks_mod.CallbackList(
            callbacks + [history], self, {"epochs": epochs, "steps": steps, "verbose": verbose}
        )
        self.stop_training = False
        self.train()
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            logs: dict = {}
            cbs.on_epoch_begin(epoch, logs)
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}")
            bar = Progbar(steps, verbose=verbose) if verbose else None
            logs.update(self._train_epoch(x, y, batch_size, shuffle, cbs, bar, f"epoch {epoch + 1}/{epochs}"))
            if validation_data is not None:
                val = self.evaluate(*validation_data, batch_size=batch_size, verbose=0, return_dict=True)
                logs.update({f"val_{k}": v for k, v in val.items()})
                self.train()
            logs = self.distribute.agree(logs)
            if bar:
                bar.finish(logs)
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        self.eval()
        return history

    def _fit_data(self, x, y, validation_split: float, validation_data):
        """(x, y, validation_data) as arrays on the model's device; a split takes the last samples, as Keras."""
        x, y = _as_model_input(self, x, "fit"), _as_targets(y, self.device, "fit")
        if _num_samples(x) != _num_samples(y):
            raise ValueError(f"[fit] x has {_num_samples(x)} samples but y has {_num_samples(y)}")
        if validation_data is None and validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(f"[fit] validation_split must be in (0, 1), got {validation_split}")
            split = int(_num_samples(x) * (1 - validation_split))
            x, y, validation_data = x[:split], y[:split], (x[split:], y[split:])
        if validation_data is not None:
            validation_data = (
                _as_model_input(self, validation_data[0], "fit"),
                _as_targets(validation_data[1], self.device, "fit"),
            )
        return x, y, validation_data

    def _train_epoch(self, x, y, batch_size: int, shuffle: bool, cbs, bar, epoch_label: str) -> dict:
        """One pass over (x, y) in batches (until a callback stops training); returns the mean of each batch log."""
        n = _num_samples(x)
        order = self.distribute.agree(utils.rng().permutation(n) if shuffle else np.arange(n))
        totals: dict = {}
        seen = 0
        steps = -(-n // batch_size)
        warned = False
        for step in range(steps):
            idx = to_device(
                self.distribute.shard_batch(order[step * batch_size : (step + 1) * batch_size]), device_of(x)
            )
            cbs.on_train_batch_begin(step)
            batch_logs = self.distribute.train_step(self, x[idx], y[idx])
            loss = batch_logs.get("loss")  # none for a rank's empty piece of a data-parallel batch
            if not warned and loss is not None and not math.isfinite(loss):
                warned = True
                _warn_non_finite("fit", loss, f"{epoch_label}, batch {step + 1}/{steps}", stacklevel=3)
            seen += len(idx)
            for key, value in batch_logs.items():
                totals[key] = totals.get(key, 0.0) + value * len(idx)
            running = {k: v / seen for k, v in totals.items()}
            cbs.on_train_batch_end(step, running)
            if bar:
                bar.update(step + 1, running)
            if self.stop_training:
                break
        totals, seen = self.distribute.end_epoch(self, totals, seen)
        return {k: v / max(seen, 1) for k, v in totals.items()}

    def evaluate(self, x, y, batch_size: int = 32, verbose="auto", return_dict: bool = False):
        """Loss and metrics over (x, y), in inference mode."""
        if self.loss is None:
            raise RuntimeError(f"[{self.name}] call compile(loss=...) before evaluate")
        x, y = _as_model_input(self, x, "evaluate"), _as_targets(y, self.device, "evaluate")
        was_training = self.training
        self.eval()
        totals: dict = {}
        n = _num_samples(x)
        steps = -(-n // batch_size)
        warned = False
        with no_grad():
            for step, start in enumerate(range(0, n, batch_size)):
                xb, yb = x[start : start + batch_size], y[start : start + batch_size]
                batch_logs = self._logs(*self.compute_loss(xb, yb), yb)
                if not warned and not math.isfinite(batch_logs["loss"]):
                    warned = True
                    _warn_non_finite("evaluate", batch_logs["loss"], f"batch {step + 1}/{steps}", stacklevel=2)
                for key, value in batch_logs.items():
                    totals[key] = totals.get(key, 0.0) + value * len(xb)
        self.train(was_training)
        result = {k: v / max(n, 1) for k, v in totals.items()}
        if verbose:  # "auto" too, as Keras
            print(" - ".join(f"{k}: {v:.4f}" for k, v in result.items()))
        if return_dict:
            return result
        values = list(result.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size: int = 32, verbose=0) -> np.ndarray:
        """The model's outputs for x in inference mode, as a NumPy array (CuPy on the GPU)."""
        x = _as_model_input(self, x, "predict")
        was_training = self.training
        self.eval()
        outputs = []
        with no_grad():
            for start in range(0, _num_samples(x), batch_size):
                outputs.append(self(Tensor(x[start : start + batch_size])).data)
        self.train(was_training)
        xp = array_module(x)
        if not outputs:
            raise ValueError("[predict] x has no samples")
        return xp.concatenate(outputs, axis=0)

    def __call__(self, x, *args, **kwargs):
        if not isinstance(x, Tensor):
            x = Tensor(_as_model_input(self, x, f"{type(self).__name__} '{self.name}'"))
        return super().__call__(x, *args, **kwargs)

    # ---- description ---------------------------------------------------------------------
    def summary(self, print_fn=print) -> None:
        """Each layer's output shape and parameter count, as Keras prints it."""
        if not self.built:
            shape = self._declared_input_shape()
            if shape is None:
                raise ValueError(
                    f"[{self.name}] summary() needs the input shape: pass input_shape= to the first layer, "
                    "or call the model on data first"
                )
            self.build_for(shape)
        rows = [
            (f"{layer.name} ({type(layer).__name__})", shape_str(layer.output_shape or ()), f"{layer.count_params():,}")
            for layer in self.sublayers()
        ]
        widths = [
            max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
            for i, h in enumerate(("Layer (type)", "Output Shape", "Param #"))
        ]
        line = "  ".join(h.ljust(w) for h, w in zip(("Layer (type)", "Output Shape", "Param #"), widths))
        rule = "=" * len(line)
        total = self.count_params()
        trainable = int(sum(w.size for w in self.trainable_weights))
        print_fn(f'Model: "{self.name}"')
        print_fn(rule)
        print_fn(line)
        print_fn(rule)
        for r in rows:
            print_fn("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        print_fn(rule)
        print_fn(f"Total params: {total:,}")
        print_fn(f"Trainable params: {trainable:,}")
        print_fn(f"Non-trainable params: {total - trainable:,}")

    def _declared_input_shape(self):
        return self._init_input_shape

    # ---- saving -------------------------------------------------------------------------------
    def save_weights(self, path: str) -> None:
        saving.save_weights(self, path)

    def load_weights(self, path: str) -> None:
        saving.load_weights(self, path)

    def save(self, path: str) -> None:
        saving.save_model(self, path)

    def export(self, path, format: str = "onnx", input_shape=None) -> None:
        """Write the model for another runtime (Keras 3's name). ``format="onnx"`` (needs ``pip install
        ranvier[onnx]``): input (batch, *input_shape) in ranvier's layout (NHWC), opset 17, inference mode.
        ``input_shape`` (without the batch axis) is needed only when the model has not seen data."""
        from ranvier.export import export_model

        export_model(self, path, format=format, input_shape=input_shape)


class Sequential(Model):
    """A stack of layers, each feeding the next: ``Sequential([layer, ...])`` or ``.add(layer)``."""

    def __init__(self, layers=None, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.layers: list = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise TypeError(f"[Sequential.add] expected a Layer, got {type(layer).__name__}")
        self._adopt(layer)
        self.layers.append(layer)
        self.built = False
        shape = self._declared_input_shape()
        if shape is not None:  # as Keras: with a known input shape the weights exist at once
            self.build_for(tuple(1 if d is None else d for d in shape))

    def sublayers(self) -> list:
        return list(self.layers)

    def _declared_input_shape(self):
        if self._init_input_shape is not None:
            return self._init_input_shape
        return self.layers[0]._init_input_shape if self.layers else None

    @property
    def input_dtype(self):
        return self.layers[0].input_dtype if self.layers else np.float32

    def build_from(self, shape) -> None:
        self.input_spec = None  # each layer checks its own input
        self.built = True

    def call(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def _last_layer(self):
        return self.layers[-1] if self.layers else None

    def forward_logits(self, x):
        for layer in self.layers[:-1]:
            x = layer(x)
        last = self.layers[-1]
        if not last.built:
            last.build_from(x.shape)
        return last.call_logits(x)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": [layer_to_config(layer) for layer in self.layers],
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        config = dict(config)
        layers = config.pop("layers")
        if not isinstance(layers, list):
            raise ValueError(f"[Sequential] layers must be a list of layer configs, got {type(layers).__name__}")
        return cls([layer_from_config(spec, custom_objects) for spec in layers], **config)
