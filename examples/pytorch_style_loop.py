"""A PyTorch-style training loop on ranvier: Linear(784->128), ReLU,
Linear(->10), cross-entropy, Adam, and zero_grad / backward / step by hand.
Offline it uses the digits grown to 28x28 (784 inputs); `--dataset mnist` uses MNIST.

    python examples/pytorch_style_loop.py [--epochs N]
"""

import argparse

import numpy as np
from _data import load_images

import ranvier
from ranvier import functional as F
from ranvier.layers import Dense


class Net(ranvier.Model):
    def __init__(self):
        super().__init__()
        self.fc1 = Dense(128)
        self.fc2 = Dense(10)

    def call(self, x):
        return self.fc2(F.relu(self.fc1(x)))


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    ranvier.utils.set_seed(0)
    (x_train, y_train), (x_test, y_test) = load_images(args.dataset, args.data_dir)
    x_train, x_test = x_train.reshape(len(x_train), 784), x_test.reshape(len(x_test), 784)

    model = Net()
    model(x_train[:1])  # creates the weights
    loss_fn = ranvier.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = ranvier.optimizers.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        total = 0.0
        for start in range(0, len(order), 64):
            idx = order[start : start + 64]
            loss = loss_fn(y_train[idx], model(x_train[idx]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        print(f"epoch {epoch + 1}: loss {total / len(order):.4f}")
    with ranvier.no_grad():
        accuracy = float(np.mean(np.argmax(model(x_test).numpy(), axis=1) == y_test))
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
