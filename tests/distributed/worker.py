"""Run by tests/test_distributed.py under ``mpiexec -n 2``: ``worker.py SCENARIO OUT_DIR``.

``checks``: every check below; rank 0 writes ``results.json`` ({check: "ok" or
the traceback}). The other scenarios exercise failures: a rank that raises,
models that differ across ranks.
"""

import contextlib
import io
import json
import os
import sys
import traceback

import numpy as np

import ranvier
from ranvier import distributed as dist
from ranvier.layers import BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D

RTOL, ATOL = 2e-4, 2e-5


def data(n, seed=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6, 6, 2)).astype(np.float32), rng.integers(0, 3, n)


def build(batch_norm=False, extra=False):
    ranvier.utils.set_seed(1)
    layers = [Conv2D(4, 3, activation="relu", input_shape=(6, 6, 2)), MaxPooling2D(), Flatten()]
    layers += [BatchNormalization()] if batch_norm else []
    layers += [Dense(8, activation="tanh")] + ([Dense(8)] if extra else []) + [Dense(3, activation="softmax")]
    return ranvier.Sequential(layers)


def fit(optimizer, n, batch_size, distribute, epochs=2, **kwargs):
    model = build()
    model.compile(
        optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"], distribute=distribute
    )
    ranvier.utils.set_seed(2)
    history = model.fit(*data(n), batch_size=batch_size, epochs=epochs, verbose=0, **kwargs)
    return model, history


def same_as_one_process(optimizer_class, n, batch_size, **strategy):
    """2 ranks with half the batch each end where 1 process with the whole batch does."""
    ref, ref_history = fit(optimizer_class(learning_rate=0.05), n, batch_size, None)
    model, history = fit(optimizer_class(learning_rate=0.05), n, batch_size, dist.DataParallel(**strategy))
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(history.history[key], ref_history.history[key], rtol=RTOL, atol=ATOL)
    assert model.optimizer.iterations == ref.optimizer.iterations == 2 * -(-n // batch_size)


def check_epoch_metrics_and_sample_weights_as_one_process():
    """Precision/AUC are the whole epoch's counts added over the ranks, not one rank's or a mean of batches;
    sample weights scale the loss as on one process."""
    weights = np.random.default_rng(5).uniform(0.1, 2.0, 21).astype(np.float32)

    def run(distribute):
        model = build()
        model.compile(
            optimizer="sgd",
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy", ranvier.metrics.SparseTopKCategoricalAccuracy(k=2)],
            distribute=distribute,
        )
        ranvier.utils.set_seed(2)
        return model, model.fit(*data(21), sample_weight=weights, batch_size=8, epochs=2, verbose=0)

    ref, ref_history = run(None)
    model, history = run(dist.DataParallel())
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    for key in ("loss", "accuracy", "sparse_top_k_categorical_accuracy"):
        np.testing.assert_allclose(history.history[key], ref_history.history[key], rtol=RTOL, atol=ATOL)


def check_auc_of_the_whole_epoch():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((19, 6, 6, 2)).astype(np.float32), rng.integers(0, 2, 19)
    histories = []
    for distribute in (None, dist.DataParallel()):
        ranvier.utils.set_seed(1)
        model = ranvier.Sequential([Flatten(input_shape=(6, 6, 2)), Dense(1, activation="sigmoid")])
        model.compile(
            optimizer="sgd",
            loss="binary_crossentropy",
            metrics=[ranvier.metrics.AUC(), ranvier.metrics.Precision()],
            distribute=distribute,
        )
        histories.append(model.fit(x, y, batch_size=6, epochs=2, shuffle=False, verbose=0).history)
    for key in ("auc", "precision"):
        np.testing.assert_allclose(histories[1][key], histories[0][key], rtol=1e-6)


def check_generator_batches_split_over_ranks():
    """Every rank's generator yields the same global batches; each rank trains on its piece of each."""
    x, y = data(20)

    def batches():
        for start in range(0, 20, 8):
            yield x[start : start + 8], y[start : start + 8]

    models = []
    for distribute, source in ((None, (x, y)), (dist.DataParallel(), (batches(),))):
        model = build()
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", distribute=distribute)
        kwargs = {"batch_size": 8} if distribute is None else {}
        model.fit(*source, epochs=1, shuffle=False, verbose=0, **kwargs)
        models.append(model)
    for a, b in zip(models[1].get_weights(), models[0].get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def check_sgd_even():
    same_as_one_process(ranvier.optimizers.SGD, 32, 8, overlap=True)  # buckets reduced while backward runs


def check_adam_even():
    same_as_one_process(ranvier.optimizers.Adam, 32, 8, overlap=False)  # reduced when backward ends


def check_uneven_split_of_every_batch():
    same_as_one_process(ranvier.optimizers.Adam, 37, 7, overlap=True)  # 7 = 4 + 3 per step, last batch 2 = 1 + 1


def check_empty_piece_on_one_rank():
    for overlap in (True, False):  # the last batch has 1 sample: rank 1 adds zeros
        same_as_one_process(ranvier.optimizers.SGD, 33, 8, overlap=overlap)


def check_one_parameter_per_bucket():
    same_as_one_process(ranvier.optimizers.Adam, 32, 8, bucket_bytes=1, overlap=True)


def check_batch_norm_uses_local_statistics():
    """Each rank normalises with its own half's statistics; moving statistics are averaged at the epoch's end."""
    n = 16
    x, y = data(n)
    model = build(batch_norm=True)
    model.compile(optimizer=ranvier.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy")
    model.distribute = dist.DataParallel()
    model.fit(x, y, batch_size=n, epochs=1, shuffle=False, verbose=0)

    ref = build(batch_norm=True)
    start = [w.copy() for w in ref.get_weights()]
    loss_fn = ranvier.losses.get("sparse_categorical_crossentropy")
    grads, moving = [], []
    for piece in np.array_split(np.arange(n), 2):
        ref.set_weights(start)
        loss = loss_fn(y[piece], ref(x[piece]))
        loss.backward()
        grads.append([p.grad.numpy() * len(piece) / n for p in ref.trainable_weights])
        moving.append([w.numpy().copy() for w in ref.non_trainable_weights])
        for p in ref.trainable_weights:
            p.grad = None
    ref.set_weights(start)
    for p, g0, g1 in zip(ref.trainable_weights, *grads):
        p.data[...] -= 0.1 * (g0 + g1)
    for w, m0, m1 in zip(ref.non_trainable_weights, *moving):
        w.data[...] = (m0 + m1) / 2
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def check_same_logs_and_early_stop_everywhere():
    """Each rank's own validation data: callbacks still see rank 0's logs, so every rank stops together."""
    x_val, y_val = data(12, seed=10 + dist.rank())
    stop = ranvier.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0)
    _, history = fit("adam", 32, 8, dist.DataParallel(), epochs=6, validation_data=(x_val, y_val), callbacks=[stop])
    everyone = dist.communicator().allgather(history.history)
    assert everyone[0] == everyone[1], everyone
    assert len(history.history["val_loss"]) == 2  # min_delta=10: no epoch improves


def check_progress_and_checkpoints_on_rank_0_only():
    out_dir = sys.argv[2]
    path = os.path.join(out_dir, f"checkpoint_rank{dist.rank()}.safetensors")
    printed = io.StringIO()
    model = build()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", distribute=dist.DataParallel())
    with contextlib.redirect_stdout(printed):
        model.fit(*data(16), batch_size=8, verbose=2, callbacks=[ranvier.callbacks.ModelCheckpoint(path)])
    dist.barrier()
    assert os.path.exists(os.path.join(out_dir, "checkpoint_rank0.safetensors"))
    assert not os.path.exists(os.path.join(out_dir, "checkpoint_rank1.safetensors"))
    assert (" - loss: " in printed.getvalue()) == (dist.rank() == 0), printed.getvalue()  # the epoch line


def check_weights_broadcast_from_rank_0():
    model = build()
    for w in model.weights:
        w.data[...] += dist.rank()  # every rank different
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", distribute=dist.DataParallel())
    start = build().get_weights()
    model.fit(*data(8), batch_size=8, epochs=1, verbose=0)
    everyone = dist.communicator().allgather(model.get_weights())
    for a, b in zip(*everyone):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(everyone[0][0], start[0])


def check_distributed_data_parallel_wrapper():
    """Hand-written loop: DistributedDataParallel + DistributedSampler equals 1 process on the union of batches."""
    n, per_rank = 22, 4
    x, y = data(n)
    loss_fn = ranvier.losses.get("sparse_categorical_crossentropy")
    model = dist.DistributedDataParallel(build(), overlap=True)
    ref = build()
    opt = ranvier.optimizers.Adam(model.parameters(), learning_rate=0.05)
    ref_opt = ranvier.optimizers.Adam(ref.parameters(), learning_rate=0.05)
    samplers = [dist.DistributedSampler(n, rank=r, seed=4) for r in range(2)]
    for epoch in range(2):
        for s in samplers:
            s.set_epoch(epoch)
        mine = samplers[dist.rank()].indices()
        for start in range(0, len(mine), per_rank):
            idx = mine[start : start + per_rank]
            loss = loss_fn(y[idx], model(x[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            for s in samplers:  # the reference: each rank's piece, weighted equally
                theirs = s.indices()[start : start + per_rank]
                (loss_fn(y[theirs], ref(x[theirs])) * 0.5).backward()
            ref_opt.step()
            ref_opt.zero_grad()
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


def check_sampler_shards_every_index():
    both = [dist.DistributedSampler(11, rank=r, seed=0) for r in range(2)]
    a, b = (s.indices() for s in both)
    assert len(a) == len(b) == 6 and set(a) | set(b) == set(range(11))
    assert len(dist.DistributedSampler(11, drop_last=True)) == 5
    assert list(dist.DistributedSampler(5, shuffle=False)) == [[0, 2, 4], [1, 3, 0]][dist.rank()]


def check_collectives():
    r = dist.rank()
    for shape in [(0,), (0, 5), (7,), (3, 5), (1,), ()]:
        a = np.full(shape, r + 1.5, np.float32)
        assert dist.all_reduce(a) is a
        np.testing.assert_array_equal(a, np.full(shape, 4.0, np.float32))
        b = np.full(shape, float(r), np.float64)
        np.testing.assert_array_equal(dist.broadcast(b, root=1), np.ones(shape))
    large = np.arange(5_000_001, dtype=np.float32) * (r + 1)
    dist.all_reduce(large, "mean")
    np.testing.assert_allclose(large, np.arange(5_000_001, dtype=np.float32) * 1.5, rtol=1e-6)
    strided = np.zeros((4, 6), np.float32)[:, ::2]
    strided[...] = r
    dist.all_reduce(strided)
    assert (strided == 1).all()
    ints = np.array([r, 10], np.int64)
    np.testing.assert_array_equal(dist.all_reduce(ints), [1, 20])
    gathered = dist.all_gather(np.full((r + 1, 2), r, np.int32))  # 1 row from rank 0, 2 from rank 1
    np.testing.assert_array_equal(gathered, [[0, 0], [1, 1], [1, 1]])
    np.testing.assert_array_equal(dist.all_gather(np.array(r, np.float32)), [0, 1])
    assert dist.all_gather(np.zeros((0, 3), np.float32)).shape == (0, 3)
    for call, message in [
        (lambda: dist.all_reduce(np.zeros(3 + r, np.float32)), "same shape and dtype"),
        (lambda: dist.broadcast(np.zeros(3, [np.float32, np.float64][r])), "same shape and dtype"),
        (lambda: dist.all_gather(np.zeros((2, 1 + r), np.float32)), "same shape and dtype"),
        (lambda: dist.all_reduce(np.zeros(3, np.int32), "mean"), "floating-point"),
        (lambda: dist.all_reduce([1.0, 2.0]), "NumPy or CuPy"),
        (lambda: dist.broadcast(np.zeros(3), root=2), "root must be a rank"),
    ]:
        try:
            call()
        except (ValueError, TypeError) as error:
            assert message in str(error), error
        else:
            raise AssertionError(f"no error for {message}")
    assert dist.world_size() == 2 and dist.local_rank() == r and ranvier.get_num_threads() == 1


def run_checks(out_dir):
    results = {}
    for name, check in sorted(globals().items()):
        if name.startswith("check_"):
            try:
                check()
                results[name] = "ok"
            except Exception:
                results[name] = f"rank {dist.rank()}: {traceback.format_exc()}"
    everyone = dist.communicator().gather(results, root=0)
    if dist.rank() == 0:
        merged = {k: next((rs[k] for rs in everyone if rs[k] != "ok"), "ok") for k in results}
        with open(os.path.join(out_dir, "results.json"), "w") as f:
            json.dump(merged, f)


def rank_1_raises():
    if dist.rank() == 1:
        raise RuntimeError("rank 1 failed on purpose")
    dist.all_reduce(np.zeros(4, np.float32))  # rank 0 would wait here forever
    print("rank 0 got past the collective", flush=True)


def models_differ():
    model = build(extra=dist.rank() == 1)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", distribute=dist.DataParallel())
    try:
        model.fit(*data(8), batch_size=4, verbose=0)
    except ValueError as error:
        print(f"rank {dist.rank()} refused: {error}", flush=True)
    dist.barrier()


if __name__ == "__main__":
    scenario, out = sys.argv[1], sys.argv[2]
    dist.init()
    {"checks": lambda: run_checks(out), "raise": rank_1_raises, "mismatch": models_differ}[scenario]()
