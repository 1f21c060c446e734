"""PyTorch style: ``DistributedDataParallel`` for hand-written training loops.

    model = ranvier.distributed.DistributedDataParallel(model)
    opt = ranvier.optimizers.Adam(model.parameters())
    for idx in batches_of(DistributedSampler(len(x), seed=epoch)):
        loss = loss_fn(y[idx], model(x[idx]))
        opt.zero_grad(); loss.backward(); opt.step()     # backward averaged the gradients

As PyTorch's: the constructor checks every rank built the same model and
copies rank 0's weights to all; each call under autograd arms the gradient
reducer, so the next ``backward()`` returns with every gradient averaged over
the ranks (reduced in buckets while backward ran).
"""

from __future__ import annotations

from ranvier.distributed import collectives, reducer, weights
from ranvier.tensor import is_grad_enabled


class DistributedDataParallel:
    """Wraps a built model; attributes other than the call are the model's (``.module`` is the model)."""

    def __init__(self, module, bucket_bytes: int = reducer.DEFAULT_BUCKET_BYTES, overlap="auto"):
        if not module.built:
            raise ValueError(
                f"[DistributedDataParallel] {module.name} has no weights yet: give its first layer input_shape= "
                "or call it on a batch first"
            )
        collectives.init()
        named = module.named_weights()
        weights.require_same_structure("DistributedDataParallel", named)
        weights.broadcast_weights([w for _, w in named])
        self.module = module
        self.reducer = reducer.GradientReducer(module.trainable_weights, bucket_bytes, overlap)

    def __call__(self, x, *args, **kwargs):
        if is_grad_enabled():
            self.reducer.arm(1.0 / collectives.world_size())
        return self.module(x, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.module, name)
