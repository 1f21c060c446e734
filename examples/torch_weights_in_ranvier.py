"""A small CNN trained in PyTorch, its weights run in ranvier with the same predictions.

PyTorch takes NCHW images, ranvier NHWC: the ranvier network gets the same
images transposed, and its Linear after Flatten gets PyTorch's columns
reordered from (C, H, W) to (H, W, C), the order in which NHWC flattens.
Offline: the digits that ship with ranvier, grown to 28x28. Needs torch.

    python examples/torch_weights_in_ranvier.py [--epochs N]
"""

import argparse

import numpy as np
import torch
from _data import load_images

import ranvier
from ranvier import nn
from ranvier.interop import load_torch_state_dict

CHANNELS, SIDE = 8, 13  # the feature map that Flatten joins: 28 -> 26 (conv 3) -> 13 (pool 2)


def torch_cnn():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, CHANNELS, 3),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(CHANNELS * SIDE * SIDE, 10),
    )


def ranvier_cnn():
    """The same network under the same module names ("0" ... "4"), so the weights match by name."""
    return nn.Sequential(
        nn.Conv2d(1, CHANNELS, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(CHANNELS * SIDE * SIDE, 10),
    )


def train_in_torch(model, x, y, epochs: int) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    order = torch.Generator().manual_seed(0)
    for epoch in range(epochs):
        total = 0.0
        for idx in torch.randperm(len(x), generator=order).split(64):
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        print(f"torch epoch {epoch + 1}: loss {total / len(x):.4f}")


def main(argv=None) -> tuple:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    (x_train, y_train), (x_test, y_test) = load_images("digits")
    to_nchw = (0, 3, 1, 2)
    trained = torch_cnn()
    train_in_torch(trained, x_train.transpose(to_nchw).copy(), y_train, args.epochs)

    state = trained.state_dict()
    linear = state["4.weight"]  # (10, C*H*W) -> (10, H*W*C)
    state["4.weight"] = linear.reshape(10, CHANNELS, SIDE, SIDE).permute(0, 2, 3, 1).reshape(10, -1)
    model = ranvier_cnn()
    load_torch_state_dict(model, state)

    with torch.no_grad():
        torch_logits = trained(torch.from_numpy(x_test.transpose(to_nchw).copy())).numpy()
    with ranvier.no_grad():
        ranvier_logits = model(ranvier.tensor(x_test)).numpy()
    agreement = float(np.mean(torch_logits.argmax(1) == ranvier_logits.argmax(1)))
    max_difference = float(np.max(np.abs(torch_logits - ranvier_logits)))
    print(f"torch test accuracy: {np.mean(torch_logits.argmax(1) == y_test):.4f}")
    print(f"ranvier test accuracy: {np.mean(ranvier_logits.argmax(1) == y_test):.4f}")
    print(f"same predictions: {agreement:.2%}, largest logit difference {max_difference:.2e}")
    return agreement, max_difference


if __name__ == "__main__":
    main()
