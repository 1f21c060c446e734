"""Training throughput of the MNIST-style CNN on the CPU and, when one is
available, on the GPU: a table of samples per second.

    python examples/cpu_vs_gpu.py [--steps N] [--batch-size N]
"""

import argparse
import time

import numpy as np

import ranvier
from ranvier.layers import Conv2D, Dense, Flatten, MaxPooling2D


def cnn():
    return ranvier.Sequential(
        [
            Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
            MaxPooling2D(),
            Conv2D(64, 3, activation="relu"),
            MaxPooling2D(),
            Flatten(),
            Dense(128, activation="relu"),
            Dense(10, activation="softmax"),
        ]
    )


def throughput(device: str, steps: int, batch_size: int) -> float:
    ranvier.utils.set_seed(0)
    model = cnn().to(device)
    model.compile(
        optimizer=ranvier.optimizers.SGD(learning_rate=0.01, momentum=0.9), loss="sparse_categorical_crossentropy"
    )
    rng = np.random.default_rng(0)
    x = rng.random((batch_size * steps, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    model.fit(x[:batch_size], y[:batch_size], batch_size=batch_size, epochs=1, verbose=0)  # warm-up
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
    return len(x) / (time.perf_counter() - start)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)
    devices = ["cpu"] + (["cuda"] if ranvier.cuda.is_available() else [])
    rates = {d: throughput(d, args.steps, args.batch_size) for d in devices}
    print(f"{'device':<8} {'samples/s':>10} {'vs cpu':>7}")
    for device, rate in rates.items():
        name = f"{device} ({ranvier.cuda.device_name()})" if device == "cuda" else device
        print(f"{name:<8} {rate:10.0f} {rate / rates['cpu']:6.2f}x")
    if "cuda" not in rates:
        print("(no GPU available: CPU row only)")
    return rates


if __name__ == "__main__":
    main()
