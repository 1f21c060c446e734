"""A two-layer MLP trained with nothing but `ranvier.ops` on NumPy arrays.

Shows ranvier as a fast backend for NumPy code: the forward pass is two fused
linear kernels, the backward pass their `linear_backward`. Learns to tell
which of two Gaussian blobs a point came from.

    python examples/ops_backend_mlp.py [--steps N]
"""

from __future__ import annotations

import argparse

import numpy as np

from ranvier import ops


def make_data(rng, n):
    labels = rng.integers(0, 2, n)
    centers = np.array([[-1.0, -1.0], [1.0, 1.0]])
    x = centers[labels] + 0.6 * rng.standard_normal((n, 2))
    return x.astype(np.float32), labels


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x, labels = make_data(rng, 512)
    target = labels.astype(np.float32)[:, None]
    w1 = (rng.standard_normal((2, 32)) * 0.5).astype(np.float32)
    b1 = np.zeros(32, np.float32)
    w2 = (rng.standard_normal((32, 1)) * 0.5).astype(np.float32)
    b2 = np.zeros(1, np.float32)
    lr = 0.5
    for _ in range(args.steps):
        h = ops.linear(x, w1, b1, activation="relu")
        p = ops.linear(h, w2, b2, activation="sigmoid")
        # mean squared error; its gradient flows back through both layers
        dp = 2 * (p - target) / len(x)
        dh, dw2, db2 = ops.linear_backward(dp, h, w2, activation="sigmoid", y=p)
        _, dw1, db1 = ops.linear_backward(dh, x, w1, activation="relu", y=h)
        for param, grad in ((w1, dw1), (b1, db1), (w2, dw2), (b2, db2)):
            param -= lr * grad
    accuracy = float(np.mean((p[:, 0] > 0.5) == labels))
    print(f"accuracy {accuracy:.3f} after {args.steps} steps")
    return accuracy


if __name__ == "__main__":
    main()
