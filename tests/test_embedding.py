"""embedding and embedding_backward: kernels against the reference, the
reference against finite differences."""

import numpy as np
import pytest
from helpers import assert_close, f32, num_threads, numerical_grad

from ranvier import ops, reference

ID_DTYPES = [np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint32, np.uint64]


def test_reference_backward_is_the_gradient(rng):
    ids = np.array([[2, 0, 2], [3, 2, 0]])  # repeats and an unused row (1)
    table, dy = rng.standard_normal((4, 3)), rng.standard_normal((2, 3, 3))
    want = numerical_grad(lambda t: np.sum(reference.embedding(ids, t) * dy), table)
    assert_close(reference.embedding_backward(dy, ids, 4), want, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("d", [1, 7, 33, 1000])
@pytest.mark.parametrize("ids_shape", [(), (1,), (7,), (3, 5), (2, 3, 4)])
def test_matches_reference(backend, d, ids_shape, rng):
    v = 50
    ids = rng.integers(0, v, ids_shape)
    table, dy = f32(rng, v, d), f32(rng, *ids_shape, d)
    y = backend.numpy(ops.embedding(backend.asarray(ids), backend.asarray(table)))
    np.testing.assert_array_equal(y, reference.embedding(ids, table))
    dtable = backend.numpy(ops.embedding_backward(backend.asarray(dy), backend.asarray(ids), v))
    want = reference.embedding_backward(dy.astype(np.float64), ids, v)
    assert_close(dtable, want, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("dtype", ID_DTYPES)
def test_any_integer_dtype(backend, dtype, rng):
    ids = rng.integers(0, 100, (4, 6)).astype(dtype)
    table, dy = f32(rng, 100, 9), f32(rng, 4, 6, 9)
    y = backend.numpy(ops.embedding(backend.asarray(ids), backend.asarray(table)))
    np.testing.assert_array_equal(y, table[ids])
    dtable = backend.numpy(ops.embedding_backward(backend.asarray(dy), backend.asarray(ids), 100))
    assert_close(dtable, reference.embedding_backward(dy.astype(np.float64), ids, 100), atol=1e-6, rtol=1e-6)


def test_repeated_ids_accumulate(backend, rng):
    ids = np.array([3, 3, 1, 3, 0, 1])
    dy = f32(rng, 6, 40)
    dtable = backend.numpy(ops.embedding_backward(backend.asarray(dy), backend.asarray(ids), 5))
    assert_close(dtable[3], dy[0].astype(np.float64) + dy[1] + dy[3], atol=1e-6, rtol=1e-6)
    assert_close(dtable[1], dy[2].astype(np.float64) + dy[5], atol=1e-6, rtol=1e-6)
    assert np.all(dtable[[2, 4]] == 0)


def test_backward_does_not_depend_on_the_thread_count(rng):
    # each id about 12 times; enough rows for two threads
    ids = rng.integers(0, 400, 5000)
    dy = f32(rng, 5000, 96)
    results = []
    for n in (1, 2):
        with num_threads(n):
            results.append(ops.embedding_backward(dy, ids, 400))
    np.testing.assert_array_equal(results[0], results[1])


def test_strided_inputs_and_empty_ids(backend, rng):
    table = f32(rng, 10, 8)
    ids = rng.integers(0, 10, (6, 4))[::2, ::-1]
    y = backend.numpy(ops.embedding(backend.asarray(ids), backend.asarray(table[:, ::2])))
    np.testing.assert_array_equal(y, table[:, ::2][ids])
    empty = np.zeros((0, 3), np.int64)
    assert backend.numpy(ops.embedding(backend.asarray(empty), backend.asarray(table))).shape == (0, 3, 8)
    dtable = backend.numpy(
        ops.embedding_backward(backend.asarray(np.zeros((0, 3, 8), np.float32)), backend.asarray(empty), 10)
    )
    assert dtable.shape == (10, 8) and np.all(dtable == 0)


def test_bad_input_is_named():
    table = np.zeros((10, 4), np.float32)
    with pytest.raises(ValueError, match=r"\[embedding\] ids must be in \[0, 10\) \(the rows of the table\), got -1"):
        ops.embedding(np.array([0, -1, 3]), table)
    with pytest.raises(ValueError, match=r"\[embedding\] ids must be in \[0, 10\) .*, got 10"):
        ops.embedding(np.array([[0, 10], [3, 2]], np.uint8), table)
    with pytest.raises(ValueError, match=r"got 18446744073709551615"):
        ops.embedding(np.array([2**64 - 1], np.uint64), table)
    with pytest.raises(TypeError, match=r"\[embedding\] ids must be an integer array, got \(2,\) float32"):
        ops.embedding(np.zeros(2, np.float32), table)
    with pytest.raises(TypeError, match=r"\[embedding\] ids must be an integer array, got \(2,\) bool"):
        ops.embedding(np.zeros(2, bool), table)
    with pytest.raises(TypeError, match=r"\[embedding\] ids must be an array"):
        ops.embedding([1, 2], table)
    with pytest.raises(TypeError, match=r"\[embedding\] table must be \(V, D\) float32, got \(10, 4\) float64"):
        ops.embedding(np.array([1]), table.astype(np.float64))
    with pytest.raises(ValueError, match=r"\[embedding\] table must be \(V, D\) float32, got \(10,\) float32"):
        ops.embedding(np.array([1]), np.zeros(10, np.float32))
    dy = np.zeros((2, 4), np.float32)
    with pytest.raises(ValueError, match=r"\[embedding_backward\] ids must be in \[0, 3\) .*, got 5"):
        ops.embedding_backward(dy, np.array([1, 5]), 3)
    with pytest.raises(ValueError, match=r"\[embedding_backward\] dy must be ids.shape \+ \(D,\) = \(3,\) \+ \(D,\)"):
        ops.embedding_backward(dy, np.array([1, 2, 0]), 3)
    with pytest.raises(ValueError, match=r"\[embedding_backward\] num_embeddings must be an integer >= 0, got -2"):
        ops.embedding_backward(dy, np.array([1, 2]), -2)
    with pytest.raises(TypeError, match=r"\[embedding_backward\] num_embeddings must be an integer, got float"):
        ops.embedding_backward(dy, np.array([1, 2]), 3.0)


def test_raw_kernels_refuse_bad_arrays():
    """The compiled module is where the checks live: called directly, it names the op and argument too."""
    from ranvier import _cpu

    table = np.zeros((10, 4), np.float32)
    with pytest.raises(ValueError, match=r"\[embedding\] ids must be in \[0, 10\) \(the rows of the table\), got 10"):
        _cpu.embedding(np.array([1, 10], np.int64), table)
    with pytest.raises(ValueError, match=r"\[embedding\] ids must be in \[0, 10\) .*, got -5"):
        _cpu.embedding(np.array([-5], np.int32), table)
    with pytest.raises(TypeError, match=r"\[embedding\] ids must be an integer array, got \(1,\) float64"):
        _cpu.embedding(np.array([1.0]), table)
    with pytest.raises(ValueError, match=r"\[embedding_backward\] ids must be in \[0, 10\) .*, got 12"):
        _cpu.embedding_backward(np.zeros((1, 4), np.float32), np.array([12], np.int64), 10)
    with pytest.raises(
        ValueError,
        match=r"\[embedding_backward\] dy must be ids.shape \+ \(D,\) = \(1,\) \+ \(D,\) float32, got \(2, 4\) float32",
    ):
        _cpu.embedding_backward(np.zeros((2, 4), np.float32), np.array([1], np.int64), 10)


def test_bad_ids_are_shown_as_they_are():
    """The id a message shows is the caller's, whatever its dtype and layout."""
    table = np.zeros((10, 4), np.float32)
    with pytest.raises(ValueError, match=r"got 9223372036854775808$"):
        ops.embedding(np.array([1, 2**63], np.uint64), table)
    with pytest.raises(ValueError, match=r"got 99$"):
        ops.embedding(np.array([[0, 1], [2, 99]], np.int16)[:, ::-1], table)
    with pytest.raises(ValueError, match=r"got 12$"):
        ops.embedding(np.array([[3, 12], [2, 4]], np.int64).T, table)
