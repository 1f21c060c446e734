"""The first neural network: an MLP learns XOR with sigmoid units, mean squared
error and plain gradient descent.

    python examples/xor_mlp.py
"""

import argparse

import numpy as np

import ranvier
from ranvier.layers import Dense


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=2000)
    args = parser.parse_args(argv)
    ranvier.utils.set_seed(0)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([[0], [1], [1], [0]], np.float32)
    model = ranvier.Sequential([Dense(4, activation="sigmoid", input_shape=(2,)), Dense(1, activation="sigmoid")])
    model.compile(optimizer=ranvier.optimizers.SGD(learning_rate=2.0), loss="mse", metrics=["accuracy"])
    model.fit(x, y, batch_size=4, epochs=args.epochs, verbose=0)
    pred = model.predict(x)
    for inputs, p in zip(x, pred):
        print(f"{inputs.astype(int)} -> {p[0]:.3f}")
    accuracy = float(np.mean((pred > 0.5) == (y > 0.5)))
    print(f"accuracy: {accuracy:.0%}")
    return accuracy


if __name__ == "__main__":
    main()
