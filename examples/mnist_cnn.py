"""The Keras MNIST CNN: Conv32-Pool-Conv64-Pool-Flatten-Dense128-Dense10, SGD
(lr 0.01, momentum 0.9). Offline it trains on ranvier's digits, grown to
28x28; `--dataset mnist` uses MNIST (downloaded, or from --data-dir).

    python examples/mnist_cnn.py [--dataset digits|mnist|fashion_mnist] [--epochs N]
"""

import argparse

from _data import load_images

import ranvier
from ranvier.layers import Conv2D, Dense, Flatten, MaxPooling2D


def build_model() -> ranvier.Sequential:
    return ranvier.Sequential(
        [
            Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)),
            MaxPooling2D((2, 2)),
            Conv2D(64, (3, 3), activation="relu"),
            MaxPooling2D((2, 2)),
            Flatten(),
            Dense(128, activation="relu"),
            Dense(10, activation="softmax"),
        ]
    )


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    args = parser.parse_args(argv)
    ranvier.utils.set_seed(0)
    (x_train, y_train), (x_test, y_test) = load_images(args.dataset, args.data_dir)
    x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    model = build_model()
    model.compile(
        optimizer=ranvier.optimizers.SGD(learning_rate=0.01, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.summary()
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, validation_split=0.1, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
