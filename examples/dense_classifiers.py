"""Two dense classifiers on the digits: a binary one (Dense64-Dense32-Dense1
sigmoid, "is it a 0?") and a 10-class one (Dense128-Dense10 softmax).

    python examples/dense_classifiers.py [--epochs N]
"""

import argparse

import numpy as np

import ranvier
from ranvier import datasets
from ranvier.layers import Dense


def main(argv=None) -> tuple:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    ranvier.utils.set_seed(0)
    (x_train, y_train), (x_test, y_test) = datasets.digits.load_data()
    x_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 255.0
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255.0

    binary = ranvier.Sequential(
        [Dense(64, activation="relu", input_shape=(64,)), Dense(32, activation="relu"), Dense(1, activation="sigmoid")]
    )
    binary.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    binary.fit(x_train, (y_train == 0).astype(np.float32), batch_size=32, epochs=args.epochs, verbose=0)
    _, binary_accuracy = binary.evaluate(x_test, (y_test == 0).astype(np.float32), verbose=0)
    print(f"binary (is it a 0?) test accuracy: {binary_accuracy:.4f}")

    ten = ranvier.Sequential([Dense(128, activation="relu", input_shape=(64,)), Dense(10, activation="softmax")])
    ten.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    ten.fit(x_train, ranvier.utils.to_categorical(y_train, 10), batch_size=32, epochs=args.epochs, verbose=0)
    _, ten_accuracy = ten.evaluate(x_test, ranvier.utils.to_categorical(y_test, 10), verbose=0)
    print(f"10-class test accuracy: {ten_accuracy:.4f}")
    return binary_accuracy, ten_accuracy


if __name__ == "__main__":
    main()
