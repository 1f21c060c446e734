"""ranvier.from_dlpack and Tensor.__dlpack__ with JAX on the CPU: both ways share memory (same pointer).

JAX -> ranvier never copies. ranvier -> JAX: XLA copies a CPU buffer that is not 64-byte aligned (NumPy
aligns to 16), so the test hands it an aligned one; that copy is JAX's choice, not ranvier's.

JAX is not in the test extra; this runs where it is installed and skips elsewhere.
"""

import numpy as np
import pytest

import ranvier

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")


def _cpu():
    return jax.devices("cpu")[0]


def test_jax_array_into_ranvier_without_a_copy():
    source = jax.device_put(jnp.arange(12, dtype=jnp.float32).reshape(3, 4), _cpu())
    t = ranvier.from_dlpack(source)
    assert isinstance(t, ranvier.Tensor) and t.shape == (3, 4) and t.dtype == np.float32
    assert t.data.ctypes.data == source.unsafe_buffer_pointer()
    np.testing.assert_array_equal((t * 2).numpy(), np.arange(12, dtype=np.float32).reshape(3, 4) * 2)


def test_ranvier_tensor_into_jax_without_a_copy():
    # XLA takes a CPU buffer without copying when it is aligned as it needs (64 bytes): allocate so
    raw = np.empty(12 + 16, np.float32)
    offset = (-raw.ctypes.data % 64) // 4
    data = raw[offset : offset + 12].reshape(3, 4)
    data[...] = np.random.default_rng(0).standard_normal((3, 4))
    t = ranvier.from_dlpack(data)  # a Tensor over that buffer (ranvier.tensor would copy it)
    assert t.data.ctypes.data == data.ctypes.data
    as_jax = jax.dlpack.from_dlpack(t)
    assert as_jax.unsafe_buffer_pointer() == t.data.ctypes.data
    np.testing.assert_array_equal(np.asarray(as_jax), data)
