"""Training on data that does not sit in one array: a Python generator, a ranvier.data pipeline and a
PyDataset whose worker threads make batches while the model trains.

The task (synthetic, offline): which of three rings around the origin a 2-D point lies on.

    python examples/generator_pipeline.py
"""

import argparse
import math

import numpy as np

import ranvier
from ranvier.data import Dataset, PyDataset
from ranvier.layers import Dense

CLASSES = 3


def rings(n, rng):
    """Points on rings of radius 1, 2 and 3 with noise; the label is the ring."""
    labels = rng.integers(0, CLASSES, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = labels + 1 + rng.normal(0, 0.15, n)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1).astype(np.float32), labels


def fresh_batches(batch_size, seed):
    """An endless generator: every batch is new data (as an augmenting loader would make)."""
    rng = np.random.default_rng(seed)
    while True:
        yield rings(batch_size, rng)


class RingBatches(PyDataset):
    """Batch i is made on demand from its own seed, by the data set's worker threads."""

    def __init__(self, batches, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.batches, self.batch_size = batches, batch_size

    def __len__(self):
        return self.batches

    def __getitem__(self, i):
        return rings(self.batch_size, np.random.default_rng(1000 + i))


def classifier():
    model = ranvier.Sequential(
        [
            Dense(32, activation="relu", input_shape=(2,)),
            Dense(32, activation="relu"),
            Dense(CLASSES, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--samples", type=int, default=4096)
    args = parser.parse_args(argv)
    ranvier.utils.set_seed(0)
    rng = np.random.default_rng(0)
    x_test, y_test = rings(1000, rng)
    batch_size = 64
    steps = math.ceil(args.samples / batch_size)
    results = {}

    model = classifier()
    model.fit(fresh_batches(batch_size, seed=1), steps_per_epoch=steps, epochs=args.epochs, verbose=2)
    results["generator"] = model.evaluate(x_test, y_test, verbose=0)[1]

    x, y = rings(args.samples, rng)
    train = Dataset.from_tensor_slices((x, y)).shuffle(seed=2).batch(batch_size, drop_remainder=True).prefetch(2)
    validation = Dataset.from_tensor_slices((x_test, y_test)).batch(256)
    model = classifier()
    model.fit(train, epochs=args.epochs, validation_data=validation, validation_freq=args.epochs, verbose=2)
    results["ranvier.data pipeline"] = model.evaluate(validation, verbose=0)[1]

    model = classifier()
    model.fit(RingBatches(steps, batch_size, workers=2, max_queue_size=8), epochs=args.epochs, verbose=2)
    results["PyDataset, 2 workers"] = model.evaluate(x_test, y_test, verbose=0)[1]

    for name, accuracy in results.items():
        print(f"{name}: test accuracy {accuracy:.4f}")
    return results


if __name__ == "__main__":
    main()
