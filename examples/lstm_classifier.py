"""A stacked LSTM sequence classifier: LSTM64 (return_sequences) -> LSTM64 ->
Dense16 -> Dense1 sigmoid. Task: does a noisy sequence contain a rising ramp?

    python examples/lstm_classifier.py [--epochs N]
"""

import argparse

import numpy as np

import ranvier
from ranvier.layers import LSTM, Dense


def make_sequences(n: int, length: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, length, 1)).astype(np.float32) * 0.5
    y = rng.integers(0, 2, n)
    for i in np.flatnonzero(y):
        start = rng.integers(0, length - 6)
        x[i, start : start + 6, 0] += np.linspace(0, 3, 6)
    return x, y.astype(np.float32)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args(argv)
    ranvier.utils.set_seed(0)
    x_train, y_train = make_sequences(args.samples, seed=1)
    x_test, y_test = make_sequences(300, seed=2)
    model = ranvier.Sequential(
        [
            LSTM(64, return_sequences=True, input_shape=(20, 1)),
            LSTM(64),
            Dense(16, activation="relu"),
            Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
