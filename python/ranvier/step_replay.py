"""``model.compile(jit_compile=True)``: the training step (and evaluate's and predict's forward passes)
recorded once, then replayed from C++.

A step with new shapes runs eagerly three times. The first two are recorded twice over: by
``ranvier._cpu.StepPlan`` (each binding keeps its kernel call: pointers, sizes, scalars) and here,
where every call into ``ranvier._cpu`` is logged with its arguments and results. The two logs must
describe the same computation: the same ops, the same scalars (but the optimizer's learning rate and
step, which a replay passes anew), and every array an op reads must be the output of an earlier op,
the batch, or an array that lives across steps: model state (a weight, an optimizer slot, read live
by a replay) or an array that holds the same values at both steps. Anything computed outside the kernels (a
NumPy sum, a gradient added up in Python, a Dropout layer's own seed) fails that, and the model stays
eager. Dropout's seeds are drawn anew at each replay from ranvier.utils.next_seed, as the eager step
draws them.
The third step checks the plan itself: the weights and optimizer slots are saved, the step runs
eagerly, they are put back, the plan replays the same batch, and both must give the same bits.

From then on a step with those shapes copies the batch into the plan's input buffers, checks the
labels' range (the bindings check values only when called), and replays: one call, the GIL released
once, no Python per op. Anything a replay would miss keeps the model eager, with a warning that says
why: a layer outside ``CAPTURABLE_LAYERS``, a weight constraint, gradient clipping, a data-parallel
strategy, several inputs, a GPU model. ``evaluate`` and ``predict`` go the same way with the forward
pass alone.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ranvier import _cpu, backend, utils
from ranvier.tensor import Tensor, _backward_observers

# Layers whose call is kernels and nothing else: no statistics kept in Python (BatchNormalization),
# no arbitrary code (Lambda). Whether their ops replay is still checked call by call.
CAPTURABLE_LAYERS = frozenset(
    "Activation AveragePooling1D AveragePooling2D Conv1D Conv2D Conv2DTranspose Cropping1D Cropping2D Dense "
    "Dropout ELU Embedding Flatten GRU GlobalMaxPooling1D GlobalMaxPooling2D InputLayer LSTM LayerNormalization "
    "LeakyReLU MaxPooling1D MaxPooling2D ReLU Reshape Sequential SimpleRNN Softmax UpSampling1D UpSampling2D "
    "ZeroPadding1D ZeroPadding2D".split()
)
# The scalars a replay gives anew: the optimizer's learning rate (and Adam's step), and dropout's seed,
# drawn at each replay from ranvier.utils.next_seed as the eager step draws it.
STEP_SCALARS = {"sgd_update": ("lr",), "adam_update": ("lr", "step"), "rmsprop_update": ("lr",), "dropout": ("seed",)}
# Integer arrays a replay may take from the batch: (op, argument) -> the argument bounding them.
LABEL_BOUNDS = {
    ("softmax_cross_entropy", "labels"): ("logits", -1),
    ("softmax_cross_entropy_backward", "labels"): ("logits", -1),
    ("embedding", "ids"): ("table", 0),
    ("embedding_backward", "ids"): ("num_embeddings", None),
}
# ranvier's optimizers whose update is one kernel call per weight (whether its scalars replay is checked
# later: Nadam's and Adamax's step-dependent ones do not), and those that decay weights in NumPy first.
ONE_KERNEL_UPDATES = frozenset("SGD Adam AdamW RMSprop Adagrad Adamax Lion Nadam".split())
DECAY_IN_PYTHON = frozenset(("SGD", "RMSprop"))
RECORDINGS = 2  # eager steps recorded before a plan is checked (the third step checks it)
MAX_PLANS = 4  # plans kept per model (one per batch shape: the last batch of an epoch has its own)


class _Call:
    """One logged call into ranvier._cpu: its op, arguments by name, results and kernel count."""

    __slots__ = ("op", "args", "outputs", "kernels")

    def __init__(self, op, args, outputs, kernels):
        self.op, self.args, self.outputs, self.kernels = op, args, outputs, kernels


class _LoggingModule:
    """Stands in for ranvier._cpu while a step records: each function call is logged, then returned."""

    def __init__(self, plan):
        self._plan, self.calls = plan, []

    def __getattr__(self, name):
        function = getattr(_cpu, name)
        if not callable(function) or name[:1].isupper():
            return function

        def logged(*args, **kwargs):
            before = len(self._plan)
            result = function(*args, **kwargs)
            named = {}
            for key, value in dict(zip(_parameter_names(function, len(args)), args), **kwargs).items():
                if isinstance(value, dict):  # lstm_backward's cache: each array an argument of its own
                    named.update({f"{key}.{k}": v for k, v in value.items()})
                else:
                    named[key] = value
            outputs = [r for r in (result if isinstance(result, tuple) else (result,)) if isinstance(r, np.ndarray)]
            self.calls.append(_Call(name, named, outputs, len(self._plan) - before))
            return result

        return logged


_PARAMETER_NAMES: dict = {}


def _parameter_names(function, count: int) -> list:
    """The names of a pybind11 function's first ``count`` parameters, read from its signature line."""
    names = _PARAMETER_NAMES.get(function.__name__)
    if names is None:
        signature = (function.__doc__ or "").split("\n", 1)[0]
        inside = signature[signature.find("(") + 1 : signature.rfind(") ->")]
        names = [part.split(":")[0].strip() for part in inside.split(", ") if part]
        _PARAMETER_NAMES[function.__name__] = names
    return names[:count]


class _Recording:
    """One eager step, recorded: the C++ plan, the log, the batch buffers and what the step returned."""

    def __init__(self, model, x, y, sample_weight, eager_step):
        self.inputs = {"x": _private(x), "y": _private(y), "sample_weight": _private(sample_weight)}
        optimizer = model.optimizer if eager_step == model._optimizer_step else None
        self.lr, self.step = (optimizer.learning_rate, optimizer.iterations + 1) if optimizer else (0.0, 1)
        self.plan = _cpu.StepPlan()
        module = _LoggingModule(self.plan)
        backend._cpu = module
        self.plan.start()
        try:
            with _seeds_drawn() as self.seeds:
                self.loss, self.preds = eager_step(*self.inputs.values())
        finally:
            self.plan.stop()
            backend._cpu = _cpu
        self.calls = module.calls
        self.grads = [p.grad for p in optimizer.params] if optimizer else []
        self.identity = _identity(model)
        # the model's weights and the optimizer's slots: read live by a replay whatever changes them between
        # steps (training, set_weights), as the eager step reads them
        self.state_addresses = {_bounds(a)[0] for a in _state_arrays(model)}
        try:
            self.flow = _Dataflow(self)
        except _Refused as refused:
            self.flow = refused


class _seeds_drawn:
    """The seeds ranvier.utils.next_seed hands out inside the block, in order (a list)."""

    def __enter__(self) -> list:
        self.drawn, self.original = [], utils.next_seed

        def next_seed() -> int:
            seed = self.original()
            self.drawn.append(seed)
            return seed

        utils.next_seed = next_seed
        return self.drawn

    def __exit__(self, *exc) -> None:
        utils.next_seed = self.original


def _private(a):
    """A copy the plan owns (a replay writes each batch into it), or None."""
    return None if a is None else np.array(a, copy=True, order="C")


class _Refused(Exception):
    """Why a recorded step cannot be replayed."""


def _bounds(a: np.ndarray) -> tuple:
    low, high = np.lib.array_utils.byte_bounds(a)
    return low, high


class _Dataflow:
    """Where each array an op reads comes from, in one recording."""

    def __init__(self, recording: _Recording):
        self.recording = recording
        self.produced: list = []  # (low, high, call index, output index, array)
        self.reads: list = []  # per call: {arg: source}
        self.written_state: set = set(recording.state_addresses)  # weights, slots, and what updates write
        self.snapshots: dict = {}  # low address -> the values of another kept array, after the step
        inputs = {k: v for k, v in recording.inputs.items() if v is not None}
        for index, call in enumerate(recording.calls):
            sources = {}
            for name, value in call.args.items():
                if isinstance(value, np.ndarray):
                    sources[name] = self._source(value, inputs)
                elif not _is_scalar(value):
                    raise _Refused(f"{call.op} took {type(value).__name__} {name}")
            self.reads.append(sources)
            if call.op.endswith("_update"):
                for name, value in call.args.items():
                    if isinstance(value, np.ndarray) and name != "grad":
                        self.written_state.add(_bounds(value)[0])
            if call.kernels == 0:
                # no kernel ran: an output is one of the arguments handed back (dropout at rate 0), else
                # something a replay would not compute again
                for out in call.outputs:
                    if not any(out is v for v in call.args.values()):
                        raise _Refused(f"{call.op} made an array without a kernel a replay could run")
                continue
            if call.kernels != 1:
                raise _Refused(f"{call.op} ran {call.kernels} kernels in one call")
            for k, out in enumerate(call.outputs):
                self.produced.append((*_bounds(out), index, k, out))
        for sources in self.reads:  # after the step: what a kept array holds once the step is over
            for source in sources.values():
                if source[0] == "kept" and source[1] not in self.written_state:
                    self.snapshots.setdefault(source[1], source[3].copy())

    def _source(self, a: np.ndarray, inputs: dict) -> tuple:
        low, high = _bounds(a)
        layout = (a.shape, a.strides, a.dtype.str)
        for p_low, p_high, call, k, _ in reversed(self.produced):
            if p_low <= low and high <= p_high:
                return ("output", call, k, low - p_low, layout)
        for name, buffer in inputs.items():
            b_low, b_high = _bounds(buffer)
            if b_low <= low and high <= b_high:
                return ("batch", name, low - b_low, layout)
        return ("kept", low, layout, a)

    def locate(self, a: np.ndarray):
        """The source of an array the step returned (the loss, a prediction), as for a read."""
        return self._source(a, {})


def _compare(first: _Recording, second: _Recording) -> tuple:
    """Check that the second recording can be replayed at later steps; returns its dataflow."""
    a, b = first.flow, second.flow
    if [c.op for c in first.calls] != [c.op for c in second.calls]:
        raise _Refused("two steps with the same shapes called different ops")
    if len(second.plan) != sum(c.kernels for c in second.calls):
        raise _Refused("a kernel ran outside the logged calls")
    if second.plan.copied_inputs:
        raise _Refused(f"{second.plan.copied_inputs[0]} read a copy of a strided input")
    for recording in (first, second):
        seeded = [c.args.get("seed") for c in recording.calls if "seed" in STEP_SCALARS.get(c.op, ())]
        if seeded != recording.seeds or len(seeded) != recording.plan.seed_count:
            raise _Refused("dropout's seed does not come from ranvier.utils.next_seed (a Dropout layer's own seed)")
    for call_a, call_b, reads_a, reads_b in zip(first.calls, second.calls, a.reads, b.reads):
        if call_a.args.keys() != call_b.args.keys():
            raise _Refused(f"{call_b.op} was called with different arguments at two steps")
        replayed = STEP_SCALARS.get(call_b.op, ())
        for name, value in call_b.args.items():
            if isinstance(value, np.ndarray):
                _check_read(call_b.op, name, reads_a[name], reads_b[name], a, b, call_b)
            elif name == "seed" and name in replayed:
                continue  # checked above: drawn from next_seed in order
            elif name in replayed:
                expected = second.lr if name == "lr" else second.step
                if value != expected or call_a.args[name] != (first.lr if name == "lr" else first.step):
                    raise _Refused(f"{call_b.op}'s {name} is not the optimizer's")
            elif not _same_scalar(value, call_a.args.get(name)):
                raise _Refused(f"{call_b.op}'s {name} changed from step to step ({call_a.args.get(name)!r}, {value!r})")
    return b


def _is_scalar(value) -> bool:
    """A number, string, None, or a tuple/list of them: compared by value between two steps."""
    if isinstance(value, (tuple, list)):
        return all(_is_scalar(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str, np.number, np.bool_))


def _same_scalar(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return type(x) is type(y) and x == y


def _check_read(op, name, source_a, source_b, flow_a, flow_b, call_b) -> None:
    kind = source_b[0]
    if kind != source_a[0]:
        raise _Refused(f"{op}'s {name} comes from different places at two steps")
    if kind == "batch":
        if source_a != source_b:
            raise _Refused(f"{op}'s {name} reads the batch differently at two steps")
        array = call_b.args[name]
        if array.dtype.kind in "iu" and (op, name) not in LABEL_BOUNDS:
            raise _Refused(f"{op} reads integers from the batch as {name}, which no replay checks")
        return
    if kind == "output":
        if source_a != source_b:
            raise _Refused(f"{op}'s {name} is a different op's output at two steps")
        return
    # kept across steps: the same array, model state (weights, slots, what updates write) or the same values
    (_, low_a, layout_a, _), (_, low_b, layout_b, _) = source_a, source_b
    if low_a != low_b or layout_a != layout_b:
        raise _Refused(f"{op}'s {name} is an array made anew at each step outside the kernels")
    if (low_a in flow_a.written_state) != (low_b in flow_b.written_state):
        raise _Refused(f"{op}'s {name} is model state at one step and not at the other")
    if low_b in flow_b.written_state:
        return
    if not np.array_equal(flow_a.snapshots[low_a], flow_b.snapshots[low_b], equal_nan=True):
        raise _Refused(f"{op}'s {name} is kept across steps and changed outside the kernels")


class _Plan:
    """A checked recording, ready to replay."""

    def __init__(self, recording: _Recording, flow: _Dataflow, params: list):
        self.recording, self.params = recording, params
        self.inputs = recording.inputs
        returned = [("a prediction", a) for a in _leaves(recording.preds)]
        if recording.loss is not None:
            returned.append(("the loss", recording.loss.data))
        for name, a in returned:
            if flow.locate(a)[0] != "output":
                raise _Refused(f"{name} is computed outside the kernels")
        self.loss = None if recording.loss is None else recording.loss.data
        self.preds = recording.preds
        self.grads = recording.grads
        self.identity = recording.identity
        batch_labels = {}  # the forward and backward of a loss read the same labels: checked once
        for call, name in _batch_labels(recording, flow):
            batch_labels.setdefault(id(call.args[name]), (call.args[name], call, name))
        self.labels = [(a, _label_bound(c, n)) for a, c, n in batch_labels.values() if a.dtype.kind in "iu"]
        self.probabilities = [a for a, _, _ in batch_labels.values() if a.dtype.kind == "f"]  # NaN refused

    def replay(self, x, y, sample_weight, lr: float, step: int, seeds=None) -> None:
        """One step on this batch; dropout's seeds drawn from ranvier.utils.next_seed as the eager step
        draws them, or ``seeds`` (the ones an eager run of this step drew)."""
        for name, value in (("x", x), ("y", y), ("sample_weight", sample_weight)):
            if value is not None:
                np.copyto(self.inputs[name], value, casting="no")
        for labels, bound in self.labels:
            if labels.size and not (labels.min() >= 0 and labels.max() < bound):
                raise _OutOfRange()
        for probabilities in self.probabilities:
            if np.isnan(probabilities).any():
                raise _OutOfRange()
        if seeds is None:
            seeds = [utils.next_seed() for _ in range(self.recording.plan.seed_count)]
        self.recording.plan.run(lr, step, seeds)
        for p, g in zip(self.params, self.grads):
            p.grad = g


class _OutOfRange(Exception):
    """A label outside its range (or a NaN probability): the eager step raises the op's own error."""


def _leaves(structure_) -> list:
    """The arrays of a step's outputs (Tensors' data or arrays), in order."""
    if isinstance(structure_, dict):
        return [a for v in structure_.values() for a in _leaves(v)]
    if isinstance(structure_, (list, tuple)):
        return [a for v in structure_ for a in _leaves(v)]
    if isinstance(structure_, Tensor):
        return [structure_.data]
    return [structure_] if isinstance(structure_, np.ndarray) else []


def _copied(structure_):
    """Outputs a caller keeps (predict joins every batch's): copies, since the next replay overwrites them."""
    if isinstance(structure_, dict):
        return {k: _copied(v) for k, v in structure_.items()}
    if isinstance(structure_, (list, tuple)):
        return type(structure_)(_copied(v) for v in structure_)
    return structure_.copy() if isinstance(structure_, np.ndarray) else structure_


def _batch_labels(recording: _Recording, flow: _Dataflow):
    for call, reads in zip(recording.calls, flow.reads):
        for name, source in reads.items():
            if source[0] == "batch" and (call.op, name) in LABEL_BOUNDS:
                yield call, name


def _label_bound(call: _Call, name: str) -> int:
    other, axis = LABEL_BOUNDS[(call.op, name)]
    value = call.args[other]
    return int(value) if axis is None else int(value.shape[axis])


class StepReplay:
    """A model's training steps, eager until a step's shapes have a checked plan, then replayed."""

    def __init__(self, model):
        self.model = model
        self.plans: dict = {}  # key -> a _Plan, the recordings so far (a list), or why it stays eager (a str)
        self.warned: set = set()

    def train_step(self, x, y, sample_weight) -> dict:
        model = self.model
        key = self._key(x, y, sample_weight)
        entry = self._entry(key, lambda: why_not_capturable(model, x, y, sample_weight))
        if isinstance(entry, _Plan):
            optimizer = model.optimizer
            try:
                entry.replay(x, y, sample_weight, optimizer.learning_rate, optimizer.iterations + 1)
            except _OutOfRange:
                return model._eager_train_step(x, y, sample_weight)  # raises the op's own error
            optimizer.iterations += 1
            return self._logs(x, y, sample_weight, entry.loss, entry.preds)
        if isinstance(entry, str):
            return model._eager_train_step(x, y, sample_weight)
        if len(entry) < RECORDINGS:
            recording = self._record(key, entry, x, y, sample_weight, model._optimizer_step)
            return self._logs(x, y, sample_weight, recording.loss.data, recording.preds)
        return self._check(key, entry, x, y, sample_weight)

    def test_step(self, x, y, sample_weight) -> dict:
        """``evaluate``'s batch (and fit's validation): the loss's forward pass replayed, no training."""
        model = self.model
        key = ("evaluate", _layout(x), _layout(y), _layout(sample_weight), model.training)
        entry = self._entry(key, lambda: why_not_capturable(model, x, y, sample_weight, training=False))
        if isinstance(entry, _Plan):
            try:
                entry.replay(x, y, sample_weight, 0.0, 1)
            except _OutOfRange:
                return model._eager_test_step(x, y, sample_weight)  # raises the op's own error
            return self._logs(x, y, sample_weight, entry.loss, entry.preds)
        if isinstance(entry, str):
            return model._eager_test_step(x, y, sample_weight)
        if len(entry) < RECORDINGS:
            recording = self._record(key, entry, x, y, sample_weight, model._loss_step)
            return self._logs(x, y, sample_weight, recording.loss.data, recording.preds)
        plan = self._checked_plan(key, entry, [])
        if plan is None:
            return model._eager_test_step(x, y, sample_weight)
        loss, preds = self._check_forward(key, plan, x, y, sample_weight, model._loss_step)
        return self._logs(x, y, sample_weight, loss.data, preds)

    def predict_step(self, x):
        """``model.predict``'s batch: the forward pass replayed, the outputs copied out of the plan."""
        model = self.model
        key = ("predict", _layout(x), model.training)
        entry = self._entry(key, lambda: why_not_capturable(model, x, None, None, training=False))
        if isinstance(entry, _Plan):
            entry.replay(x, None, None, 0.0, 1)
            return _copied(entry.preds)
        if isinstance(entry, str):
            return model._eager_predict_step(x)
        forward = lambda x, y, sample_weight: (None, model._eager_predict_step(x))  # noqa: E731
        if len(entry) < RECORDINGS:
            return _copied(self._record(key, entry, x, None, None, forward).preds)
        plan = self._checked_plan(key, entry, [])
        if plan is None:
            return model._eager_predict_step(x)
        return self._check_forward(key, plan, x, None, None, forward)[1]

    def _entry(self, key, why_not):
        """The plan of ``key``, its recordings so far (a list, started here), or why it stays eager."""
        entry = self.plans.get(key)
        if isinstance(entry, _Plan) and entry.identity != _identity(self.model):
            entry = self.plans[key] = []  # a weight or slot array was replaced: the plan would use the old one
        if entry is None:
            reason = why_not()
            if reason is not None:
                self._stay_eager(key, reason)
                return reason
            if len(self.plans) >= MAX_PLANS:
                self.plans.pop(next(iter(self.plans)))
            entry = self.plans[key] = []
        if isinstance(entry, list) and entry and entry[0].identity != _identity(self.model):
            entry.clear()  # arrays replaced between recordings: start again
        return entry

    def _record(self, key, recordings: list, x, y, sample_weight, eager_step) -> _Recording:
        recording = _Recording(self.model, x, y, sample_weight, eager_step)
        if isinstance(recording.flow, _Refused):
            self._stay_eager(key, str(recording.flow))
        else:
            recordings.append(recording)
        return recording

    def _checked_plan(self, key, recordings: list, params: list):
        """The plan of the last recording once the last two agree, else None (``key`` then stays eager)."""
        try:
            return _Plan(recordings[-1], _compare(*recordings[-2:]), params)
        except _Refused as refused:
            self._stay_eager(key, str(refused))
            return None

    def _check_forward(self, key, plan: _Plan, x, y, sample_weight, eager_step) -> tuple:
        """A forward pass (evaluate's, predict's) run eagerly, then replayed on the same batch: the plan is
        kept when the loss and outputs agree bit for bit. Returns the eager (loss, predictions)."""
        loss, preds = eager_step(x, y, sample_weight)
        eager = [np.array(a, copy=True) for a in ([] if loss is None else [loss.data]) + _leaves(preds)]
        try:
            plan.replay(x, y, sample_weight, 0.0, 1)
            replayed = ([] if plan.loss is None else [plan.loss]) + _leaves(plan.preds)
            replayed_right = _all_equal(replayed, eager)
        except _OutOfRange:
            replayed_right = False
        if replayed_right:
            self.plans[key] = plan
        else:
            self._stay_eager(key, "a replay of the recorded forward pass did not give the eager loss and outputs")
        return loss, preds

    def _check(self, key, recordings: list, x, y, sample_weight) -> dict:
        """Build the plan from the last recording, then check it on this batch against the eager step."""
        model, optimizer = self.model, self.model.optimizer
        plan = self._checked_plan(key, recordings, optimizer.params)
        if plan is None:
            return model._eager_train_step(x, y, sample_weight)
        state = _state_arrays(model)
        before = [a.copy() for a in state]
        lr, step = optimizer.learning_rate, optimizer.iterations + 1
        with _seeds_drawn() as seeds:
            loss, preds = model._optimizer_step(x, y, sample_weight)
        eager = [a.copy() for a in state] + [np.array(loss.data, copy=True)]
        for a, saved in zip(state, before):
            a[...] = saved
        try:
            plan.replay(x, y, sample_weight, lr, step, seeds)
        except _OutOfRange:
            replayed_right = False
        else:
            replayed_right = _all_equal(state + [plan.loss], eager)
        if not replayed_right:
            for a, value in zip(state, eager):
                a[...] = value
            self._stay_eager(key, "a replay of the recorded step did not give the eager step's weights")
            return self._logs(x, y, sample_weight, loss.data, preds)
        self.plans[key] = plan
        return self._logs(x, y, sample_weight, plan.loss, plan.preds)

    def _logs(self, x, y, sample_weight, loss, preds) -> dict:
        return {"loss": float(loss), **self.model.compute_metrics(x, y, preds, sample_weight)}

    def _key(self, x, y, sample_weight) -> tuple:
        """What a plan depends on beyond the values in the arrays it reads."""
        model, optimizer = self.model, self.model.optimizer
        return (
            "fit",
            _layout(x),
            _layout(y),
            _layout(sample_weight),
            model.training,
            id(optimizer),
            tuple(id(p) for p in optimizer.params),
            _hyperparameters(optimizer),
        )

    def _stay_eager(self, key, reason: str) -> None:
        self.plans[key] = reason
        if reason not in self.warned:
            self.warned.add(reason)
            warnings.warn(
                f"[{self.model.name}] jit_compile=True: these steps run eagerly, not replayed: {reason}",
                RuntimeWarning,
                stacklevel=5,
            )

    def profile(self, kind: str = "fit", repeats: int = 10) -> list:
        """Where a replayed step's time goes: (op, seconds per step) of each kernel call of the first
        ``kind`` ("fit" or "predict") plan, in order, the median of ``repeats`` timed replays. A fit plan
        replayed here trains: the optimizer steps on the plan's last batch ``repeats`` times (and dropout
        draws its seeds)."""
        plan = next((e for k, e in self.plans.items() if k[0] == kind and isinstance(e, _Plan)), None)
        if plan is None:
            raise ValueError(f"[{self.model.name}] profile: no replayed {kind!r} step yet")
        optimizer = self.model.optimizer if kind == "fit" else None
        runs = []
        for _ in range(repeats):
            lr, step = (optimizer.learning_rate, optimizer.iterations + 1) if optimizer else (0.0, 1)
            seeds = [utils.next_seed() for _ in range(plan.recording.plan.seed_count)]
            runs.append(plan.recording.plan.run_timed(lr, step, seeds))
            if optimizer:
                optimizer.iterations += 1
        return [(op, float(np.median(times))) for op, times in zip(plan.recording.plan.ops, zip(*runs))]

    def status(self) -> list:
        """("fit", "evaluate" or "predict", batch shape, "replayed" / "recording" / why it stays eager) per
        step seen."""
        out = []
        for key, entry in self.plans.items():
            state = "replayed" if isinstance(entry, _Plan) else entry if isinstance(entry, str) else "recording"
            out.append((key[0], key[1][1] if len(key[1]) > 1 else None, state))
        return out


def _layout(a):
    return None if a is None else (type(a), a.shape, a.dtype.str) if isinstance(a, np.ndarray) else (type(a),)


def _identity(model) -> tuple:
    """The layers a plan ran, their modes, the arrays it reads and writes in place across steps and which
    weights train: a replay must find the same (a layer added or switched to inference, a weight array
    replaced or frozen: record again). Other attributes of a layer changed after recording are not seen,
    as in Keras' compiled functions: compile again."""
    tree = model._layer_tree()
    weights = [w for layer in tree for w in layer._weights]
    slots = model.optimizer._state.values() if model.optimizer is not None else ()
    return (
        tuple((id(layer), layer.training) for layer in tree)
        + tuple((id(w.data), w.requires_grad) for w in weights)
        + tuple(map(id, slots))
    )


def _all_equal(arrays: list, others: list) -> bool:
    return len(arrays) == len(others) and all(np.array_equal(a, b, equal_nan=True) for a, b in zip(arrays, others))


def _hyperparameters(optimizer) -> tuple:
    """Every setting of the optimizer a recorded update keeps (the learning rate is passed at each replay)."""
    config = optimizer.get_config()
    config.pop("learning_rate", None)
    pattern = optimizer._no_decay_pattern
    return (tuple(sorted(config.items())), frozenset(optimizer._no_decay_ids), pattern and pattern.pattern)


def _state_arrays(model) -> list:
    """Every array a step may change: the weights (trainable or not) and the optimizer's slots."""
    slots = model.optimizer._state.values() if model.optimizer is not None else ()
    return [w.data for w in model.weights] + list(slots)


def why_not_capturable(model, x, y, sample_weight, training: bool = True) -> str | None:
    """Why a model's step (a training step, or predict's forward pass) cannot be recorded at all, or None
    (whether its ops replay is checked later)."""
    from ranvier.distributed.strategy import Strategy

    if not all(a is None or type(a) is np.ndarray for a in (x, y, sample_weight)):
        return "steps are replayed on the CPU, for one input array and one target array"
    if type(model.distribute) is not Strategy:
        return "a data-parallel step reduces gradients between ranks while backward runs"
    if training and _backward_observers:
        return "a gradient observer is registered"
    optimizer = model.optimizer
    if training and (optimizer.clipnorm or optimizer.clipvalue or optimizer.global_clipnorm):
        return "gradient clipping is computed in Python"
    kind = type(optimizer)
    if training and (kind.__module__ != "ranvier.optimizers" or kind.__name__ not in ONE_KERNEL_UPDATES):
        return f"optimizer {kind.__name__} is not one whose update is its kernel alone"
    if training and kind.__name__ in DECAY_IN_PYTHON and optimizer.weight_decay:
        return f"{kind.__name__}'s weight decay is applied in Python, before its kernel"
    for layer in model._layer_tree()[1:]:
        name = type(layer).__name__
        if name not in CAPTURABLE_LAYERS:
            return f"layer {layer.name!r} ({name}) keeps state or runs code outside the kernels"
    for w in model.weights if training else ():
        if getattr(w, "constraint", None) is not None:
            return f"weight {w.name!r} has a constraint, applied in Python after each update"
    return None
