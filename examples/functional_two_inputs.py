"""A functional model with two inputs and two outputs (Keras' functional API).

Each synthetic "listing" has 8 numeric features and 24 yes/no tags. One branch
reads the numbers, another the tags; Concatenate joins them, and two heads
predict a price (regression, mse) and a category (3 classes, cross-entropy).
``compile`` takes a loss, a loss weight and metrics per output; ``fit`` takes
the inputs as a dict keyed by the Input names (a list in order works too) and
logs each output's loss and metrics under Keras 3's names.

    python examples/functional_two_inputs.py
"""

import argparse

import numpy as np

import ranvier
from ranvier import layers


def make_data(n: int, rng):
    numbers = rng.standard_normal((n, 8)).astype(np.float32)
    tags = (rng.random((n, 24)) < 0.2).astype(np.float32)
    price = numbers[:, :3].sum(axis=1, keepdims=True) + tags[:, :6].sum(axis=1, keepdims=True)
    kind = np.argmax(np.stack([numbers[:, 3], tags[:, 6:12].sum(1) - 0.5, -numbers[:, 3]], axis=1), axis=1)
    return [numbers, tags], [price.astype(np.float32), kind]


def build_model():
    numbers = ranvier.Input((8,), name="numbers")
    tags = ranvier.Input((24,), name="tags")
    joined = layers.Concatenate()(
        [layers.Dense(32, activation="relu")(numbers), layers.Dense(16, activation="relu")(tags)]
    )
    hidden = layers.Dense(32, activation="relu")(joined)
    price = layers.Dense(1, name="price")(hidden)
    kind = layers.Dense(3, activation="softmax", name="kind")(hidden)
    return ranvier.Model([numbers, tags], [price, kind], name="listing")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args(argv)
    ranvier.utils.set_seed(0)
    rng = np.random.default_rng(0)
    x, y = make_data(args.samples, rng)
    x_test, y_test = make_data(500, rng)
    model = build_model()
    model.summary()
    model.compile(
        ranvier.optimizers.Adam(learning_rate=0.005),
        loss={"price": "mse", "kind": "sparse_categorical_crossentropy"},
        loss_weights=[0.5, 1.0],
        metrics={"kind": ["accuracy"]},
    )
    history = model.fit(
        {"numbers": x[0], "tags": x[1]}, {"price": y[0], "kind": y[1]}, batch_size=64, epochs=args.epochs, verbose=0
    )
    for epoch in sorted({0, args.epochs // 2, args.epochs - 1}):
        logs = ", ".join(f"{k} {v[epoch]:.4f}" for k, v in history.history.items())
        print(f"epoch {epoch + 1}: {logs}")
    price, kind = model.predict(x_test, verbose=0)
    mse = float(np.mean((price - y_test[0]) ** 2))
    accuracy = float(np.mean(kind.argmax(axis=1) == y_test[1]))
    print(f"test price mse: {mse:.4f} (variance {float(np.var(y_test[0])):.4f})")
    print(f"test kind accuracy: {accuracy:.4f}")
    return accuracy, mse


if __name__ == "__main__":
    main()
