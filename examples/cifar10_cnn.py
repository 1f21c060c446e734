"""The Keras CIFAR-10 CNN: three Conv/Pool blocks, Dense128, Adam. Offline it
learns a CIFAR-shaped synthetic task (the colour of a square on noise, 32x32x3,
10 classes); `--dataset cifar10` uses CIFAR-10 (downloaded, or from --data-dir).

    python examples/cifar10_cnn.py [--dataset synthetic|cifar10] [--epochs N]
"""

import argparse

from _data import colored_squares, load_images

import ranvier
from ranvier.layers import Conv2D, Dense, Flatten, MaxPooling2D


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--samples", type=int, default=1500, help="size of the synthetic training set")
    args = parser.parse_args(argv)
    ranvier.utils.set_seed(0)
    if args.dataset == "synthetic":
        (x_train, y_train), (x_test, y_test) = colored_squares(args.samples, 1), colored_squares(300, 2)
    else:
        (x_train, y_train), (x_test, y_test) = load_images(args.dataset, args.data_dir)
    model = ranvier.Sequential(
        [
            Conv2D(32, (3, 3), activation="relu", padding="same", input_shape=(32, 32, 3)),
            MaxPooling2D((2, 2)),
            Conv2D(64, (3, 3), activation="relu", padding="same"),
            MaxPooling2D((2, 2)),
            Conv2D(64, (3, 3), activation="relu", padding="same"),
            MaxPooling2D((2, 2)),
            Flatten(),
            Dense(128, activation="relu"),
            Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
