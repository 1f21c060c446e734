"""fit/evaluate/predict on every form of data Keras 3 takes, sample and class weights, steps_per_epoch,
validation_freq, the *_on_batch methods, progress output, and the errors for data that does not fit."""

import threading
import traceback
import warnings

import numpy as np
import pytest

import ranvier
from ranvier import callbacks, losses
from ranvier.data import Dataset, PyDataset
from ranvier.layers import Dense, Embedding, GlobalAveragePooling1D

N, FEATURES, CLASSES, BATCH = 22, 5, 3, 8


def data(n=N, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, FEATURES)).astype(np.float32), rng.integers(0, CLASSES, n)


def classifier(loss="sparse_categorical_crossentropy", activation="softmax", metrics=None):
    ranvier.utils.set_seed(1)
    model = ranvier.Sequential(
        [Dense(7, activation="tanh", input_shape=(FEATURES,)), Dense(CLASSES, activation=activation)]
    )
    model.compile(optimizer=ranvier.optimizers.SGD(learning_rate=0.1), loss=loss, metrics=metrics)
    return model


def array_fit_weights(x, y, epochs=2, **kwargs):
    model = classifier()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0, **kwargs)
    return model.get_weights()


def assert_same_weights(a, b):
    for u, v in zip(a, b, strict=True):
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-7)


def batches_of(x, y, sw=None, size=BATCH):
    for start in range(0, len(x), size):
        part = slice(start, start + size)
        yield (x[part], y[part]) if sw is None else (x[part], y[part], sw[part])


class Batches(PyDataset):
    """A PyDataset over arrays that records which thread loaded each batch and when."""

    def __init__(self, x, y, size=BATCH, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.size = x, y, size
        self.loaded_by: dict = {}
        self.calls: list = []
        self.epochs_ended = 0
        self.fail_at = None

    def __len__(self):
        return -(-len(self.x) // self.size)

    def __getitem__(self, i):
        self.calls.append(i)
        self.loaded_by[i] = threading.current_thread().name
        if i == self.fail_at:
            raise KeyError(f"batch {i} is broken")
        part = slice(i * self.size, (i + 1) * self.size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


# ---- every form of data trains as the same arrays do ---------------------------------------------------
def test_generator_matches_arrays():
    x, y = data()
    expected = array_fit_weights(x, y, epochs=1)
    model = classifier()
    model.fit(batches_of(x, y), epochs=1, verbose=0)
    assert_same_weights(model.get_weights(), expected)


def test_list_of_batches_and_dataset_match_arrays_over_epochs():
    x, y = data()
    expected = array_fit_weights(x, y, epochs=3)
    for source in (list(batches_of(x, y)), Dataset.from_tensor_slices((x, y)).batch(BATCH).prefetch(2)):
        model = classifier()
        history = model.fit(source, epochs=3, verbose=0)
        assert len(history.history["loss"]) == 3
        assert_same_weights(model.get_weights(), expected)


@pytest.mark.parametrize("workers", [0, 1, 3])
def test_py_dataset_matches_arrays(workers):
    x, y = data()
    expected = array_fit_weights(x, y, epochs=2)
    batches = Batches(x, y, workers=workers, max_queue_size=3)
    model = classifier()
    model.fit(batches, epochs=2, shuffle=False, verbose=0)
    assert_same_weights(model.get_weights(), expected)
    assert batches.epochs_ended == 2
    threads = set(batches.loaded_by.values())
    if workers:
        assert threads and all(t.startswith("ranvier-data") for t in threads), threads
    else:
        assert threads == {threading.main_thread().name}


def test_py_dataset_workers_load_ahead_of_the_training_step():
    """While the loop is held inside batch 0, the workers go on loading up to max_queue_size batches ahead."""
    x, y = data(40)
    batches = Batches(x, y, size=4, workers=2, max_queue_size=4)
    ahead = threading.Event()
    seen_while_held = []

    class Hold(callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                deadline = threading.Event()
                for _ in range(200):  # up to 10 s: the workers run on their own
                    if {1, 2, 3} <= set(batches.calls):
                        ahead.set()
                        break
                    deadline.wait(0.05)
                seen_while_held.extend(batches.calls)

    classifier().fit(batches, epochs=1, shuffle=False, verbose=0, callbacks=[Hold()])
    assert ahead.is_set(), seen_while_held
    assert max(seen_while_held) <= 4  # bounded by the queue: no more than max_queue_size ahead


def test_worker_exception_reaches_fit_with_its_traceback():
    x, y = data(40)
    batches = Batches(x, y, size=4, workers=2)
    batches.fail_at = 3
    with pytest.raises(KeyError, match="batch 3 is broken") as info:
        classifier().fit(batches, epochs=1, verbose=0)
    frames = "".join(traceback.format_tb(info.value.__traceback__))
    assert "in __getitem__" in frames and 'raise KeyError(f"batch {i} is broken")' in frames


def test_prefetch_thread_runs_the_pipeline_and_raises_its_error():
    from ranvier.data import prefetch

    x, y = data()
    producers = {threading.current_thread().name for _ in Dataset.from_tensor_slices((x, y)).batch(4)}
    assert producers == {threading.main_thread().name}

    def produce():
        for _ in range(3):
            yield threading.current_thread().name
        raise ZeroDivisionError("in the pipeline")

    names = []
    with pytest.raises(ZeroDivisionError, match="in the pipeline") as info:
        for name in prefetch.prefetch(produce(), 2):
            names.append(name)
    assert names == ["ranvier-data-prefetch"] * 3
    assert "produce" in "".join(traceback.format_tb(info.value.__traceback__))


def test_multi_input_list_and_dict_train_alike():
    class TwoInputs(ranvier.Model):
        def __init__(self):
            super().__init__()
            self.left, self.right, self.out = Dense(4), Dense(4), Dense(1)

        def call(self, inputs):
            a, b = (inputs["a"], inputs["b"]) if isinstance(inputs, dict) else inputs
            return self.out(self.left(a) + self.right(b))

    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((N, 3)), rng.standard_normal((N, 2)).astype(np.float32)
    target = (a[:, :1] - b[:, 1:]).astype(np.float32)
    results = []
    for x in ([a, b], {"a": a, "b": b}, "generator"):
        ranvier.utils.set_seed(4)
        model = TwoInputs()
        model.compile(optimizer=ranvier.optimizers.SGD(learning_rate=0.05), loss="mse")
        if x == "generator":
            model.fit(([a[i : i + 6], b[i : i + 6]], target[i : i + 6]) for i in range(0, N, 6))
        else:
            model.fit(x, target, batch_size=6, shuffle=False, verbose=0)
        results.append((model.get_weights(), model.predict({"a": a, "b": b}, verbose=0)))
        assert model.evaluate([a, b], target, verbose=0) > 0
    for weights, pred in results[1:]:
        assert_same_weights(weights, results[0][0])
        np.testing.assert_allclose(pred, results[0][1], rtol=1e-6)


def test_multi_output_targets_each_get_the_loss():
    class TwoOutputs(ranvier.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = Dense(1), Dense(2)

        def call(self, x):
            return [self.a(x), self.b(x)]

    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    ya, yb = np.ones((6, 1), np.float32), np.zeros((6, 2), np.float32)
    model = TwoOutputs()
    model.compile(optimizer="sgd", loss="mse")
    loss = model.evaluate(x, [ya, yb], verbose=0)
    pa, pb = model.predict(x, verbose=0)
    assert loss == pytest.approx(np.mean((pa - ya) ** 2) + np.mean((pb - yb) ** 2), rel=1e-5)


def test_torch_tensors_are_arrays_not_streams():
    torch = pytest.importorskip("torch")
    x, y = data()
    model = classifier()
    model.fit(torch.from_numpy(x), torch.from_numpy(y), batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    assert_same_weights(model.get_weights(), array_fit_weights(x, y))


def test_embedding_model_takes_integer_batches_from_a_generator():
    rng = np.random.default_rng(0)
    ids, labels = rng.integers(0, 20, (16, 4)), rng.integers(0, 2, 16).astype(np.float32)
    model = ranvier.Sequential([Embedding(20, 3), GlobalAveragePooling1D(), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(((ids[i : i + 4], labels[i : i + 4]) for i in range(0, 16, 4)), verbose=0)
    assert np.isfinite(history.history["loss"][0])


# ---- ranvier.data.Dataset ----------------------------------------------------------------------------
def test_dataset_shuffles_by_the_library_seed_and_drops_the_remainder():
    x = np.arange(10)
    ds = Dataset.from_tensor_slices({"x": x, "twice": 2 * x}).shuffle().batch(4, drop_remainder=True)
    assert len(ds) == 2
    ranvier.utils.set_seed(5)
    first = [b["x"] for b in ds]
    ranvier.utils.set_seed(5)
    again = [b["x"] for b in ds]
    assert [len(b) for b in first] == [4, 4]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert all(np.array_equal(b["twice"], 2 * b["x"]) for b in ds)
    assert len(set(np.concatenate(first))) == 8


def test_shuffled_dataset_trains_as_shuffled_arrays():
    """Both draw each epoch's order from ranvier.utils.rng() in the loop's thread, prefetching or not."""
    x, y = data()
    model = classifier()
    ranvier.utils.set_seed(9)
    model.fit(x, y, batch_size=BATCH, epochs=3, verbose=0)
    expected = model.get_weights()
    model = classifier()
    ranvier.utils.set_seed(9)
    model.fit(Dataset.from_tensor_slices((x, y)).shuffle().batch(BATCH).prefetch(), epochs=3, verbose=0)
    assert_same_weights(model.get_weights(), expected)


def test_dataset_seed_and_window_shuffle():
    x = np.arange(50)
    seeded = Dataset.from_tensor_slices(x).shuffle(seed=3)
    one, two = np.array(list(seeded)), np.array(list(seeded))
    assert sorted(one) == list(range(50)) and not np.array_equal(one, two)  # reshuffled each pass
    np.testing.assert_array_equal(one, np.array(list(Dataset.from_tensor_slices(x).shuffle(seed=3))))
    window = np.array(list(Dataset.from_tensor_slices(x).shuffle(buffer_size=5, seed=0)))
    assert sorted(window) == list(range(50))
    assert np.all(window[:10] < 15)  # a window of 5 cannot bring late samples early
    assert not np.array_equal(window, x)


def test_dataset_refuses_a_wrong_pipeline():
    x, y = data()
    with pytest.raises(ValueError, match=r"\[Dataset.from_tensor_slices\] every array needs the same number"):
        Dataset.from_tensor_slices((x, y[:-1]))
    with pytest.raises(ValueError, match=r"\[Dataset.shuffle\] shuffle the samples before batching"):
        Dataset.from_tensor_slices(x).batch(4).shuffle()
    with pytest.raises(ValueError, match=r"\[Dataset.batch\] batch_size must be an integer >= 1, got 0"):
        Dataset.from_tensor_slices(x).batch(0)
    with pytest.raises(ValueError, match=r"\[fit\] the Dataset yields single samples: call .batch"):
        classifier().fit(Dataset.from_tensor_slices((x, y)), verbose=0)


# ---- sample and class weights ------------------------------------------------------------------------
def sparse_ce(probs, y):
    return -np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1 - 1e-7))


def test_sample_weight_scales_each_sample_loss_keras_mean():
    """Keras 3 "sum_over_batch_size": sum(loss_i * w_i) / N, on the fused and the plain path."""
    x, y = data()
    w = np.random.default_rng(1).uniform(0, 3, N).astype(np.float32)
    for loss in ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy(from_logits=False)):
        model = classifier(loss=loss)
        probs = model.predict(x, verbose=0)
        got = model.evaluate(x, y, batch_size=N, sample_weight=w, verbose=0)
        assert got == pytest.approx(np.sum(sparse_ce(probs, y) * w) / N, rel=1e-5)
    model = classifier(loss="mse", activation=None)
    onehot = np.eye(CLASSES, dtype=np.float32)[y]
    pred = model.predict(x, verbose=0)
    got = model.evaluate(x, onehot, batch_size=N, sample_weight=w, verbose=0)
    assert got == pytest.approx(np.sum(np.mean((pred - onehot) ** 2, axis=1) * w) / N, rel=1e-5)


def test_weighted_loss_gradient_by_hand():
    rng = np.random.default_rng(2)
    pred = ranvier.tensor(rng.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    target, w = rng.standard_normal((4, 3)).astype(np.float32), np.array([0.0, 1.0, 2.0, 0.5], np.float32)
    loss = losses.MeanSquaredError()(target, pred, sample_weight=w)
    loss.backward()
    diff = pred.numpy() - target
    assert loss.item() == pytest.approx(np.sum(np.mean(diff**2, axis=1) * w) / 4, rel=1e-5)
    np.testing.assert_allclose(pred.grad, 2 * diff / 3 * w[:, None] / 4, rtol=1e-5, atol=1e-7)
    summed = losses.MeanSquaredError(reduction="sum")(target, pred, sample_weight=w)
    assert summed.item() == pytest.approx(np.sum(np.mean(diff**2, axis=1) * w), rel=1e-5)
    with pytest.raises(ValueError, match=r"\[MeanSquaredError\] sample_weight of shape \(3,\) does not fit"):
        losses.MeanSquaredError()(target, pred, sample_weight=w[:3])


def test_class_weight_is_the_matching_sample_weight():
    x, y = data()
    class_weight = {0: 0.5, 2: 3.0}  # class 1 missing: weighs 1, as Keras
    w = np.array([class_weight.get(c, 1.0) for c in y], np.float32)
    by_class = array_fit_weights(x, y, class_weight=class_weight)
    by_sample = array_fit_weights(x, y, sample_weight=w)
    assert_same_weights(by_class, by_sample)
    assert not np.allclose(by_class[0], array_fit_weights(x, y)[0])
    onehot = np.eye(CLASSES, dtype=np.float32)[y]
    model = classifier(loss="categorical_crossentropy")
    model.fit(x, onehot, batch_size=BATCH, epochs=2, shuffle=False, verbose=0, class_weight=class_weight)
    assert_same_weights(model.get_weights(), by_class)
    model = classifier()
    model.fit(batches_of(x, y, w), epochs=1, verbose=0)
    assert_same_weights(model.get_weights(), array_fit_weights(x, y, epochs=1, sample_weight=w))


# ---- steps and validation ----------------------------------------------------------------------------
def test_steps_per_epoch_goes_on_where_the_last_epoch_stopped():
    x, y = data(20)
    batches = Batches(x, y, size=4, workers=0)  # 5 batches
    model = classifier()
    with pytest.warns(UserWarning, match=r"\[fit\] the data ran out after 2 batch\(es\) of this epoch"):
        history = model.fit(batches, epochs=2, steps_per_epoch=3, shuffle=False, verbose=0)
    assert batches.calls == [0, 1, 2, 3, 4]
    assert model.optimizer.iterations == 5 and len(history.history["loss"]) == 2


def test_generator_runs_until_exhausted_then_stops_training():
    x, y = data()
    model = classifier()
    with pytest.warns(UserWarning, match=r"\[fit\] the data ran out after 0 batch\(es\)"):
        history = model.fit(batches_of(x, y), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1 and model.optimizer.iterations == 3


def test_generator_with_steps_per_epoch_spreads_over_epochs():
    x, y = data(24)

    def forever():
        while True:
            yield from batches_of(x, y)

    model = classifier()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = model.fit(forever(), epochs=4, steps_per_epoch=2, verbose=0)
    assert len(history.history["loss"]) == 4 and model.optimizer.iterations == 8


def test_validation_freq_int_and_list():
    x, y = data()
    for freq, validated in ((2, [2, 4]), ([1, 3], [1, 3])):

        class Record(callbacks.Callback):
            seen: list

            def on_train_begin(self, logs=None):
                self.seen = []

            def on_epoch_end(self, epoch, logs=None):
                if "val_loss" in logs:
                    self.seen.append(epoch + 1)

        record = Record()

        history = classifier().fit(
            x, y, epochs=4, validation_data=(x, y), validation_freq=freq, verbose=0, callbacks=[record]
        )
        assert record.seen == validated and len(history.history["val_loss"]) == len(validated)


def test_validation_steps_batch_size_and_weights():
    x, y = data()
    w = np.linspace(0, 2, N).astype(np.float32)
    model = classifier()
    history = model.fit(
        x, y, epochs=1, verbose=0, validation_data=(x, y, w), validation_batch_size=5, validation_steps=2
    )
    probs = model.predict(x[:10], verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(np.mean(sparse_ce(probs, y[:10]) * w[:10]), rel=1e-5)


def test_evaluate_and_predict_steps_and_callbacks():
    x, y = data()
    calls = []

    class Record(callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            calls.append(("test", batch))

        def on_predict_batch_end(self, batch, logs=None):
            calls.append(("predict", batch))

    model = classifier()
    model.evaluate(x, y, batch_size=4, steps=2, verbose=0, callbacks=[Record()])
    assert model.predict(x, batch_size=4, steps=3, verbose=0, callbacks=[Record()]).shape == (12, CLASSES)
    assert calls == [("test", 0), ("test", 1), ("predict", 0), ("predict", 1), ("predict", 2)]


# ---- one batch ---------------------------------------------------------------------------------------
def test_on_batch_methods():
    x, y = data()
    model = classifier(metrics=["accuracy"])
    reference = classifier(metrics=["accuracy"])
    reference.fit(x[:8], y[:8], batch_size=8, epochs=1, shuffle=False, verbose=0)
    loss, accuracy = model.train_on_batch(x[:8], y[:8])
    assert_same_weights(model.get_weights(), reference.get_weights())
    probs = model.predict_on_batch(x[:8])
    np.testing.assert_allclose(probs, model.predict(x[:8], verbose=0), rtol=1e-6)
    model.reset_metrics()
    logs = model.test_on_batch(x[:8], y[:8], return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert logs["loss"] == pytest.approx(np.mean(sparse_ce(probs, y[:8])), rel=1e-5)
    assert logs["accuracy"] == pytest.approx(np.mean(probs.argmax(1) == y[:8]))
    second = model.test_on_batch(x[8:16], y[8:16], sample_weight=np.ones(8), return_dict=True)
    both = model.predict(x[:16], verbose=0)
    assert second["loss"] == pytest.approx(np.mean(sparse_ce(both, y[:16])), rel=1e-5)  # running, as Keras 3
    before = model.get_weights()
    model.train_on_batch(x[:8], y[:8], class_weight={0: 0.0, 1: 0.0, 2: 0.0})
    assert_same_weights(model.get_weights(), before)  # every sample weighs 0: no gradient


# ---- progress output ---------------------------------------------------------------------------------
def test_evaluate_and_predict_print_a_progress_line(capsys):
    x, y = data()
    model = classifier(metrics=["accuracy"])
    result = model.evaluate(x, y, batch_size=8, verbose=1)
    out = capsys.readouterr().out
    assert out.startswith("3/3 - ") and f"loss: {result[0]:.4f}" in out and "accuracy: " in out
    model.predict(x, batch_size=8)  # verbose="auto": a bar, as Keras
    assert capsys.readouterr().out.startswith("3/3 - ")
    model.predict(batches_of(x, y), verbose=1)  # a generator: the length is known at the end
    assert capsys.readouterr().out.startswith("3/3 - ")
    model.predict(x, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert capsys.readouterr().out == ""


def test_fit_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = data()
    classifier().fit(batches_of(x, y), epochs=1, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("3/3 - ") and len(lines) == 1  # Keras: no "Epoch 1/1" header for one epoch


# ---- refused inputs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        ({"x": np.ones((4, FEATURES)), "y": np.ones(5)}, ValueError, r"\[fit\] x has 4 samples but y has 5"),
        ({"x": np.ones((0, FEATURES)), "y": np.ones(0)}, ValueError, r"\[fit\] x has no samples"),
        ({"x": np.ones((4, FEATURES))}, ValueError, r"\[fit\] y is missing: x is array of shape \(4, 5\)"),
        ({"x": None}, ValueError, r"\[fit\] x is missing"),
        ({"x": "gen", "batch_size": 4}, ValueError, r"\[fit\] batch_size must not be given when x is a generator"),
        ({"x": "gen", "y": np.ones(4)}, ValueError, r"\[fit\] y must not be given when x is a generator"),
        ({"x": "gen", "validation_split": 0.2}, ValueError, r"\[fit\] validation_split needs arrays"),
        (
            {"x": np.ones((4, FEATURES)), "y": np.ones(4), "sample_weight": np.ones(3)},
            ValueError,
            r"\[fit\] sample_weight needs one weight per sample \(4 samples\), got shape \(3,\)",
        ),
        (
            {"x": np.ones((4, FEATURES)), "y": np.ones(4), "sample_weight": np.ones(4), "class_weight": {0: 1}},
            ValueError,
            r"\[fit\] give class_weight or sample_weight, not both",
        ),
        ({"x": np.ones((4, FEATURES)), "y": np.ones(4), "class_weight": [1, 2]}, TypeError, r"\[fit\] class_weight"),
        ({"x": np.ones((4, FEATURES)), "y": np.ones(4), "steps_per_epoch": 0}, ValueError, r"\[fit\] steps_per_epoch"),
        ({"x": np.ones((4, FEATURES)), "y": np.ones(4), "validation_freq": 0}, ValueError, r"\[fit\] validation_freq"),
        ({"x": np.ones((4, FEATURES)), "y": np.ones(4), "verbose": 3}, ValueError, r"\[fit\] verbose must be"),
        (
            {"x": [np.ones((4, 2)), np.ones((3, 2))], "y": np.ones(4)},
            ValueError,
            r"\[fit\] every array of x needs the same number of samples, got \[array of shape \(4, 2\), array",
        ),
        ({"x": "gen_x_only"}, ValueError, r"\[fit\] a batch holds x only"),
        ({"x": "gen_bad_tuple"}, ValueError, r"\[fit\] each batch must be x, \(x,\), \(x, y\) or \(x, y, sample_w"),
        ({"x": "gen_empty"}, ValueError, r"\[fit\] the data yielded no batch"),
        ({"x": Batches(np.ones((4, 5)), np.ones(4), use_multiprocessing=True)}, ValueError, r"use_multiprocessing"),
        ({"x": 3.5, "y": np.ones(4)}, ValueError, r"\[fit\] x needs a first \(sample\) axis"),
    ],
)
def test_fit_refuses_data_that_does_not_fit(kwargs, error, message):
    x, y = data(4)
    kwargs = {"verbose": 0, **kwargs}
    generators = {
        "gen": lambda: batches_of(x, y),
        "gen_x_only": lambda: iter([x]),
        "gen_bad_tuple": lambda: iter([(x, y, y, y)]),
        "gen_empty": lambda: iter([]),
    }
    if isinstance(kwargs["x"], str):
        kwargs["x"] = generators[kwargs["x"]]()
    with pytest.raises(error, match=message):
        classifier().fit(**kwargs)


def test_evaluate_and_predict_refuse_like_fit():
    model = classifier()
    with pytest.raises(ValueError, match=r"\[evaluate\] y is missing"):
        model.evaluate(np.ones((4, FEATURES)))
    with pytest.raises(ValueError, match=r"\[evaluate\] sample_weight needs one weight per sample"):
        model.evaluate(np.ones((4, FEATURES)), np.ones(4), sample_weight=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"\[predict\] x has no samples"):
        model.predict(np.ones((0, FEATURES)))
    with pytest.raises(
        ValueError, match=r"\[predict\] batch_size must not be given when x is an iterator \(list_iterator\)"
    ):
        model.predict(iter([np.ones((2, FEATURES))]), batch_size=2)
    with pytest.raises(ValueError, match=r"\[train_on_batch\] x must be arrays"):
        model.train_on_batch(iter([(np.ones((2, FEATURES)), np.ones(2))]))


def test_weighted_fused_cross_entropy_trains_as_the_plain_one():
    """The fused softmax cross-entropy (Sequential ending in softmax) and the plain one on probabilities
    take the same weighted steps."""

    class Plain(ranvier.Model):  # no _last_layer: compile does not fuse
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def call(self, x):
            return self.inner(x)

    x, y = data()
    w = np.random.default_rng(4).uniform(0, 3, N).astype(np.float32)
    fused = classifier()
    plain = Plain(classifier())
    plain.compile(optimizer=ranvier.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy")
    assert fused._fused_loss is not None and plain._fused_loss is None
    for model in (fused, plain):
        model.fit(x, y, sample_weight=w, batch_size=BATCH, epochs=2, shuffle=False, verbose=0)
    assert_same_weights(plain.get_weights(), fused.get_weights())
    assert not np.allclose(fused.get_weights()[0], array_fit_weights(x, y)[0])


@pytest.mark.parametrize(
    "name,kind",
    [
        ("SparseCategoricalCrossentropy", "labels"),
        ("CategoricalCrossentropy", "onehot"),
        ("MeanSquaredError", "onehot"),
        ("BinaryCrossentropy", "binary"),
    ],
)
def test_weighted_losses_match_keras(name, kind):
    pytest.importorskip("torch")
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(6)
    probs = rng.uniform(0.05, 1, (9, CLASSES)).astype(np.float32)
    probs /= probs.sum(1, keepdims=True)
    labels = rng.integers(0, CLASSES, 9)
    y = {"labels": labels, "onehot": np.eye(CLASSES, dtype=np.float32)[labels]}.get(kind)
    if kind == "binary":
        y = rng.integers(0, 2, (9, CLASSES)).astype(np.float32)
    w = rng.uniform(0, 2, 9).astype(np.float32)
    ours = getattr(losses, name)()(y, ranvier.tensor(probs), sample_weight=w).item()
    theirs = float(getattr(keras.losses, name)()(y, probs, sample_weight=w))
    assert ours == pytest.approx(theirs, rel=1e-5)


def test_progress_bar_of_unknown_length_on_a_terminal():
    import io

    from ranvier.progress import Progbar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = Progbar(None, verbose=1, stream=stream)
    for step in (1, 2):
        bar.update(step, {"loss": 0.5})
        bar._last_draw = 0.0  # draw every update, whatever the clock
    bar.finish({"loss": 0.25, "f1_score": np.array([0.5, 1.0])})
    out = stream.getvalue()
    assert "\r1/Unknown - " in out and "\r2/Unknown - " in out
    assert "\r2/2 [" in out and "loss: 0.2500 - f1_score: [0.5000, 1.0000]" in out


@pytest.mark.parametrize("weighting", ["sample_weight", "class_weight"])
def test_weighted_fit_matches_keras(weighting):
    """One epoch of SGD from the same weights lands where Keras 3 lands with the same weights."""
    pytest.importorskip("torch")
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x, y = data()
    kwargs = (
        {"sample_weight": np.random.default_rng(8).uniform(0, 2, N).astype(np.float32)}
        if weighting == "sample_weight"
        else {"class_weight": {0: 0.25, 1: 2.0}}
    )
    ours = classifier()
    theirs = keras.Sequential(
        [
            keras.Input((FEATURES,)),
            keras.layers.Dense(7, activation="tanh"),
            keras.layers.Dense(CLASSES, activation="softmax"),
        ]
    )
    theirs.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy")
    theirs.set_weights(ours.get_weights())
    ours.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, **kwargs)
    theirs.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, **kwargs)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-4, atol=1e-5)
