"""Metrics, Keras 3 style: stateful objects updated batch by batch, read at the end of an epoch.

    m = ranvier.metrics.AUC()
    m.update_state(y_true, y_pred, sample_weight=None)   # any number of times
    m.result()                                           # over everything seen since reset_state()

``fit`` and ``evaluate`` reset each compiled metric at the start of an epoch,
update it on every batch (with the batch's sample weights) and log
``result()``: an epoch's precision or AUC is computed from the whole epoch's
counts, not averaged over batches. States are sums, so the ranks of a
data-parallel fit add theirs together exactly (``sum_states``). States are
kept on the host in float64; the functions below (Keras' names) return the
batch's mean as a float.
"""

from __future__ import annotations

import re

import numpy as np

from ranvier.tensor import Tensor

EPSILON = 1e-7  # Keras' backend.epsilon()


def _np(a) -> np.ndarray:
    if isinstance(a, Tensor):
        a = a.data
    return a.get() if hasattr(a, "get") else np.asarray(a)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name).lower()


def _same_rank(y_true, y_pred):
    """Targets (N,) against predictions (N, 1) get the trailing axis (and the reverse), as Keras does."""
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    elif y_pred.ndim == y_true.ndim - 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


def _weights(sample_weight, values: np.ndarray, metric: str) -> np.ndarray:
    """Sample weights broadcast to ``values`` (one per sample, or one per value)."""
    if sample_weight is None:
        return np.ones(values.shape, np.float64)
    w = _np(sample_weight).astype(np.float64)
    if w.ndim > values.ndim and w.shape[-1] == 1:
        w = w[..., 0]
    if w.ndim < values.ndim:
        w = w.reshape(w.shape + (1,) * (values.ndim - w.ndim))
    try:
        return np.broadcast_to(w, values.shape)
    except ValueError:
        raise ValueError(
            f"[{metric}] sample_weight of shape {w.shape} does not fit the batch's values of shape {values.shape}"
        ) from None


# ---- per-sample functions (Keras' formulas) -------------------------------------------------------
def binary_matches(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    y_pred = _np(y_pred)
    y_true = _same_rank(_np(y_true), y_pred)
    return np.mean(y_true == (y_pred > threshold).astype(y_true.dtype), axis=-1)


def categorical_matches(y_true, y_pred) -> np.ndarray:
    return (np.argmax(_np(y_true), axis=-1) == np.argmax(_np(y_pred), axis=-1)).astype(np.float64)


def sparse_categorical_matches(y_true, y_pred) -> np.ndarray:
    y_true, y_pred = _np(y_true), _np(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (np.argmax(y_pred, axis=-1) == y_true.astype(np.int64)).astype(np.float64)


def _in_top_k(labels: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Whether each label's score is among the k largest (a tie with the k-th counts, as keras.ops.in_top_k)."""
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    labels = labels.reshape(-1).astype(np.int64)
    if k >= scores.shape[-1]:
        return np.ones(labels.shape, np.float64)
    kth = np.partition(scores, -k, axis=-1)[:, -k]
    return (scores[np.arange(len(labels)), labels] >= kth).astype(np.float64)


def top_k_matches(y_true, y_pred, k: int = 5) -> np.ndarray:
    y_true, y_pred = _np(y_true), _np(y_pred)
    labels = np.argmax(y_true, axis=-1)
    return _in_top_k(labels, y_pred, k).reshape(labels.shape)


def sparse_top_k_matches(y_true, y_pred, k: int = 5) -> np.ndarray:
    y_true, y_pred = _np(y_true), _np(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return _in_top_k(y_true, y_pred, k).reshape(y_true.shape)


def squared_errors(y_true, y_pred) -> np.ndarray:
    y_pred = _np(y_pred).astype(np.float64)
    return np.mean((_same_rank(_np(y_true), y_pred) - y_pred) ** 2, axis=-1)


def absolute_errors(y_true, y_pred) -> np.ndarray:
    y_pred = _np(y_pred).astype(np.float64)
    return np.mean(np.abs(_same_rank(_np(y_true), y_pred) - y_pred), axis=-1)


# ---- the batch-mean functions ranvier has always had ------------------------------------------------
def sparse_categorical_accuracy(y_true, y_pred) -> float:
    return float(np.mean(sparse_categorical_matches(y_true, y_pred)))


def categorical_accuracy(y_true, y_pred) -> float:
    return float(np.mean(categorical_matches(y_true, y_pred)))


def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> float:
    return float(np.mean(binary_matches(y_true, y_pred, threshold)))


def mean_absolute_error(y_true, y_pred) -> float:
    return float(np.mean(absolute_errors(y_true, y_pred)))


def mean_squared_error(y_true, y_pred) -> float:
    return float(np.mean(squared_errors(y_true, y_pred)))


# ---- the stateful metrics ---------------------------------------------------------------------------
class Metric:
    """Base: subclasses declare their state arrays (sums) with ``_add_state`` and implement
    ``update_state`` and ``result``."""

    def __init__(self, name: str | None = None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype
        self._state_names: list = []

    def _add_state(self, name: str, shape=()) -> None:
        self._state_names.append(name)
        setattr(self, name, np.zeros(shape, np.float64))

    @property
    def variables(self) -> list:
        return [getattr(self, n) for n in self._state_names]

    def reset_state(self) -> None:
        for n in self._state_names:
            value = getattr(self, n)
            if value is not None:
                setattr(self, n, np.zeros_like(value))

    def sum_states(self, states: list) -> None:
        """Set the state to the sum of several copies' ``variables`` (every rank's counts of a data-parallel
        epoch, this one's included); a copy that never saw a batch may hold None."""
        for i, n in enumerate(self._state_names):
            parts = [s[i] for s in states if s[i] is not None]
            if parts:
                setattr(self, n, np.sum(parts, axis=0))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Update with one batch and return the result so far (Keras)."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _scalar(value):
    value = np.asarray(value, np.float64)
    return float(value) if value.ndim == 0 else value


class Mean(Metric):
    """The weighted mean of the values given."""

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(name, dtype)
        self._add_state("total")
        self._add_state("count")

    def _add_values(self, values, sample_weight) -> None:
        values = np.asarray(values, np.float64)
        w = _weights(sample_weight, values, type(self).__name__)
        self.total = self.total + np.sum(values * w)
        self.count = self.count + np.sum(w)

    def update_state(self, values, sample_weight=None) -> None:
        self._add_values(_np(values), sample_weight)

    def result(self):
        return 0.0 if self.count == 0 else _scalar(self.total / self.count)  # 0 when empty: Keras' divide_no_nan


class MeanMetricWrapper(Mean):
    """The weighted mean of ``fn(y_true, y_pred, **kwargs)``'s per-sample values. A function that returns one
    number for the batch counts as that number for every sample of the batch."""

    def __init__(self, fn, name: str | None = None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "metric"), dtype)
        self._fn, self._fn_kwargs = fn, kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        values = np.asarray(_np(self._fn(y_true, y_pred, **self._fn_kwargs)), np.float64)
        if values.ndim == 0:
            values = np.full(len(_np(y_pred)), float(values))
        self._add_values(values, sample_weight)

    def get_config(self) -> dict:
        return {**super().get_config(), **self._fn_kwargs}


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "binary_accuracy", dtype=None, threshold: float = 0.5):
        super().__init__(binary_matches, name, dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "categorical_accuracy", dtype=None):
        super().__init__(categorical_matches, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_matches, name, dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_matches, name, dtype, k=_positive_int(k, "TopKCategoricalAccuracy", "k"))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_matches, name, dtype, k=_positive_int(k, "SparseTopKCategoricalAccuracy", "k"))


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_squared_error", dtype=None):
        super().__init__(squared_errors, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_absolute_error", dtype=None):
        super().__init__(absolute_errors, name, dtype)


class LossMatchedAccuracy(MeanMetricWrapper):
    """What ``metrics=["accuracy"]`` means, chosen at the first batch as Keras does: binary for binary
    cross-entropy or one output unit, sparse for integer labels (or sparse cross-entropy), else categorical."""

    def __init__(self, name: str = "accuracy", loss_name: str = "", dtype=None):
        super().__init__(self._pick, name, dtype)
        self.loss_name = loss_name

    def _pick(self, y_true, y_pred):
        y_true, y_pred = _np(y_true), _np(y_pred)
        if self.loss_name == "binary_crossentropy" or y_pred.shape[-1] == 1:
            return binary_matches(y_true, y_pred)
        if self.loss_name == "sparse_categorical_crossentropy" or y_true.ndim == 1 or y_true.shape[-1] == 1:
            return sparse_categorical_matches(y_true, y_pred)
        return categorical_matches(y_true, y_pred)


def _positive_int(value, metric: str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"[{metric}] {what} must be an integer >= 1, got {value!r}")
    return int(value)


def _thresholds(thresholds, metric: str, default: float = 0.5):
    """(array of thresholds, whether one was given as a plain number)."""
    single = thresholds is None or np.ndim(thresholds) == 0
    if thresholds is None:
        return np.array([default]), True
    values = np.atleast_1d(np.asarray(thresholds, np.float64))
    if values.ndim != 1 or not np.all((values >= 0) & (values <= 1)):
        raise ValueError(f"[{metric}] thresholds must be numbers in [0, 1], got {thresholds!r}")
    return values, single


def _keep_top_k(y_pred: np.ndarray, k: int) -> np.ndarray:
    """Scores outside each row's k largest become -inf, as Keras' _filter_top_k."""
    if k >= y_pred.shape[-1]:
        return y_pred
    order = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    kept = np.full_like(y_pred, -np.inf)
    np.put_along_axis(kept, order, np.take_along_axis(y_pred, order, axis=-1), axis=-1)
    return kept


def _confusion(y_true, y_pred, sample_weight, thresholds, metric: str, class_id=None, top_k=None, per_label=False):
    """Weighted (tp, fp, tn, fn) for predictions > each threshold; labels count as positive when non-zero.
    Shapes (T,), or (T, labels) with ``per_label``."""
    y_pred = _np(y_pred).astype(np.float64)
    y_true = _same_rank(_np(y_true), y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"[{metric}] y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}")
    w = _weights(sample_weight, y_pred, metric)
    if top_k is not None:
        y_pred = _keep_top_k(y_pred, top_k)
    if class_id is not None:
        y_true, y_pred, w = y_true[..., class_id], y_pred[..., class_id], w[..., class_id]
    if per_label:
        y_true, y_pred, w = (a.reshape(-1, a.shape[-1]) for a in (y_true, y_pred, w))
    else:
        y_true, y_pred, w = (a.reshape(-1, 1) for a in (y_true, y_pred, w))
    positive = (y_true != 0)[None]
    predicted = y_pred[None] > thresholds.reshape(-1, 1, 1)
    w = w[None]
    counts = (
        np.sum(w * (predicted & positive), axis=1),
        np.sum(w * (predicted & ~positive), axis=1),
        np.sum(w * (~predicted & ~positive), axis=1),
        np.sum(w * (~predicted & positive), axis=1),
    )
    return counts if per_label else tuple(c[:, 0] for c in counts)


def _divide_no_nan(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


class _ConfusionMetric(Metric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        metric = type(self).__name__
        self.top_k = None if top_k is None else _positive_int(top_k, metric, "top_k")
        # Keras: 0.5 by default, but with top_k every one of the k best counts as predicted positive
        self._default_thresholds = thresholds is None
        self.thresholds, self._single = _thresholds(thresholds, metric, 0.5 if top_k is None else -np.inf)
        self.class_id = None if class_id is None else int(class_id)
        self._add_state("true_positives", len(self.thresholds))
        self._add_state("false_positives", len(self.thresholds))
        self._add_state("false_negatives", len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        tp, fp, _, fn = _confusion(
            y_true, y_pred, sample_weight, self.thresholds, type(self).__name__, self.class_id, self.top_k
        )
        self.true_positives = self.true_positives + tp
        self.false_positives = self.false_positives + fp
        self.false_negatives = self.false_negatives + fn

    def _out(self, values):
        return float(values[0]) if self._single else values

    def get_config(self) -> dict:
        thresholds = None if self._default_thresholds else self.thresholds.tolist()
        return {**super().get_config(), "thresholds": thresholds, "top_k": self.top_k, "class_id": self.class_id}


class Precision(_ConfusionMetric):
    """tp / (tp + fp) at ``thresholds`` (default 0.5; a list gives one value each), 0 when nothing is
    predicted positive. ``class_id`` picks one column, ``top_k`` counts only each row's k best (all of
    them positive unless thresholds are given)."""

    def result(self):
        return self._out(_divide_no_nan(self.true_positives, self.true_positives + self.false_positives))


class Recall(_ConfusionMetric):
    """tp / (tp + fn) at ``thresholds``, as Precision."""

    def result(self):
        return self._out(_divide_no_nan(self.true_positives, self.true_positives + self.false_negatives))


class AUC(Metric):
    """Area under the ROC (or PR) curve from counts at ``num_thresholds`` thresholds, Keras' defaults
    and formulas: thresholds evenly spaced in (0, 1) plus -1e-7 and 1 + 1e-7, trapezoids ("interpolation")
    for ROC and Davis & Goadrich's interpolation for PR; ``multi_label`` averages one AUC per column."""

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        dtype=None,
        thresholds=None,
        multi_label: bool = False,
        num_labels: int | None = None,
        label_weights=None,
        from_logits: bool = False,
    ):
        super().__init__(name or "auc", dtype)
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f"[AUC] curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f"[AUC] summation_method must be 'interpolation', 'minoring' or 'majoring', got {summation_method!r}"
            )
        self._given_thresholds = None if thresholds is None else sorted(float(t) for t in np.atleast_1d(thresholds))
        if thresholds is not None:
            inner = self._given_thresholds
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds < 2:
                raise ValueError(f"[AUC] num_thresholds must be an integer > 1, got {num_thresholds!r}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = np.array([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self.num_thresholds = len(self.thresholds)
        self.curve, self.summation_method = curve, summation_method
        self.multi_label, self.from_logits, self.num_labels = bool(multi_label), bool(from_logits), num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, np.float64)
        shape = (self.num_thresholds, num_labels) if multi_label and num_labels else (self.num_thresholds,)
        for n in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            self._add_state(n, shape)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_pred = _np(y_pred).astype(np.float64)
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred))
        counts = _confusion(y_true, y_pred, sample_weight, self.thresholds, "AUC", per_label=self.multi_label)
        for n, c in zip(("true_positives", "false_positives", "true_negatives", "false_negatives"), counts):
            mine = getattr(self, n)
            if mine.shape != c.shape:
                if mine.any():
                    raise ValueError(f"[AUC] y_pred has {c.shape[-1]} labels, earlier batches had {mine.shape[-1]}")
                mine = np.zeros_like(c)
            setattr(self, n, mine + c)

    def _average(self, by_label):
        if not self.multi_label:
            return float(by_label)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(_divide_no_nan(np.sum(by_label * self.label_weights), np.sum(self.label_weights)))

    def _interpolated_pr(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore"):
            log_ratio = np.log(np.where(ratio > 0, ratio, 1.0))
        increment = _divide_no_nan(slope * (dtp + intercept * log_ratio), np.maximum(tp[1:] + fn[1:], 0))
        return self._average(np.sum(increment, axis=0))

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr()
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._average(np.sum((x[:-1] - x[1:]) * heights, axis=0))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "thresholds": self._given_thresholds,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
            "from_logits": self.from_logits,
        }


class FBetaScore(Metric):
    """F-beta per class from one-hot (or multi-label) targets (N, C), Keras' formulas: predictions are the
    row's maximum when ``threshold`` is None, else those above it; ``average`` None (one score per
    class), "micro", "macro" or "weighted" (by each class's weighted count of true samples)."""

    def __init__(self, average=None, beta: float = 1.0, threshold=None, name: str = "fbeta_score", dtype=None):
        super().__init__(name, dtype)
        metric = type(self).__name__
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"[{metric}] average must be None, 'micro', 'macro' or 'weighted', got {average!r}")
        if not isinstance(beta, (int, float)) or isinstance(beta, bool) or beta <= 0:
            raise ValueError(f"[{metric}] beta must be a number > 0, got {beta!r}")
        if threshold is not None and not 0 < threshold <= 1:
            raise ValueError(f"[{metric}] threshold must be in (0, 1], got {threshold!r}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        for n in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"):
            self._state_names.append(n)
            setattr(self, n, None)  # shaped by the first batch (one per class, or one for micro)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        metric = type(self).__name__
        y_true, y_pred = _np(y_true).astype(np.float64), _np(y_pred).astype(np.float64)
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(
                f"[{metric}] y_true and y_pred must both be (samples, classes), got {y_true.shape} and {y_pred.shape}"
            )
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        w = _weights(sample_weight, y_pred, metric)
        axis = None if self.average == "micro" else 0
        sums = [
            np.sum(v * w, axis=axis)
            for v in (predicted * y_true, predicted * (1 - y_true), (1 - predicted) * y_true, y_true)
        ]
        for n, s in zip(("true_positives", "false_positives", "false_negatives", "intermediate_weights"), sums):
            mine = getattr(self, n)
            if mine is not None and mine.shape != s.shape:
                raise ValueError(f"[{metric}] y_pred has {y_pred.shape[-1]} classes, earlier batches had {mine.size}")
            setattr(self, n, s if mine is None else mine + s)

    def result(self):
        if self.true_positives is None:
            return 0.0
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta**2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            weights = self.intermediate_weights / (np.sum(self.intermediate_weights) + EPSILON)
            return float(np.sum(score * weights))
        if self.average is not None:
            return float(np.mean(score))
        return score

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    def __init__(self, average=None, threshold=None, name: str = "f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]  # always 1 (Keras leaves it out too)
        return config


_CLASSES = {
    cls.__name__: cls
    for cls in (
        AUC,
        BinaryAccuracy,
        CategoricalAccuracy,
        F1Score,
        FBetaScore,
        MeanAbsoluteError,
        MeanSquaredError,
        Precision,
        Recall,
        SparseCategoricalAccuracy,
        SparseTopKCategoricalAccuracy,
        TopKCategoricalAccuracy,
    )
}
_BY_NAME = {
    **{cls().name: cls for cls in _CLASSES.values()},
    **_CLASSES,
    "mse": MeanSquaredError,
    "mae": MeanAbsoluteError,
}


def get(metric, loss_name: str = "") -> Metric:
    """A fresh Metric from a Metric, a Keras name ("accuracy", "auc", "precision", "mse", "AUC", ...) or a
    function ``fn(y_true, y_pred)`` returning per-sample values or the batch's mean; "accuracy"/"acc"
    picks the variant that fits the loss, as Keras."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        if metric in ("accuracy", "acc"):
            return LossMatchedAccuracy(name=metric, loss_name=loss_name)
        if metric not in _BY_NAME:
            known = ", ".join(["accuracy", *sorted(n for n in _BY_NAME if n.islower())])
            raise ValueError(f"[compile] unknown metric {metric!r}; known: {known} (and the class names)")
        cls = _BY_NAME[metric]
        return cls(name=metric) if metric in ("mse", "mae") else cls()
    if callable(metric):
        return MeanMetricWrapper(metric, name=getattr(metric, "__name__", "metric"))
    raise TypeError(f"[compile] a metric must be a Metric, a name or a function, got {type(metric).__name__}")
