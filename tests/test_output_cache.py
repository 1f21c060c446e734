"""The output cache: large op outputs reuse the buffers of dead arrays of the same size."""

import os
import subprocess
import sys

import numpy as np
import pytest

import ranvier
from ranvier import _cpu, ops

F32 = np.dtype(np.float32)
PAGE = 4096
BIG = (_cpu.CACHED_OUTPUT_MIN_BYTES // 4 // 64 + 1, 64)  # float32 rows just over the threshold


@pytest.fixture(autouse=True)
def restore_limit():
    limit = ranvier.get_output_cache_limit()
    yield
    ranvier.set_output_cache_limit(limit)


def test_empty_is_a_page_aligned_c_ordered_writeable_array():
    for shape, dtype in [((3, 5, 7), F32), ((1,), np.dtype(np.uint8)), ((300, 1001), F32)]:
        a = _cpu.empty(shape, dtype)
        assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
        assert a.ctypes.data % PAGE == 0
        a[...] = 7
        assert np.all(a == 7)
    assert _cpu.empty((0, 5), F32).shape == (0, 5)
    with pytest.raises(ValueError, match=r"\[empty\] shape must not be negative"):
        _cpu.empty((2, -1), F32)
    with pytest.raises(ValueError, match=r"\[empty\] shape too large"):
        _cpu.empty((1 << 40, 1 << 40), F32)


def test_a_dead_arrays_buffer_serves_the_next_array_of_its_size():
    ranvier.set_output_cache_limit(0)  # empty
    ranvier.set_output_cache_limit(64 << 20)
    a = _cpu.empty((512, 1024), F32)
    address = a.ctypes.data
    del a
    assert _cpu.output_cache_held() == 2 << 20
    b = _cpu.empty((1024, 512), F32)  # the same bytes, another shape
    assert b.ctypes.data == address and _cpu.output_cache_held() == 0
    c = _cpu.empty((1024, 513), F32)  # more pages: a new buffer
    assert c.ctypes.data != address


def test_buffers_of_4mb_and_more_are_whole_2mb_pages():
    ranvier.set_output_cache_limit(0)
    ranvier.set_output_cache_limit(64 << 20)
    u8 = np.dtype(np.uint8)
    a = _cpu.empty(((4 << 20) + PAGE,), u8)
    address = a.ctypes.data
    assert address % (2 << 20) == 0
    del a
    assert _cpu.output_cache_held() == 6 << 20
    b = _cpu.empty((5 << 20,), u8)  # also 6 MB of whole 2 MB pages: the same buffer
    assert b.ctypes.data == address and _cpu.output_cache_held() == 0


def test_a_view_keeps_the_buffer_from_being_reused():
    ranvier.set_output_cache_limit(64 << 20)
    x = np.random.default_rng(0).standard_normal((1024, 256)).astype(np.float32)
    y = ops.relu(x)
    assert y.ctypes.data % PAGE == 0  # 1 MB: from the cache
    view = y[::2]
    held = _cpu.output_cache_held()
    del y
    assert _cpu.output_cache_held() == held
    other = ops.relu(-x)  # same size: must not land on the view's memory
    assert other.ctypes.data != view.ctypes.data
    np.testing.assert_array_equal(view, np.maximum(x[::2], 0))


def test_the_limit_evicts_the_oldest_buffers_first():
    ranvier.set_output_cache_limit(0)
    assert _cpu.output_cache_held() == 0
    sizes = [64 * PAGE, 65 * PAGE, 66 * PAGE, 67 * PAGE]
    arrays = [_cpu.empty((s,), np.dtype(np.uint8)) for s in sizes]
    ranvier.set_output_cache_limit(sum(sizes[1:]))
    for i in range(len(arrays)):  # given back in order: the fourth evicts the first
        arrays[i] = None
    assert _cpu.output_cache_held() == sum(sizes[1:])
    ranvier.set_output_cache_limit(sizes[3])
    assert _cpu.output_cache_held() == sizes[3]
    ranvier.set_output_cache_limit(0)
    assert _cpu.output_cache_held() == 0


def test_a_buffer_over_the_limit_leaves_the_others_in_the_cache():
    ranvier.set_output_cache_limit(0)
    ranvier.set_output_cache_limit(1 << 20)
    small, huge = _cpu.empty((64 * PAGE,), np.dtype(np.uint8)), _cpu.empty((2 << 20,), np.dtype(np.uint8))
    del small, huge
    assert _cpu.output_cache_held() == 64 * PAGE


def test_limit_zero_keeps_nothing():
    ranvier.set_output_cache_limit(0)
    a = _cpu.empty(BIG, F32)
    del a
    assert _cpu.output_cache_held() == 0


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1"])
def test_limit_must_be_a_non_negative_integer(bad):
    with pytest.raises(ValueError, match=r"\[set_output_cache_limit\] nbytes"):
        ranvier.set_output_cache_limit(bad)


def test_only_large_outputs_come_from_the_cache():
    assert ops.relu(np.zeros((8, 8), F32)).base is None  # small: NumPy's
    y, mask = ops.dropout(np.ones(_cpu.CACHED_OUTPUT_MIN_BYTES, F32), 0.5, 1)
    for big in (y, mask):  # float32 and uint8 outputs alike
        assert big.base is not None and big.ctypes.data % PAGE == 0
    assert mask.dtype == np.uint8


def test_ops_outputs_come_from_the_cache():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, 2, 256, 64)).astype(np.float32) for _ in range(3))
    out, lse = ops.attention(q, k, v, return_lse=True)
    a, b = rng.standard_normal((2, 256, 300)).astype(np.float32), rng.standard_normal((300, 256)).astype(np.float32)
    for big in (out, ops.matmul(a[0], b), ops.linear(a[0], b, None), ops.matmul(a, b)):
        assert big.nbytes >= _cpu.CACHED_OUTPUT_MIN_BYTES and big.ctypes.data % PAGE == 0
    assert lse.base is None  # 2 KB: NumPy's


@pytest.mark.parametrize(
    "value,expected", [("5", 5 << 20), ("0", 0), ("lots", 256 << 20), ("-5", 256 << 20), ("", 256 << 20)]
)
def test_environment_variable_sets_the_default_limit(value, expected):
    env = dict(os.environ, RANVIER_OUTPUT_CACHE_MB=value)
    out = subprocess.run(
        [sys.executable, "-c", "import ranvier; print(ranvier.get_output_cache_limit())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert int(out) == expected
