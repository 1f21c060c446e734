"""ranvier: deep learning with readable C++/CUDA kernels under a familiar API."""

from ranvier import (
    autograd,
    backend,
    callbacks,
    constraints,
    cuda,
    datasets,
    functional,
    initializers,
    layers,
    losses,
    metrics,
    ops,
    optimizers,
    reference,
    regularizers,
    schedules,
    utils,
)
from ranvier._runtime import (
    get_isa,
    get_num_threads,
    get_output_cache_limit,
    set_isa,
    set_num_threads,
    set_output_cache_limit,
    supported_isas,
)
from ranvier._version import __version__
from ranvier.functional import concatenate as cat
from ranvier.functional import stack, where
from ranvier.layers import Input
from ranvier.models import Model, Sequential
from ranvier.saving import load_model
from ranvier.serialization import load, save
from ranvier.tensor import Tensor, from_dlpack, no_grad, tensor

# Loaded on first use, not by `import ranvier`: weight import and the
# PyTorch-style modules most programs never touch.
_ON_FIRST_USE = ("interop", "nn")


def __getattr__(name: str):
    if name in _ON_FIRST_USE:
        import importlib

        return importlib.import_module(f"ranvier.{name}")
    raise AttributeError(f"module 'ranvier' has no attribute {name!r}")


__all__ = [
    "Input",
    "Model",
    "Sequential",
    "callbacks",
    "datasets",
    "initializers",
    "interop",
    "layers",
    "load_model",
    "losses",
    "metrics",
    "optimizers",
    "regularizers",
    "constraints",
    "schedules",
    "utils",
    "__version__",
    "Tensor",
    "autograd",
    "backend",
    "cat",
    "cuda",
    "from_dlpack",
    "load",
    "functional",
    "get_isa",
    "get_num_threads",
    "get_output_cache_limit",
    "no_grad",
    "ops",
    "reference",
    "save",
    "set_isa",
    "set_num_threads",
    "set_output_cache_limit",
    "stack",
    "supported_isas",
    "tensor",
    "where",
]
