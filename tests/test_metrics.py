"""Stateful metrics: each against values computed by hand in NumPy (with sample weights), against Keras 3
on random data (when keras and torch are installed), and as fit/evaluate log them (epoch-level results)."""

import os

import numpy as np
import pytest

import ranvier
from ranvier import metrics
from ranvier.layers import Dense

RNG = np.random.default_rng(0)


def random_case(n=41, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    probs = rng.random((n, classes)).astype(np.float32)
    probs /= probs.sum(axis=1, keepdims=True)
    return {
        "binary_true": rng.integers(0, 2, (n, 1)).astype(np.float32),
        "binary_pred": rng.random((n, 1)).astype(np.float32),
        "labels": labels,
        "onehot": np.eye(classes, dtype=np.float32)[labels],
        "probs": probs,
        "multilabel": rng.integers(0, 2, (n, classes)).astype(np.float32),
        "weights": rng.uniform(0, 2, n).astype(np.float32),
    }


def update_in_two_batches(metric, y_true, y_pred, weights=None):
    for part in (slice(0, 17), slice(17, None)):
        metric.update_state(y_true[part], y_pred[part], None if weights is None else weights[part])
    return metric.result()


# ---- by hand -----------------------------------------------------------------------------------------
def test_precision_and_recall_by_hand_with_weights():
    y_true = np.array([1, 0, 1, 1, 0, 0], np.float32)
    y_pred = np.array([0.9, 0.8, 0.2, 0.6, 0.4, 0.5], np.float32)
    w = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0], np.float32)
    positive, predicted = y_true == 1, y_pred > 0.5
    tp, fp, fn = (
        np.sum(w * (a & b)) for a, b in ((positive, predicted), (~positive, predicted), (positive, ~predicted))
    )
    assert update_in_two_batches(metrics.Precision(), y_true, y_pred, w) == pytest.approx(tp / (tp + fp))
    assert update_in_two_batches(metrics.Recall(), y_true, y_pred, w) == pytest.approx(tp / (tp + fn))
    several = metrics.Precision(thresholds=[0.1, 0.85])(y_true, y_pred)
    np.testing.assert_allclose(several, [3 / 6, 1 / 1])
    assert metrics.Precision()(np.zeros(3), np.zeros(3)) == 0.0  # nothing predicted positive: 0, as Keras


def test_auc_by_hand_matches_the_exact_area():
    y_true = np.array([0, 0, 1, 1], np.float32)
    y_pred = np.array([0.1, 0.4, 0.35, 0.8], np.float32)
    assert metrics.AUC()(y_true, y_pred) == pytest.approx(0.75)  # scores apart by more than 1/199: exact
    case = random_case(400)
    scores, labels = case["binary_pred"][:, 0], case["binary_true"][:, 0]
    pos, neg = scores[labels == 1], scores[labels == 0]
    exact = np.mean(pos[:, None] > neg[None, :])  # Mann-Whitney: P(score of a positive > of a negative)
    assert metrics.AUC(num_thresholds=20001)(labels, scores) == pytest.approx(exact, abs=2e-3)
    assert metrics.AUC(curve="PR")(np.array([0, 1, 1]), np.array([0.1, 0.7, 0.9])) == pytest.approx(1.0)


def test_f1_score_by_hand():
    case = random_case()
    y, p = case["onehot"], case["probs"]
    predicted = (p == p.max(axis=1, keepdims=True)).astype(np.float64)
    tp, fp, fn = (predicted * y).sum(0), (predicted * (1 - y)).sum(0), ((1 - predicted) * y).sum(0)
    per_class = 2 * tp / (2 * tp + fp + fn)
    np.testing.assert_allclose(metrics.F1Score()(y, p), per_class, rtol=1e-5)
    assert metrics.F1Score(average="macro")(y, p) == pytest.approx(per_class.mean(), rel=1e-5)
    support = y.sum(0)
    assert metrics.F1Score(average="weighted")(y, p) == pytest.approx(
        np.sum(per_class * support) / support.sum(), rel=1e-5
    )
    micro = 2 * tp.sum() / (2 * tp.sum() + fp.sum() + fn.sum())
    assert metrics.F1Score(average="micro")(y, p) == pytest.approx(micro, rel=1e-5)


def test_mean_metrics_by_hand_with_weights():
    case = random_case()
    w = case["weights"]
    labels, onehot, probs = case["labels"], case["onehot"], case["probs"]
    top2 = np.argsort(-probs, axis=1)[:, :2]
    in_top2 = np.any(top2 == labels[:, None], axis=1)
    expected = {
        metrics.SparseTopKCategoricalAccuracy(k=2): (labels, in_top2),
        metrics.TopKCategoricalAccuracy(k=2): (onehot, in_top2),
        metrics.CategoricalAccuracy(): (onehot, probs.argmax(1) == labels),
        metrics.SparseCategoricalAccuracy(): (labels, probs.argmax(1) == labels),
        metrics.MeanSquaredError(): (onehot, np.mean((onehot - probs) ** 2, axis=1)),
        metrics.MeanAbsoluteError(): (onehot, np.mean(np.abs(onehot - probs), axis=1)),
    }
    for metric, (y_true, per_sample) in expected.items():
        got = update_in_two_batches(metric, y_true, probs, w)
        assert got == pytest.approx(np.sum(per_sample * w) / np.sum(w), rel=1e-6), metric
        metric.reset_state()
        assert metric.result() == 0.0
        assert update_in_two_batches(metric, y_true, probs) == pytest.approx(np.mean(per_sample), rel=1e-6)
    binary = metrics.BinaryAccuracy()
    got = update_in_two_batches(binary, case["binary_true"][:, 0], case["binary_pred"], w)
    hits = (case["binary_pred"][:, 0] > 0.5) == case["binary_true"][:, 0]
    assert got == pytest.approx(np.sum(hits * w) / np.sum(w))


def test_nan_predictions_stay_nan():
    assert np.isnan(metrics.MeanSquaredError()(np.ones((2, 1)), np.array([[np.nan], [1.0]])))


def test_names_and_errors():
    for name in ("auc", "AUC", "precision", "recall", "f1_score", "mse", "mean_absolute_error", "accuracy"):
        assert metrics.get(name).name == name or metrics.get(name).name == {"AUC": "auc"}[name]
    with pytest.raises(ValueError, match=r"\[compile\] unknown metric 'roc'; known: accuracy, auc"):
        metrics.get("roc")
    with pytest.raises(ValueError, match=r"\[F1Score\] average must be None, 'micro', 'macro' or 'weighted'"):
        metrics.F1Score(average="samples")
    with pytest.raises(ValueError, match=r"\[AUC\] curve must be 'ROC' or 'PR'"):
        metrics.AUC(curve="DET")
    with pytest.raises(ValueError, match=r"\[Precision\] y_true of shape \(3,\) does not match y_pred"):
        metrics.Precision()(np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"\[compile\] metric names must be unique"):
        ranvier.Sequential([Dense(1, input_shape=(2,))]).compile(loss="mse", metrics=["mse", "mse"])


# ---- in fit and evaluate -----------------------------------------------------------------------------
def frozen_binary_model():
    """SGD with learning rate 0: the predictions do not move, so an epoch's metrics are those of predict."""
    ranvier.utils.set_seed(3)
    model = ranvier.Sequential([Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile(
        optimizer=ranvier.optimizers.SGD(learning_rate=0.0),
        loss="binary_crossentropy",
        metrics=["accuracy", "auc", metrics.Precision(), metrics.Recall(name="r")],
    )
    return model


def test_fit_logs_epoch_level_results_not_a_mean_of_batches():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((30, 4)).astype(np.float32), rng.integers(0, 2, 30).astype(np.float32)
    w = rng.uniform(0, 2, 30).astype(np.float32)
    model = frozen_binary_model()
    pred = model.predict(x, verbose=0)
    history = model.fit(x, y, batch_size=7, epochs=2, shuffle=False, sample_weight=w, verbose=0).history
    assert set(history) == {"loss", "accuracy", "auc", "precision", "r"}
    whole = {
        "auc": metrics.AUC()(y, pred, w),
        "precision": metrics.Precision()(y, pred, w),
        "r": metrics.Recall()(y, pred, w),
        "accuracy": metrics.BinaryAccuracy()(y, pred, w),
    }
    batches = [metrics.Precision()(y[i : i + 7], pred[i : i + 7], w[i : i + 7]) for i in range(0, 30, 7)]
    assert whole["precision"] != pytest.approx(np.mean(batches))  # the test can tell the two apart
    for key, value in whole.items():
        np.testing.assert_allclose(history[key], [value, value], rtol=1e-6)
    logs = model.evaluate(x, y, batch_size=4, sample_weight=w, return_dict=True, verbose=0)
    for key, value in whole.items():
        assert logs[key] == pytest.approx(value, rel=1e-6)  # reset before evaluate: not mixed with fit's


def test_per_class_f1_in_fit_logs_and_progress(capsys):
    rng = np.random.default_rng(2)
    x, labels = rng.standard_normal((12, 4)).astype(np.float32), rng.integers(0, 3, 12)
    model = ranvier.Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=[metrics.F1Score()])
    history = model.fit(x, np.eye(3, dtype=np.float32)[labels], epochs=1, verbose=2).history
    assert history["f1_score"][0].shape == (3,)
    assert "f1_score: [" in capsys.readouterr().out


# ---- against Keras 3 ---------------------------------------------------------------------------------
KERAS_CASES = [
    ("Precision", {}, "binary_true", "binary_pred"),
    ("Recall", {}, "binary_true", "binary_pred"),
    ("Precision", {"thresholds": [0.3, 0.7]}, "binary_true", "binary_pred"),
    ("Precision", {"class_id": 2}, "onehot", "probs"),
    ("Recall", {"top_k": 2}, "onehot", "probs"),
    ("AUC", {}, "binary_true", "binary_pred"),
    ("AUC", {"curve": "PR"}, "binary_true", "binary_pred"),
    ("AUC", {"num_thresholds": 17, "summation_method": "minoring"}, "binary_true", "binary_pred"),
    ("AUC", {"multi_label": True}, "multilabel", "probs"),
    ("AUC", {"curve": "PR", "multi_label": True}, "multilabel", "probs"),
    ("F1Score", {}, "onehot", "probs"),
    ("F1Score", {"average": "micro"}, "onehot", "probs"),
    ("F1Score", {"average": "macro", "threshold": 0.3}, "onehot", "probs"),
    ("F1Score", {"average": "weighted"}, "onehot", "probs"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot", "probs"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "labels", "probs"),
    ("MeanSquaredError", {}, "onehot", "probs"),
    ("MeanAbsoluteError", {}, "onehot", "probs"),
    ("BinaryAccuracy", {}, "binary_true", "binary_pred"),
    ("CategoricalAccuracy", {}, "onehot", "probs"),
    ("SparseCategoricalAccuracy", {}, "labels", "probs"),
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name,kwargs,true_key,pred_key", KERAS_CASES)
def test_matches_keras(name, kwargs, true_key, pred_key, weighted):
    pytest.importorskip("torch")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    case = random_case(seed=7)
    weights = case["weights"] if weighted else None
    theirs = getattr(keras.metrics, name)(**kwargs)
    ours = getattr(metrics, name)(**kwargs)
    for part in (slice(0, 17), slice(17, None)):
        w = None if weights is None else weights[part]
        theirs.update_state(case[true_key][part], case[pred_key][part], w)
        ours.update_state(case[true_key][part], case[pred_key][part], w)
    np.testing.assert_allclose(ours.result(), np.asarray(theirs.result()), rtol=1e-5, atol=1e-6)


def test_compiled_metrics_survive_save_and_load(tmp_path):
    model = frozen_binary_model()
    model.fit(np.ones((4, 4), np.float32), np.array([0, 1, 1, 0], np.float32), verbose=0)
    model.save(tmp_path / "m.safetensors")
    loaded = ranvier.load_model(tmp_path / "m.safetensors")
    assert [type(m).__name__ for m in loaded.metrics] == [type(m).__name__ for m in model.metrics]
    assert [m.name for m in loaded.metrics] == ["accuracy", "auc", "precision", "r"]
    model.compile(loss="mse", metrics=[metrics.F1Score(average="macro", threshold=0.4), metrics.AUC(curve="PR")])
    model.save(tmp_path / "m.safetensors")
    loaded = ranvier.load_model(tmp_path / "m.safetensors")
    assert [m.get_config() for m in loaded.metrics] == [m.get_config() for m in model.metrics]
