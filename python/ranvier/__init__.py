"""ranvier: deep learning with readable C++/CUDA kernels under a familiar API."""
from ranvier._version import __version__
from ranvier._runtime import (get_isa, get_num_threads, get_output_cache_limit, set_isa, set_num_threads,
                              set_output_cache_limit, supported_isas)
from ranvier import backend, cuda, ops, reference
from ranvier.tensor import Tensor, no_grad, tensor
from ranvier import functional
from ranvier import callbacks, datasets, initializers, layers, losses, metrics, optimizers, utils
from ranvier.models import Model, Sequential
from ranvier.saving import load_model

__all__ = [
    "Model",
    "Sequential",
    "callbacks",
    "datasets",
    "initializers",
    "layers",
    "load_model",
    "losses",
    "metrics",
    "optimizers",
    "utils",
    "__version__",
    "Tensor",
    "backend",
    "cuda",
    "functional",
    "get_isa",
    "get_num_threads",
    "get_output_cache_limit",
    "no_grad",
    "ops",
    "reference",
    "set_isa",
    "set_num_threads",
    "set_output_cache_limit",
    "supported_isas",
    "tensor",
]
