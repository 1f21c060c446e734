"""``python -m ranvier train``: the main job. Trains a classic network on a
dataset, with Keras-style progress, and reports test accuracy, throughput and time.

With no arguments: a small CNN on ``digits`` (ships with ranvier, no download)
on the CPU. Data-parallel on N processes (``--batch-size`` is then the global
batch, split across the ranks): ``mpiexec -n N python -m ranvier train --distributed``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import ranvier
from ranvier import datasets, optimizers
from ranvier.device import DEVICES
from ranvier.layers import (
    LSTM,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling1D,
    MaxPooling2D,
    PositionalEncoding,
    Reshape,
    TransformerEncoder,
)

DATASETS = ("digits", "mnist", "fashion_mnist", "cifar10")
MODELS = ("mlp", "cnn", "lstm", "transformer")


def load(name: str, path: str | None = None):
    """Images scaled to [0, 1] as float32 NHWC, integer labels (N,)."""
    module = getattr(datasets, name)
    (x_train, y_train), (x_test, y_test) = module.load_data(path) if path else module.load_data()

    def prepare(x, y):
        x = x.astype(np.float32) / 255.0
        return (x[..., None] if x.ndim == 3 else x), np.asarray(y).reshape(-1).astype(np.int64)

    return prepare(x_train, y_train), prepare(x_test, y_test)


def build_model(kind: str, input_shape: tuple, classes: int) -> ranvier.Sequential:
    h, w, c = input_shape
    if kind == "mlp":
        layers = [Flatten(input_shape=input_shape), Dense(128, activation="relu"), Dense(64, activation="relu")]
    elif kind == "cnn":
        small = h < 16  # digits: 8x8 images keep their size through "same" convolutions
        pad = "same" if small else "valid"
        layers = [
            Conv2D(32, 3, activation="relu", padding=pad, input_shape=input_shape),
            MaxPooling2D(),
            Conv2D(64, 3, activation="relu", padding=pad),
            MaxPooling2D(),
            Flatten(),
            Dense(128, activation="relu"),
            Dropout(0.25),
        ]
    elif kind == "lstm":  # image rows as time steps
        layers = [Reshape((h, w * c), input_shape=input_shape), LSTM(64, return_sequences=True), LSTM(64)]
    elif kind == "transformer":  # image rows as tokens
        layers = [
            Reshape((h, w * c), input_shape=input_shape),
            Dense(64),
            PositionalEncoding(),
            TransformerEncoder(num_heads=4, intermediate_dim=128),
            GlobalAveragePooling1D(),
        ]
    else:
        raise ValueError(f"[train] --model must be one of {', '.join(MODELS)}, got {kind!r}")
    return ranvier.Sequential(layers + [Dense(classes, activation="softmax")], name=f"{kind}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m ranvier train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dataset", default="digits", choices=DATASETS)
    p.add_argument("--data-dir", default=None, help="load the dataset's original files from this directory")
    p.add_argument("--model", default="cnn", choices=MODELS)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=16)  # small sets learn better in more steps
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--device", default="cpu", choices=DEVICES)
    p.add_argument("--save", default=None, metavar="PATH", help="save the trained model (safetensors)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=None, help="0 silent, 1 progress bar, 2 one line per epoch")
    p.add_argument("--distributed", action="store_true", help="data-parallel over the ranks of mpiexec (needs mpi4py)")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.device == "cuda" and not ranvier.cuda.is_available():
        raise SystemExit("[train] --device cuda: no GPU is available (ranvier.cuda.is_available() is False)")
    ranvier.utils.set_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load(args.dataset, args.data_dir)
    classes = int(max(y_train.max(), y_test.max())) + 1
    model = build_model(args.model, x_train.shape[1:], classes)
    strategy = _strategy(args.distributed)
    model.compile(
        optimizer=optimizers.Adam(learning_rate=args.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        distribute=strategy,
    )
    ranks = strategy.world_size if strategy else 1
    say = print if strategy is None or strategy.rank == 0 else lambda *a: None
    say(
        f"ranvier {ranvier.__version__}: {args.model} on {args.dataset} ({len(x_train)} train, {len(x_test)} test), "
        f"device {args.device}, {ranks} x {ranvier.get_num_threads()} threads, {ranvier.get_isa()}"
    )
    start = time.perf_counter()
    # the rate decays 10% an epoch: small sets like digits settle instead of bouncing
    schedule = ranvier.callbacks.LearningRateScheduler(lambda epoch, lr: args.learning_rate * 0.9**epoch)
    model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        callbacks=[schedule],
        verbose="auto" if args.verbose is None else args.verbose,
        device=args.device,
    )
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    result = {
        "test_accuracy": float(accuracy),
        "samples_per_second": len(x_train) * args.epochs / seconds,
        "seconds": seconds,
    }
    say(f"test accuracy: {accuracy:.4f}")
    say(f"training throughput: {result['samples_per_second']:.0f} samples/s")
    say(f"training time: {seconds:.1f} s")
    if args.save and say is print:
        model.save(args.save)
        say(f"saved to {args.save}")
    return result


def _strategy(distributed: bool):
    if not distributed:
        return None
    from ranvier import distributed as dist

    return dist.DataParallel()
