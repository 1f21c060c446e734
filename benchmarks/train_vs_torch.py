"""The main job against the same network in PyTorch: training samples per second.

    python benchmarks/train_vs_torch.py [--epochs N]

Both train the digits CNN of `python -m ranvier train` (Conv32-Pool-Conv64-Pool-
Dense128-Dropout-Dense10, Adam 2e-3, batch 16) with the same thread count;
PyTorch runs its own layout (NCHW) with a plain eager training loop.
"""

import argparse
import time

import numpy as np

import ranvier
from ranvier import train


def torch_samples_per_second(epochs: int, threads: int) -> float:
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    (x, y), _ = ranvier.datasets.digits.load_data()
    x = torch.tensor(x[:, None].astype(np.float32) / 255)
    y = torch.tensor(y.astype(np.int64))
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 128),
        nn.ReLU(),
        nn.Dropout(0.25),
        nn.Linear(128, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), 2e-3)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for i in range(0, len(x), 16):
            idx = order[i : i + 16]
            optimizer.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            optimizer.step()
    return len(x) * epochs / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    ours = train.main(["--epochs", str(args.epochs), "--verbose", "0"])["samples_per_second"]
    try:
        theirs = torch_samples_per_second(args.epochs, ranvier.get_num_threads())
    except ImportError:
        print(f"ranvier {ours:.0f} samples/s; PyTorch is not installed")
        return
    print(f"ranvier {ours:.0f} samples/s, PyTorch {theirs:.0f} samples/s: {ours / theirs:.2f}x")


if __name__ == "__main__":
    main()
