"""ranvier: deep learning with readable C++/CUDA kernels under a familiar API."""

from ranvier import (
    autograd,
    backend,
    callbacks,
    cuda,
    datasets,
    functional,
    initializers,
    interop,
    layers,
    losses,
    metrics,
    ops,
    optimizers,
    reference,
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
from ranvier.models import Model, Sequential
from ranvier.saving import load_model
from ranvier.serialization import load, save
from ranvier.tensor import Tensor, from_dlpack, no_grad, tensor

__all__ = [
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
