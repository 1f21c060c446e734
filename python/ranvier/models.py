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

from ranvier import activations, saving, step_replay
from ranvier import callbacks as callbacks_mod
from ranvier import losses as losses_mod
from ranvier import metrics as metrics_mod
from ranvier import optimizers as optimizers_mod
from ranvier.data import sources, structure
from ranvier.device import array_module, is_gpu_array, to_device
from ranvier.distributed.strategy import Strategy
from ranvier.layers.base import Layer, layer_from_config, layer_to_config, shape_str
from ranvier.layers.core import InputLayer
from ranvier.layers.symbolic import SymbolicTensor, is_symbolic
from ranvier.tensor import Tensor, no_grad


def _as_array(x, device: str, op: str, what: str):
    """User data as a numeric array on ``device`` (moved before any conversion: uint8 travels light)."""
    if isinstance(x, Tensor):
        x = x.data
    if x is None:
        raise ValueError(f"[{op}] {what} is missing (None)")
    if not is_gpu_array(x):
        x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"[{op}] {what} must hold numbers (bool, integer or float), got {x.dtype}")
    return to_device(x, device, op)


def _as_model_input(model, x, op: str):
    """x (an array, or a list/dict of arrays) in the dtype the model takes (Layer.input_dtype): float32
    features, integer ids left as they are."""
    dtype = np.dtype(model.input_dtype)

    def leaf(a):
        a = _as_array(a, model.device, op, "x")
        return a.astype(dtype) if dtype.kind == "f" and a.dtype != dtype else a

    return structure.map_leaves(leaf, x)


def _as_targets(y, device: str, op: str):
    """Targets (an array, or a list/dict of arrays): floats become float32, integer labels stay."""

    def leaf(a):
        a = _as_array(a, device, op, "y")
        return a.astype(np.float32) if a.dtype.kind == "f" and a.dtype != np.float32 else a

    return structure.map_leaves(leaf, y)


def _as_sample_weight(sample_weight, count: int | None, device: str, op: str):
    """Per-sample weights as float32 on ``device``: one per sample ((N,), or (N, T) for sequences)."""
    if sample_weight is None:
        return None
    w = _as_array(sample_weight, device, op, "sample_weight")
    if w.ndim == 0 or (count is not None and w.shape[0] != count):
        raise ValueError(
            f"[{op}] sample_weight needs one weight per sample ({count} samples), got shape {tuple(w.shape)}"
        )
    return w.astype(np.float32)


def _sample_count(data, op: str, what: str) -> int:
    """The number of samples every leaf of ``data`` holds (a ValueError if they differ or have no axis)."""
    counts = [int(a.shape[0]) if a.ndim else None for a in structure.leaves(data)]
    if None in counts:
        raise ValueError(f"[{op}] {what} needs a first (sample) axis, got {structure.describe(data)}")
    if len(set(counts)) > 1:
        raise ValueError(
            f"[{op}] every array of {what} needs the same number of samples, got {structure.describe(data)}"
        )
    return counts[0]


def _warn_non_finite(op: str, loss: float, where: str, stacklevel: int) -> None:
    warnings.warn(
        f"[{op}] the loss is {loss} at {where}: the weights or the data hold NaN/inf (check the data, "
        "lower the learning rate); callbacks.TerminateOnNaN() stops training at such a batch",
        RuntimeWarning,
        stacklevel=stacklevel + 1,
    )


def _verbosity(verbose, op: str) -> int:
    """Keras: "auto" is 1 (a bar), 2 one line per epoch, 0 silent."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"[{op}] verbose must be 'auto', 0, 1 or 2, got {verbose!r}")
    return int(verbose)


def _one_quiet_batch(x, batch_size, verbose, steps, callbacks) -> bool:
    """predict's case that is one predict_on_batch: one NumPy array of at most one batch, no progress bar,
    no steps, no callbacks (batch_size itself checked as predict checks it)."""
    if type(x) is not np.ndarray or x.ndim == 0 or verbose != 0 or steps is not None or callbacks:
        return False
    limit = 32 if batch_size is None else _optional_positive(batch_size, "predict", "batch_size")
    return 0 < len(x) <= limit


def _optional_positive(value, op: str, what: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"[{op}] {what} must be an integer >= 1 (or None), got {value!r}")
    return int(value)


def _validation_due(validation_freq, epoch: int) -> bool:
    """Keras: an int n validates every n-th epoch, a list the epochs it names (counted from 1)."""
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return epoch + 1 in validation_freq


def _check_validation_freq(validation_freq):
    if isinstance(validation_freq, bool):
        raise ValueError(f"[fit] validation_freq must be an integer >= 1 or a list of epochs, got {validation_freq}")
    if isinstance(validation_freq, (int, np.integer)):
        if validation_freq < 1:
            raise ValueError(f"[fit] validation_freq must be an integer >= 1, got {validation_freq}")
        return int(validation_freq)
    if isinstance(validation_freq, (list, tuple, set)) and all(
        isinstance(e, (int, np.integer)) and not isinstance(e, bool) and e >= 1 for e in validation_freq
    ):
        return {int(e) for e in validation_freq}
    raise ValueError(
        f"[fit] validation_freq must be an integer >= 1 or a list of epoch numbers (from 1), got {validation_freq!r}"
    )


class _EpochLogs:
    """The batch logs of one epoch (or evaluation) so far: the loss and other values averaged over the
    samples, the compiled metrics' (log name -> Metric) results as they stand, in the batch logs' order."""

    def __init__(self, metrics: dict):
        self.metrics = metrics
        self.keys: list = []
        self.totals: dict = {}
        self.seen = 0

    def add(self, batch_logs: dict, count: int) -> dict:
        self.seen += count
        for key, value in batch_logs.items():
            if key not in self.keys:
                self.keys.append(key)
            if key not in self.metrics:
                self.totals[key] = self.totals.get(key, 0.0) + value * count
        return self.result()

    def result(self) -> dict:
        return {
            k: self.metrics[k].result() if k in self.metrics else self.totals.get(k, 0.0) / max(self.seen, 1)
            for k in self.keys
        }


class Model(Layer):
    """Subclass and implement ``call(self, x)``; assign layers as attributes in ``__init__``.
    ``Model(inputs, outputs)`` on symbolic tensors from ``ranvier.Input`` makes a functional model
    (graph_model.Functional), as in Keras."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from ranvier.graph_model import Functional

            return object.__new__(Functional)
        return object.__new__(cls)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self._initial_epoch = None  # set by BackupAndRestore in on_train_begin; fit starts there
        self._metrics: list = []
        self._loss_tracker = metrics_mod.Mean(name="loss")
        self._fused_loss = None
        self.distribute = Strategy()
        self._step_replay = None

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
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, distribute=None, jit_compile=False):
        """``distribute``: a ``ranvier.distributed`` strategy (``DataParallel()``) to train on many processes.
        ``jit_compile=True`` records a training step and replays it from C++ at later steps of the same
        shapes, once the replay is checked against the eager step (ranvier.step_replay); a model it
        cannot replay trains eagerly, with a warning that says why. ``"auto"`` (Keras' default) is False."""
        if jit_compile not in (True, False, "auto"):
            raise ValueError(f"[compile] jit_compile must be True, False or 'auto', got {jit_compile!r}")
        self.distribute = distribute if distribute is not None else Strategy()
        self._step_replay = step_replay.StepReplay(self) if jit_compile is True else None
        self.optimizer = optimizers_mod.get(optimizer)
        self.loss = losses_mod.get(loss) if loss is not None else None
        loss_name = getattr(self.loss, "name", "")
        self._metrics = [metrics_mod.get(m, loss_name) for m in (metrics or [])]
        names = [m.name for m in self._metrics]
        if len(set(names)) != len(names) or "loss" in names:
            raise ValueError(f"[compile] metric names must be unique and not 'loss', got {names}")
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

    def compute_loss(self, x, y, sample_weight=None):
        """(loss Tensor, predictions) for one batch, through the fused loss when there is one; the
        regularization penalties (``self.losses``) are added to the loss, as Keras.

        x and y come as the user gave them (an array, or a list/dict of arrays), on the model's device
        and in its input dtype; ``sample_weight`` (one per sample) scales each sample's loss."""
        if self._fused_loss is not None and not structure.is_nested(x):
            logits = self.forward_logits(Tensor(x))
            loss = self._fused_loss(y, logits, sample_weight)
            return self._with_penalties(loss), self._fused_predictions(logits)
        preds = self(x)
        return self._with_penalties(self._loss_of(y, preds, sample_weight)), preds

    def _fused_predictions(self, logits):
        """The last layer's activation of the logits a fused loss took; its activity penalty is taken here,
        since call_logits skipped the layer's __call__."""
        last = self._last_layer()
        if last.activity_regularizer is None:
            with no_grad():
                return activations.get(last.activation)(logits)
        preds = activations.get(last.activation)(logits)
        last._activity_losses = [last.activity_regularizer(preds) / max(preds.shape[0], 1)]
        return preds

    def _with_penalties(self, loss):
        for penalty in self.losses:
            loss = loss + penalty
        return loss

    def _loss_of(self, y, preds, sample_weight):
        """One loss for every output (Keras applies a single loss to each output and sums them)."""
        loss_fn = self.loss if sample_weight is None else lambda t, p: self.loss(t, p, sample_weight)
        if isinstance(preds, dict) and isinstance(y, dict):
            if set(preds) != set(y):
                raise ValueError(f"[{self.name}] y has keys {sorted(y)} but the model outputs {sorted(preds)}")
            terms = [loss_fn(y[k], preds[k]) for k in preds]
        elif isinstance(preds, (list, tuple)) and isinstance(y, (list, tuple)):
            if len(preds) != len(y):
                raise ValueError(f"[{self.name}] y holds {len(y)} targets but the model has {len(preds)} outputs")
            terms = [loss_fn(t, p) for t, p in zip(y, preds)]
        else:
            return loss_fn(y, preds)
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """Update every compiled metric with one batch; returns their results so far."""
        if not self._metrics:
            return {}
        if structure.is_nested(y_pred) or structure.is_nested(y):
            raise ValueError(
                f"[{self.name}] compiled metrics need a single output and target; this batch has "
                f"y {structure.describe(y)} and predictions {structure.describe(y_pred)}"
            )
        pred = y_pred.data if isinstance(y_pred, Tensor) else y_pred
        for metric in self._metrics:
            metric.update_state(y, pred, sample_weight)
        return {metric.name: metric.result() for metric in self._metrics}

    def _named_metrics(self) -> dict:
        """Log name -> compiled metric: the loop logs these metrics' epoch results, not batch means."""
        return {m.name: m for m in self._metrics}

    @property
    def metrics(self) -> list:
        """The compiled metrics (``Metric`` objects)."""
        return list(self._metrics)

    def reset_metrics(self) -> None:
        """Zero every compiled metric and the running loss of ``train_on_batch``/``test_on_batch``."""
        for metric in self._metrics:
            metric.reset_state()
        self._loss_tracker.reset_state()

    def train_step(self, x, y, sample_weight=None) -> dict:
        """One optimizer step on a batch; returns the batch's loss and the metrics' results so far
        (compiled with ``jit_compile=True``: replayed from a recorded plan once one is checked)."""
        if self._step_replay is not None:
            return self._step_replay.train_step(x, y, sample_weight)
        return self._eager_train_step(x, y, sample_weight)

    def _eager_train_step(self, x, y, sample_weight=None) -> dict:
        loss, preds = self._optimizer_step(x, y, sample_weight)
        return {"loss": float(loss.item()), **self.compute_metrics(x, y, preds, sample_weight)}

    def _optimizer_step(self, x, y, sample_weight=None):
        """Loss, backward and the optimizer's update on one batch: (loss, predictions)."""
        loss, preds = self.compute_loss(x, y) if sample_weight is None else self.compute_loss(x, y, sample_weight)
        if not self.optimizer.params:  # called directly, before fit bound the weights: not a silent no-op
            self._bind_optimizer()
        self.optimizer.zero_grad()
        if loss.requires_grad:  # else every weight is frozen
            loss.backward()
            self.optimizer.step()
        return loss, preds

    def test_step(self, x, y, sample_weight=None) -> dict:
        """Loss and metrics on one batch, without training (evaluate runs it under no_grad; compiled with
        ``jit_compile=True``: the loss's forward pass replayed once a recording is checked)."""
        if self._step_replay is not None:
            return self._step_replay.test_step(x, y, sample_weight)
        return self._eager_test_step(x, y, sample_weight)

    def _eager_test_step(self, x, y, sample_weight=None) -> dict:
        loss, preds = self._loss_step(x, y, sample_weight)
        return {"loss": float(loss.item()), **self.compute_metrics(x, y, preds, sample_weight)}

    def _loss_step(self, x, y, sample_weight=None):
        """(loss, predictions) of one batch, no training: what test_step computes before its metrics."""
        return self.compute_loss(x, y) if sample_weight is None else self.compute_loss(x, y, sample_weight)

    def predict_step(self, x):
        """The outputs for one batch: an array, or the model's list/dict of arrays (compiled with
        ``jit_compile=True``: the forward pass replayed once a recording is checked)."""
        if self._step_replay is not None:
            return self._step_replay.predict_step(x)
        return self._eager_predict_step(x)

    def _eager_predict_step(self, x):
        out = self(x)
        return structure.map_leaves(lambda t: t.data if isinstance(t, Tensor) else t, out)

    # ---- data ------------------------------------------------------------------------------------
    def _data_source(self, op, x, y, batch_size, sample_weight, class_weight, shuffle, strategy):
        """A batch source for any form of data (see ranvier.data.sources), refusing what does not fit."""
        if x is None:
            raise ValueError(f"[{op}] x is missing: give arrays, a generator, a ranvier.data.Dataset or a PyDataset")
        if sources.is_stream(x) and not (isinstance(x, list) and y is not None):
            for name, value in (("y", y), ("sample_weight", sample_weight), ("batch_size", batch_size)):
                if value is not None:
                    raise ValueError(
                        f"[{op}] {name} must not be given when x is {sources.kind_of(x)}: it yields its own "
                        "batches of (x, y) or (x, y, sample_weight)"
                    )
            return sources.stream_source(x, shuffle, op), True
        batch_size = 32 if batch_size is None else _optional_positive(batch_size, op, "batch_size")
        x = _as_model_input(self, x, op)
        count = _sample_count(x, op, "x")
        if op != "predict":
            if y is None:
                raise ValueError(
                    f"[{op}] y is missing: x is {structure.describe(x)}, so the targets must be given as y "
                    "(or give a generator/Dataset that yields (x, y) batches)"
                )
            y = _as_targets(y, self.device, op)
            if _sample_count(y, op, "y") != count:
                raise ValueError(f"[{op}] x has {count} samples but y has {structure.num_samples(y)}")
        if count == 0:
            raise ValueError(f"[{op}] x has no samples")
        sample_weight = _as_sample_weight(sample_weight, count, self.device, op)
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError(f"[{op}] give class_weight or sample_weight, not both (Keras refuses both)")
            sample_weight = _as_sample_weight(sources.class_weights_for(y, class_weight, op), count, self.device, op)
        return sources.ArraySource(x, y, sample_weight, batch_size, shuffle, strategy), False

    def _prepare_batch(self, batch, op: str, class_weight=None, shard: bool = False):
        """A streamed batch as train_step takes it: (x, y, sample_weight) on the model's device, class
        weights applied, and (in a data-parallel fit) this rank's piece of it."""
        xb, yb, swb = sources.unpack_batch(batch, op)
        if xb is None:
            raise ValueError(f"[{op}] a batch has no x (None)")
        xb = _as_model_input(self, xb, op)
        count = structure.num_samples(xb)
        if op != "predict":
            if yb is None:
                raise ValueError(f"[{op}] a batch holds x only: yield (x, y) or (x, y, sample_weight) to train on it")
            yb = _as_targets(yb, self.device, op)
            if structure.num_samples(yb) != count:
                raise ValueError(f"[{op}] a batch's x has {count} samples but its y has {structure.num_samples(yb)}")
            swb = _as_sample_weight(swb, count, self.device, op)
            if class_weight is not None:
                if swb is not None:
                    raise ValueError(f"[{op}] give class_weight or per-batch sample weights, not both")
                swb = _as_sample_weight(sources.class_weights_for(yb, class_weight, op), count, self.device, op)
        if shard:
            piece = self.distribute.shard_batch(np.arange(count))
            if len(piece) != count:
                idx = to_device(piece, self.device)
                xb, yb, swb = structure.take(xb, idx), structure.take(yb, idx), structure.take(swb, idx)
        return xb, yb, swb

    def _build_on(self, x) -> None:
        """Create the weights from a batch's first sample (a model with several inputs builds by a call)."""
        if not structure.is_nested(x):
            self.build_for(x.shape[1:])
            return
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                self(structure.take(x, slice(0, 1)))
        finally:
            self.train(was_training)

    # ---- fit / evaluate / predict --------------------------------------------------------------
    def fit(
        self,
        x=None,
        y=None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose="auto",
        callbacks=None,
        validation_split: float = 0.0,
        validation_data=None,
        shuffle: bool = True,
        class_weight: dict | None = None,
        sample_weight=None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq=1,
        device: str | None = None,
    ):
        """Train for ``epochs``; returns a ``History`` whose ``history`` maps each log name to a list per epoch.

        x: arrays (NumPy/CuPy, or a list/dict of them for several inputs) with y (likewise for several
        outputs) in batches of ``batch_size`` (default 32); or data that yields its own batches of x,
        (x, y) or (x, y, sample_weight): a generator or any iterable, a list of such tuples, a
        ``ranvier.data.Dataset`` or a ``PyDataset`` (see ``ranvier.data``). x is moved to the model's
        device and converted once to the compute dtype float32 (uint8 images, float64, int and bool
        features alike), as Keras does; a model whose first layer takes ids (``Embedding``) gets
        integers unchanged. y keeps integer labels and converts floats to float32.

        ``sample_weight`` (one per sample) or ``class_weight`` ({class: weight}) scales each sample's
        loss and metrics. ``steps_per_epoch`` makes an epoch that many batches (each epoch goes on
        where the last stopped); without it an epoch is one pass over the data (a generator's one pass
        is all it has). ``validation_freq``: validate every n-th epoch, or at the epochs listed. A
        non-finite loss raises a RuntimeWarning naming the epoch and batch, once per epoch;
        ``callbacks.TerminateOnNaN()`` stops training there instead.
        """
        if device is not None:
            self.to(device)
        verbose = _verbosity(verbose, "fit")
        steps_per_epoch = _optional_positive(steps_per_epoch, "fit", "steps_per_epoch")
        validation_steps = _optional_positive(validation_steps, "fit", "validation_steps")
        validation_batch_size = _optional_positive(validation_batch_size, "fit", "validation_batch_size")
        validation_freq = _check_validation_freq(validation_freq)
        sources.check_class_weight(class_weight, "fit")
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"[{self.name}] call compile(optimizer=..., loss=...) before fit/evaluate")
        source, streamed = self._data_source(
            "fit", x, y, batch_size, sample_weight, class_weight, shuffle, self.distribute
        )
        source, validation_data = self._split_validation(source, streamed, validation_split, validation_data)
        batches = sources.EpochIterator(source, steps_per_epoch, "fit")
        try:
            return self._fit_loop(
                batches,
                class_weight if streamed else None,
                streamed,
                epochs,
                verbose,
                callbacks,
                initial_epoch,
                (validation_data, validation_steps, validation_batch_size or batch_size, validation_freq),
            )
        finally:
            batches.close()

    def _fit_loop(self, batches, class_weight, streamed, epochs, verbose, callbacks, initial_epoch, validation):
        if streamed:
            first = batches.peek()
            if first is None:
                raise ValueError("[fit] the data yielded no batch")
        if not self.built:
            if streamed:
                self._build_on(self._prepare_batch(first, "fit")[0])
            else:
                self._build_on(batches.source.x)
        self._bind_optimizer()
        callbacks, verbose = self.distribute.begin_fit(self, list(callbacks or []), verbose)
        steps = batches.steps
        cbs = callbacks_mod.CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=self,
            epochs=epochs,
            steps=steps,
            verbose=verbose,
        )
        validation_data, validation_steps, validation_batch_size, validation_freq = validation
        self.stop_training = False
        self.train()
        cbs.on_train_begin()
        initial_epoch, self._initial_epoch = self._initial_epoch or initial_epoch, None
        for epoch in range(initial_epoch, epochs):
            logs: dict = {}
            cbs.on_epoch_begin(epoch, logs)
            epoch_logs = self._train_epoch(batches, class_weight, streamed, cbs, f"epoch {epoch + 1}/{epochs}")
            if batches.ran_dry:  # a generator used up by earlier epochs: Keras stops here
                self.stop_training = True
                break
            logs.update(epoch_logs)
            if validation_data is not None and _validation_due(validation_freq, epoch):
                val_x, val_y, val_weight = validation_data
                val = self._evaluate(val_x, val_y, validation_batch_size, 0, val_weight, validation_steps, cbs, "fit")
                logs.update({f"val_{k}": v for k, v in val.items()})
                self.train()
            logs = self.distribute.agree(logs)
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end()
        self.eval()
        return self.history

    def _split_validation(self, source, streamed, validation_split, validation_data):
        """(training source, (x_val, y_val, sample_weight_val) or None); a split takes the last samples of
        arrays, before any shuffle, as Keras."""
        if validation_data is not None:
            if isinstance(validation_data, tuple) and len(validation_data) in (2, 3):
                return source, tuple(validation_data) + (None,) * (3 - len(validation_data))
            if sources.is_stream(validation_data):
                return source, (validation_data, None, None)
            raise ValueError(
                "[fit] validation_data must be (x_val, y_val), (x_val, y_val, sample_weight_val), a generator, "
                f"a ranvier.data.Dataset or a PyDataset; got {type(validation_data).__name__}"
            )
        if not validation_split:
            return source, None
        if streamed:
            raise ValueError(
                "[fit] validation_split needs arrays (the last samples are held out); with a generator or data "
                "set, give validation_data"
            )
        if not 0 < validation_split < 1:
            raise ValueError(f"[fit] validation_split must be in (0, 1), got {validation_split}")
        split = int(source.count * (1 - validation_split))
        if split == 0:
            raise ValueError(f"[fit] validation_split={validation_split} leaves no training sample of {source.count}")
        head, tail = slice(0, split), slice(split, None)
        held_out = tuple(structure.take(a, tail) for a in (source.x, source.y, source.sample_weight))
        train = sources.ArraySource(
            *(structure.take(a, head) for a in (source.x, source.y, source.sample_weight)),
            source.batch_size,
            source.shuffle,
            source.strategy,
        )
        return train, held_out

    def _train_epoch(self, batches, class_weight, streamed: bool, cbs, epoch_label: str) -> dict:
        """One epoch of batches (until a callback stops training): the loss and other logs averaged over
        the samples, the metrics' results over the whole epoch (added up over every rank)."""
        for metric in self._metrics:
            metric.reset_state()
        self._loss_tracker.reset_state()
        logs = _EpochLogs(self._named_metrics())
        warned = False
        for step, batch in enumerate(batches.epoch()):
            xb, yb, swb = self._prepare_batch(batch, "fit", class_weight, shard=True) if streamed else batch
            cbs.on_train_batch_begin(step)
            batch_logs = self.distribute.train_step(self, xb, yb, swb)
            loss = batch_logs.get("loss")  # none for a rank's empty piece of a data-parallel batch
            if not warned and loss is not None and not math.isfinite(loss):
                warned = True
                where = f"{epoch_label}, batch {step + 1}" + (f"/{batches.steps}" if batches.steps else "")
                _warn_non_finite("fit", loss, where, stacklevel=4)
            cbs.on_train_batch_end(step, logs.add(batch_logs, structure.num_samples(xb)))
            if self.stop_training:
                break
        logs.totals, logs.seen = self.distribute.end_epoch(self, logs.totals, logs.seen)
        self.distribute.sum_metric_states(self._metrics)
        return logs.result()

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size: int | None = None,
        verbose="auto",
        sample_weight=None,
        steps: int | None = None,
        callbacks=None,
        return_dict: bool = False,
    ):
        """Loss and metrics over the data (any form ``fit`` takes), in inference mode: a number when the
        model has no metrics, else [loss, metric...] (or a dict with ``return_dict``)."""
        verbose = _verbosity(verbose, "evaluate")
        steps = _optional_positive(steps, "evaluate", "steps")
        result = self._evaluate(x, y, batch_size, verbose, sample_weight, steps, callbacks, "evaluate")
        if return_dict:
            return result
        values = list(result.values())
        return values[0] if len(values) == 1 else values

    def _evaluate(self, x, y, batch_size, verbose, sample_weight, steps, callbacks, op: str) -> dict:
        """``callbacks``: a list (evaluate), or fit's CallbackList when it validates (its bar stays silent)."""
        if self.loss is None:
            raise RuntimeError(f"[{self.name}] call compile(loss=...) before evaluate")
        source, streamed = self._data_source("evaluate", x, y, batch_size, sample_weight, None, False, Strategy())
        batches = sources.EpochIterator(source, steps, "evaluate")
        cbs = callbacks
        if not isinstance(cbs, callbacks_mod.CallbackList):
            cbs = callbacks_mod.CallbackList(
                callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=batches.steps
            )
        restore_modes = self._enter_eval()
        for metric in self._metrics:
            metric.reset_state()
        logs = _EpochLogs(self._named_metrics())
        warned = False
        cbs.on_test_begin()
        try:
            with no_grad():
                for step, batch in enumerate(batches.epoch()):
                    xb, yb, swb = self._prepare_batch(batch, "evaluate") if streamed else batch
                    cbs.on_test_batch_begin(step)
                    batch_logs = self.test_step(xb, yb) if swb is None else self.test_step(xb, yb, swb)
                    loss = batch_logs.get("loss")
                    if not warned and loss is not None and not math.isfinite(loss):
                        warned = True
                        where = f"{'validation ' if op == 'fit' else ''}batch {step + 1}"
                        _warn_non_finite(op, loss, where + (f"/{batches.steps}" if batches.steps else ""), 3)
                    cbs.on_test_batch_end(step, logs.add(batch_logs, structure.num_samples(xb)))
        finally:
            batches.close()
            restore_modes()
        if logs.seen == 0:
            raise ValueError(f"[{op}] the {'validation ' if op == 'fit' else ''}data yielded no batch")
        result = logs.result()
        cbs.on_test_end(result)
        return result

    def predict(self, x, batch_size: int | None = None, verbose="auto", steps: int | None = None, callbacks=None):
        """The model's outputs for x (any form ``fit`` takes; y in batches is ignored) in inference mode:
        a NumPy array (CuPy on the GPU), or the model's list/dict of them."""
        verbose = _verbosity(verbose, "predict")
        steps = _optional_positive(steps, "predict", "steps")
        if _one_quiet_batch(x, batch_size, verbose, steps, callbacks):
            # a single array that fits in one batch, nothing to report: no data source, batches or
            # callbacks around the forward pass (a batch-1 call would spend more on them than on the kernels)
            return self._predict_batch(x, "predict")
        if sources.is_stream(x) and batch_size is not None:
            raise ValueError(f"[predict] batch_size must not be given when x is {sources.kind_of(x)}")
        source, streamed = self._data_source("predict", x, None, batch_size, None, None, False, Strategy())
        batches = sources.EpochIterator(source, steps, "predict")
        cbs = callbacks_mod.CallbackList(
            callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1, steps=batches.steps
        )
        restore_modes = self._enter_eval()
        outputs = []
        cbs.on_predict_begin()
        try:
            with no_grad():
                for step, batch in enumerate(batches.epoch()):
                    xb = self._prepare_batch(batch, "predict")[0] if streamed else batch[0]
                    cbs.on_predict_batch_begin(step)
                    outputs.append(self.predict_step(xb))
                    cbs.on_predict_batch_end(step, {"outputs": outputs[-1]})
        finally:
            batches.close()
            restore_modes()
        if not outputs:
            raise ValueError("[predict] x has no samples")
        cbs.on_predict_end()
        return _concatenate(outputs)

    # ---- one batch ---------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict: bool = False):
        """One optimizer step on one batch (Keras 3: the loss and metrics are running values since the last
        ``reset_metrics()``): the loss, [loss, metric...], or a dict with ``return_dict``."""
        if self.optimizer is None or self.loss is None:
            raise RuntimeError(f"[{self.name}] call compile(optimizer=..., loss=...) before train_on_batch")
        sources.check_class_weight(class_weight, "train_on_batch")
        xb, yb, swb = self._one_batch("train_on_batch", x, y, sample_weight, class_weight)
        if not self.built:
            self._build_on(xb)
        self._bind_optimizer()
        self.train()
        logs = self.train_step(xb, yb) if swb is None else self.train_step(xb, yb, swb)
        return self._on_batch_result(logs, structure.num_samples(xb), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        """Loss and metrics on one batch in inference mode (running values, as train_on_batch)."""
        if self.loss is None:
            raise RuntimeError(f"[{self.name}] call compile(loss=...) before test_on_batch")
        xb, yb, swb = self._one_batch("test_on_batch", x, y, sample_weight, None)
        restore_modes = self._enter_eval()
        try:
            with no_grad():
                logs = self.test_step(xb, yb) if swb is None else self.test_step(xb, yb, swb)
        finally:
            restore_modes()
        return self._on_batch_result(logs, structure.num_samples(xb), return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch of x, in inference mode."""
        return self._predict_batch(x, "predict_on_batch")

    def _predict_batch(self, x, op: str):
        xb = _as_model_input(self, x, op)
        restore_modes = self._enter_eval()
        try:
            with no_grad():
                return self.predict_step(xb)
        finally:
            restore_modes()

    def _one_batch(self, op, x, y, sample_weight, class_weight):
        source, streamed = self._data_source(op, x, y, None, sample_weight, class_weight, False, Strategy())
        if streamed:
            raise ValueError(f"[{op}] x must be arrays (one batch), got {sources.kind_of(x)}")
        return source.x, source.y, source.sample_weight

    def _on_batch_result(self, logs: dict, count: int, return_dict: bool):
        self._loss_tracker.update_state(np.array([logs["loss"]]), np.array([float(count)]))
        logs = {**logs, "loss": self._loss_tracker.result()}
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def __call__(self, x, *args, **kwargs):
        if is_symbolic(x):  # a subclassed model called on symbolic tensors: a node in a functional graph
            return super().__call__(x, *args, **kwargs)
        op = f"{type(self).__name__} '{self.name}'"
        if structure.is_nested(x):  # several inputs: the subclass's call takes the list/dict
            x = structure.map_leaves(lambda a: a if isinstance(a, Tensor) else Tensor(_as_model_input(self, a, op)), x)
            if not self.built:
                self.built = True
                self.input_spec = None
            y = self.call(x, *args, **kwargs)
            first = structure.leaves(y)[0]
            self.output_shape = (None,) + tuple(first.shape[1:])
            return y
        if not isinstance(x, Tensor):
            x = Tensor(_as_model_input(self, x, op))
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

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer of the model by ``name`` or by ``index`` (in ``model.layers`` order), as Keras."""
        layers = getattr(self, "layers", None)
        layers = list(layers) if isinstance(layers, list) else self.sublayers()
        if (name is None) == (index is None):
            raise ValueError(f"[{self.name}.get_layer] give name or index (one of them), got {name=}, {index=}")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"[{self.name}.get_layer] index must be an integer in [0, {len(layers)}) (the model has "
                    f"{len(layers)} layers), got {index!r}"
                )
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        known = ", ".join(repr(layer.name) for layer in layers) or "none"
        raise ValueError(f"[{self.name}.get_layer] no layer named {name!r}; the model's layers: {known}")

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


def _concatenate(outputs: list):
    """Batches of outputs joined along the sample axis, leaf by leaf."""
    first = outputs[0]
    if isinstance(first, dict):
        return {k: _concatenate([o[k] for o in outputs]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_concatenate([o[i] for o in outputs]) for i in range(len(first)))
    return array_module(first).concatenate(outputs, axis=0)


class Sequential(Model):
    """A stack of layers, each feeding the next: ``Sequential([layer, ...])`` or ``.add(layer)``."""

    def __init__(self, layers=None, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.layers: list = []
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        if isinstance(layer, SymbolicTensor) and isinstance(layer.layer, InputLayer):
            layer = layer.layer  # Sequential([Input((20,)), ...]) as Keras 3
        if not isinstance(layer, Layer):
            raise TypeError(f"[Sequential.add] expected a Layer, got {type(layer).__name__}")
        self._adopt(layer)
        self.layers.append(layer)
        self.built = False
        shape = self._declared_input_shape()
        if shape is not None:  # as Keras: with a known input shape the weights exist at once
            self.build_for(tuple(1 if d is None else d for d in shape))

    def pop(self) -> Layer:
        """Remove and return the last layer (Keras' Sequential.pop); the model rebuilds on its next input."""
        if not self.layers:
            raise ValueError(f"[Sequential '{self.name}'.pop] the model has no layers to remove")
        layer = self.layers.pop()
        self.built = False
        return layer

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
