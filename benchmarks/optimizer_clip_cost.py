"""What the gradient clips add to Optimizer.step: Adam over 10M parameters in 20 weights, one thread.

    PYTHONPATH=python OPENBLAS_NUM_THREADS=1 python benchmarks/optimizer_clip_cost.py

The norms are NumPy dot products and the scaled gradient goes into one scratch buffer the optimizer reuses;
"clipnorm 1e9" measures the norms alone (no gradient is over the clip).
"""

import time

import numpy as np

import ranvier
from ranvier import optimizers
from ranvier.tensor import Tensor

ranvier.set_num_threads(1)
rng = np.random.default_rng(0)
shapes = [(500_000,)] * 20
params = [ranvier.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in shapes]
grads = [Tensor(rng.standard_normal(s).astype(np.float32)) for s in shapes]
for kwargs in [{}, {"clipnorm": 1.0}, {"global_clipnorm": 1.0}, {"clipvalue": 0.5}, {"clipnorm": 1e9}]:
    opt = optimizers.Adam(params, **kwargs)
    times = []
    for _ in range(12):
        for p, g in zip(params, grads):
            p.grad = g
        t = time.perf_counter()
        opt.step()
        times.append(time.perf_counter() - t)
    print(f"Adam {kwargs or 'no clip'}: median {np.median(times[2:]) * 1e3:.1f} ms per step")
