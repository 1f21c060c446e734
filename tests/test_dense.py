"""matmul, linear and linear_backward against the reference."""

import numpy as np
import pytest
from helpers import assert_close, assert_matmul_close, f32, numerical_grad

from ranvier import activations, ops, reference

# (m, k, n): size 1, primes, vector-width edges, layer shapes, larger than one block
# n = 32 / 33 / 65: the last width of AVX-512's 12 x 32 kernel, the first of its 6 x 64 one, and 6 x 64
# with a 1-column edge panel.
SHAPES = [
    (1, 1, 1),
    (1, 5, 3),
    (3, 1, 2),
    (7, 13, 29),
    (12, 32, 32),
    (13, 33, 31),
    (40, 70, 33),
    (45, 20, 65),
    (64, 784, 128),
    (32, 128, 10),
    (251, 300, 97),
    (300, 513, 260),
]


@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_matches_reference(backend, isa, m, k, n, ta, tb, rng):
    a = f32(rng, *((k, m) if ta else (m, k)))
    b = f32(rng, *((n, k) if tb else (k, n)))
    got = backend.numpy(ops.matmul(backend.asarray(a), backend.asarray(b), transpose_a=ta, transpose_b=tb))
    a64 = a.T.astype(np.float64) if ta else a.astype(np.float64)
    b64 = b.T.astype(np.float64) if tb else b.astype(np.float64)
    assert_matmul_close(got, a64, b64, a64 @ b64, what=f"matmul {m}x{k}x{n}")


@pytest.mark.parametrize(
    "m,k,n",
    [(13, 7, 1), (100, 33, 3), (257, 128, 10), (1000, 65, 12), (40, 1, 4), (300, 40, 16), (9, 20, 8), (70, 30, 17)],
)
@pytest.mark.parametrize("tb", [False, True])
def test_narrow_products_computed_transposed(isa, m, k, n, tb, rng):
    """Products at most one vector wide (16 columns on AVX-512, 8 on AVX2) and taller than a micro-tile run as
    c^T = b^T a^T; every ISA, threads split c^T. n = 17 is the first width past every ISA's limit."""
    a = f32(rng, m, k)
    b = f32(rng, n, k).T if tb else f32(rng, k, n)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    assert_matmul_close(ops.matmul(a, b), a64, b64, a64 @ b64, what=f"matmul {m}x{k}x{n}")
    bias = f32(rng, n)
    for act in ("relu", "tanh"):
        got = ops.linear(a, np.ascontiguousarray(b), bias, activation=act)
        assert_close(
            got,
            reference.linear(a64, b64, bias.astype(np.float64), act),
            atol=2e-5 * np.sqrt(k),
            rtol=1e-4,
            what=f"linear {m}x{k}->{n} {act}",
        )


def test_matmul_large_crosses_every_block(isa, rng):
    # k > kc, m > 2 mc (B's column block packed once for all row blocks) and
    # n > nc (a second column block, at an offset into B and C)
    for m, k, n in [(700, 1100, 530), (731, 300, 1301)]:
        a, b = f32(rng, m, k), f32(rng, k, n)
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        assert_matmul_close(ops.matmul(a, b), a64, b64, a64 @ b64, what=f"matmul {m}x{k}x{n}")
        assert_matmul_close(
            ops.matmul(a, np.ascontiguousarray(b.T).T), a64, b64, a64 @ b64, what=f"matmul {m}x{k}x{n}, transposed b"
        )


def test_matmul_batched_broadcast_and_vectors(backend, rng):
    a, b = f32(rng, 4, 1, 5, 6), f32(rng, 3, 6, 7)
    got = backend.numpy(ops.matmul(backend.asarray(a), backend.asarray(b)))
    assert got.shape == (4, 3, 5, 7)
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert_close(got, want, atol=1e-5, rtol=1e-5)
    v = f32(rng, 6)
    assert_close(
        backend.numpy(ops.matmul(backend.asarray(v), backend.asarray(b))),
        v @ b.astype(np.float64),
        atol=1e-5,
        rtol=1e-5,
    )
    assert_close(
        backend.numpy(ops.matmul(backend.asarray(a[0, 0]), backend.asarray(v))),
        a[0, 0] @ v.astype(np.float64),
        atol=1e-5,
        rtol=1e-5,
    )


@pytest.mark.parametrize("k,n,tb", [(1, 1, False), (7, 45, False), (400, 700, False), (400, 700, True)])
def test_matmul_one_b_for_a_batch_is_packed_once(isa, k, n, tb, rng):
    # b broadcast over the batch takes the pre-packed path; k > kc and n > nc
    # cross its k blocks and column blocks, tb its transposing pack.
    a = f32(rng, 3, 37, k)
    b = f32(rng, n, k).T if tb else f32(rng, k, n)
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert_matmul_close(ops.matmul(a, b), a, np.broadcast_to(b, (3, k, n)), want)


def test_matmul_strided_views_without_copy(rng):
    big = f32(rng, 40, 50)
    a = big[1:30:3, 2:40:2]  # (10, 19), both strides non-unit
    b = f32(rng, 19, 60)[:, ::5]
    want = a.astype(np.float64) @ b.astype(np.float64)
    assert_matmul_close(ops.matmul(a, b), a, b, want)


def test_matmul_empty(backend):
    got = backend.numpy(
        ops.matmul(backend.asarray(np.zeros((3, 0), np.float32)), backend.asarray(np.zeros((0, 4), np.float32)))
    )
    assert got.shape == (3, 4) and np.all(got == 0)
    assert backend.numpy(
        ops.matmul(backend.asarray(np.zeros((0, 5), np.float32)), backend.asarray(np.ones((5, 2), np.float32)))
    ).shape == (0, 2)
    # no columns, more rows than a micro-tile (the narrow products' path must not divide by n)
    assert backend.numpy(
        ops.matmul(backend.asarray(np.ones((100, 5), np.float32)), backend.asarray(np.ones((5, 0), np.float32)))
    ).shape == (100, 0)


FUSED = [None, *(a for a in activations.FUSED if a != "linear")]  # every activation the kernels fuse


@pytest.mark.parametrize("act", [None, "relu", "sigmoid", "tanh", "gelu"])
@pytest.mark.parametrize("rows,inp,out", [(1, 1, 1), (5, 3, 2), (64, 784, 128), (33, 17, 10), (256, 128, 10)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_and_backward(backend, isa, act, rows, inp, out, bias, rng):
    x, w = f32(rng, rows, inp), f32(rng, inp, out, scale=1 / np.sqrt(inp))
    b = f32(rng, out) if bias else None
    dy = f32(rng, rows, out)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    b64 = None if b is None else b.astype(np.float64)
    dev = backend.asarray
    y = backend.numpy(ops.linear(dev(x), dev(w), dev(b), activation=act))
    assert_close(y, reference.linear(x64, w64, b64, act), atol=2e-5, rtol=1e-4, what="linear")

    z = reference.linear(x64, w64, b64).astype(np.float32)
    dx, dw, db = (
        backend.numpy(t) for t in ops.linear_backward(dev(dy), dev(x), dev(w), activation=act, y=dev(y), z=dev(z))
    )
    want = reference.linear_backward(
        dy.astype(np.float64), x64, w64, activation=act, y=y.astype(np.float64), z=z.astype(np.float64)
    )
    scale = np.sqrt(max(rows, inp, out))
    for got, ref, name in zip((dx, dw, db), want, ("dx", "dw", "db")):
        assert_close(got, ref, atol=2e-5 * scale, rtol=1e-4, what=name)


def test_linear_leading_axes_and_empty_batch(backend, rng):
    x, w, b = f32(rng, 2, 3, 5), f32(rng, 5, 4), f32(rng, 4)
    y = backend.numpy(ops.linear(backend.asarray(x), backend.asarray(w), backend.asarray(b), "relu"))
    assert y.shape == (2, 3, 4)
    assert_close(y, reference.linear(x.astype(np.float64), w, b, "relu"), atol=1e-5, rtol=1e-5)
    empty = np.zeros((0, 5), np.float32)
    assert backend.numpy(ops.linear(backend.asarray(empty), backend.asarray(w))).shape == (0, 4)
    dx, dw, db = ops.linear_backward(
        backend.asarray(np.zeros((0, 4), np.float32)), backend.asarray(empty), backend.asarray(w)
    )
    assert backend.numpy(dx).shape == (0, 5) and np.all(backend.numpy(dw) == 0) and np.all(backend.numpy(db) == 0)


@pytest.mark.parametrize("act", FUSED[5:])
@pytest.mark.parametrize("rows,inp,out", [(1, 1, 1), (33, 17, 10), (64, 784, 128)])
def test_linear_fuses_every_activation(backend, isa, act, rows, inp, out, rng):
    """The epilogue of every GEMM path applies each fused activation with Keras' defaults; backward from y or z."""
    test_linear_forward_and_backward(backend, isa, act, rows, inp, out, True, rng)


@pytest.mark.parametrize("act", FUSED)
def test_reference_linear_backward_is_the_gradient(act, rng):
    x, w, b, dy = (
        rng.standard_normal((4, 3)),
        rng.standard_normal((3, 2)),
        rng.standard_normal(2),
        rng.standard_normal((4, 2)),
    )

    def loss(x_, w_, b_):
        return np.sum(reference.linear(x_, w_, b_, act) * dy)

    z = reference.linear(x, w, b)
    dx, dw, db = reference.linear_backward(dy, x, w, act, y=reference.linear(x, w, b, act), z=z)
    assert_close(dx, numerical_grad(lambda v: loss(v, w, b), x), atol=1e-6, rtol=1e-5, what="dx")
    assert_close(dw, numerical_grad(lambda v: loss(x, v, b), w), atol=1e-6, rtol=1e-5, what="dw")
    assert_close(db, numerical_grad(lambda v: loss(x, w, v), b), atol=1e-6, rtol=1e-5, what="db")


def test_strided_bias_dy_and_saved_are_read_as_their_values(rng):
    """b, dy and the saved y the kernels read densely are copied once when strided, never misread."""
    x, w = f32(rng, 33, 17), f32(rng, 17, 10, scale=0.3)
    b = f32(rng, 20)[::2]  # not contiguous
    dy = f32(rng, 10, 33).T  # not contiguous
    x64, w64, b64 = x.astype(np.float64), w.astype(np.float64), b.astype(np.float64)
    y = ops.linear(x, w, b, activation="relu")
    assert_close(y, reference.linear(x64, w64, b64, "relu"), atol=2e-5, rtol=1e-4, what="linear, strided bias")
    got = ops.linear_backward(dy, x, w, activation="relu", y=np.asfortranarray(y))
    want = reference.linear_backward(dy.astype(np.float64), x64, w64, activation="relu", y=y.astype(np.float64))
    for g, r, name in zip(got, want, ("dx", "dw", "db")):
        assert_close(g, r, atol=1e-4, rtol=1e-4, what=f"{name}, strided dy")


def test_linear_leading_axes_merged_in_place_or_copied(rng):
    """x (..., in) is read as (rows, in): leading axes that merge are read in place, others copied once."""
    w, b = f32(rng, 6, 5), f32(rng, 5)
    big = f32(rng, 4, 6, 3, 12)
    for x in (big[:, :, 1, ::2], big[1:3, ::2, :, :6].transpose(1, 0, 2, 3), big[0, 0, 0, :6], big[:, :1, :1, :6]):
        want = reference.linear(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), "tanh")
        y = ops.linear(x, w, b, "tanh")
        assert y.shape == x.shape[:-1] + (5,)
        assert_close(y, want, atol=1e-5, rtol=1e-5, what=f"linear, x {x.shape} strides {x.strides}")
        dy = f32(rng, *y.shape)
        got = ops.linear_backward(dy, x, w, "tanh", y=y)
        ref = reference.linear_backward(
            dy.astype(np.float64), x.astype(np.float64), w.astype(np.float64), "tanh", y=y.astype(np.float64)
        )
        assert got[0].shape == x.shape
        for g, r, name in zip(got, ref, ("dx", "dw", "db")):
            assert_close(g, r, atol=1e-4, rtol=1e-4, what=f"{name}, x {x.shape} strides {x.strides}")


def test_matmul_batch_axes_that_do_not_merge(rng):
    """Broadcast batch axes that no single stride describes run as several batched products, without a copy."""
    big = f32(rng, 5, 4, 6, 7)
    cases = [
        (f32(rng, 4, 1, 5, 6), f32(rng, 3, 6, 7)),  # a broadcast over b's batch
        (big[:, ::2], f32(rng, 5, 1, 7, 2)),  # a strided batch, b broadcast on one axis
        (f32(rng, 2, 3, 4, 5, 6).transpose(1, 0, 2, 3, 4), f32(rng, 6, 2)),
        (f32(rng, 1, 2, 1, 3, 4), f32(rng, 2, 1, 3, 4, 2)),
        (f32(rng, 0, 3, 4), f32(rng, 4, 2)),
    ]
    for a, b in cases:
        want = np.matmul(a.astype(np.float64), b.astype(np.float64))
        got = ops.matmul(a, b)
        assert got.shape == want.shape and got.dtype == np.float32
        assert_close(got, want, atol=1e-5, rtol=1e-5, what=f"matmul {a.shape} @ {b.shape}")
    v = f32(rng, 6)
    for a, b in [(v, big[:, ::2]), (big[:, ::2], f32(rng, 7)), (v, v)]:
        want = np.matmul(a.astype(np.float64), b.astype(np.float64))
        got = ops.matmul(a, b)
        assert np.shape(got) == want.shape
        assert_close(got, want, atol=1e-5, rtol=1e-5, what=f"matmul {a.shape} @ {b.shape}")


def test_bad_input_is_named():
    x, w = np.zeros((4, 3), np.float32), np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match=r"\[matmul\] inner dimensions differ"):
        ops.matmul(x, x)
    with pytest.raises(TypeError, match=r"\[matmul\] b must be a float32 array, got \(3, 2\) float64"):
        ops.matmul(x, w.astype(np.float64))
    with pytest.raises(ValueError, match=r"\[matmul\] batch axes do not broadcast"):
        ops.matmul(np.zeros((2, 4, 3), np.float32), np.zeros((3, 3, 2), np.float32))
    with pytest.raises(ValueError, match=r"\[linear\] w must be \(in, out\) float32, got \(3,\) float32"):
        ops.linear(x, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"\[linear\] x has 3 features on its last axis but w is \(2, 2\)"):
        ops.linear(x, np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match=r"\[linear\] b must be \(2,\)"):
        ops.linear(x, w, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"\[linear\] activation must be None or one of"):
        ops.linear(x, w, activation="swish")
    with pytest.raises(ValueError, match=r"\[linear_backward\] activation 'relu' needs y="):
        ops.linear_backward(np.zeros((4, 2), np.float32), x, w, activation="relu")
    with pytest.raises(ValueError, match=r"\[linear_backward\] dy must be \(4, 2\)"):
        ops.linear_backward(np.zeros((4, 3), np.float32), x, w)


def test_raw_kernels_refuse_bad_arrays():
    """The compiled module is where the checks live: called directly, it names the op and argument too."""
    from ranvier import _cpu

    x, w = np.zeros((4, 3), np.float32), np.zeros((3, 2), np.float32)
    with pytest.raises(TypeError, match=r"\[matmul\] a must be a float32 array, got \(4, 3\) float64"):
        _cpu.matmul(x.astype(np.float64), w)
    with pytest.raises(
        ValueError, match=r"\[matmul\] inner dimensions differ: a is \(4, 3\) \(k=3\), b is \(2, 3\) \(k=2\)"
    ):
        _cpu.matmul(x, w, False, True)
    with pytest.raises(ValueError, match=r"\[matmul\] operands must have at least one axis, got a \(\) and b \(3, 2\)"):
        _cpu.matmul(np.float32(1), w)
    with pytest.raises(ValueError, match=r"\[matmul\] batch axes do not broadcast: a is \(2, 4, 3\), b is \(3, 3, 2\)"):
        _cpu.matmul(np.zeros((2, 4, 3), np.float32), np.zeros((3, 3, 2), np.float32))
    # float32 in the other byte order, a list and a float are not float32 arrays either
    with pytest.raises(TypeError, match=r"\[matmul\] a must be a float32 array"):
        _cpu.matmul(x.astype(x.dtype.newbyteorder()), w)
    with pytest.raises(TypeError, match=r"\[matmul\] a must be an array .*, got list"):
        _cpu.matmul(x.tolist(), w)
    with pytest.raises(TypeError, match=r"\[matmul\] b must be an array .*, got float"):
        _cpu.matmul(x, 1.0)
    with pytest.raises(ValueError, match=r"\[linear\] w must be \(in, out\) float32, got \(3,\) float32"):
        _cpu.linear(x, w[:, 0])
    with pytest.raises(ValueError, match=r"\[linear\] x has 3 features on its last axis but w is \(2, 2\)"):
        _cpu.linear(x, w[:2])
    with pytest.raises(ValueError, match=r"\[linear\] b must be \(2,\) to match w \(3, 2\), got \(3,\)"):
        _cpu.linear(x, w, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"\[linear\] x must be \(\.\.\., in\) float32, got \(\) float32"):
        _cpu.linear(np.float32(1), w)
    with pytest.raises(ValueError, match=r"\[linear\] activation must be None or one of"):
        _cpu.linear(x, w, None, "swish")
    with pytest.raises(
        ValueError, match=r"\[linear_backward\] activation 'gelu' needs z= \(the forward pre-activation\)"
    ):
        _cpu.linear_backward(np.zeros((4, 2), np.float32), x, w, "gelu", y=np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match=r"\[linear_backward\] y must be \(4, 2\) float32, got \(4, 3\) float32"):
        _cpu.linear_backward(np.zeros((4, 2), np.float32), x, w, "relu", y=x)
    with pytest.raises(TypeError, match=r"\[linear_backward\] dy must be a float32 array, got \(4, 2\) float64"):
        _cpu.linear_backward(np.zeros((4, 2)), x, w)
    dx, dw, db = _cpu.linear_backward(np.ones((4, 2), np.float32), x, w, "relu", y=np.ones((4, 2), np.float32))
    assert dx.shape == (4, 3) and dw.shape == (3, 2) and db.shape == (2,) and np.all(db == 4)

    # a subclass of ndarray is an array: accepted, as before
    class Tagged(np.ndarray):
        pass

    assert np.all(_cpu.matmul(np.ones((1, 2, 3), np.float32).view(Tagged), np.ones((1, 3, 2), np.float32)) == 3)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_matmul_row_major_a_read_in_place_and_every_work_split(rng, threads):
    """Row-major A is read in place (no packing); stride-0 rows and odd splits still come out right."""
    import ranvier

    before = ranvier.get_num_threads()
    ranvier.set_num_threads(threads)
    try:
        for m, k, n in [(130, 300, 40), (13, 1000, 700), (500, 70, 33)]:
            a, b = f32(rng, m, k), f32(rng, k, n)
            want = a.astype(np.float64) @ b.astype(np.float64)
            assert_matmul_close(ops.matmul(a, b), a, b, want)
        row = np.broadcast_to(f32(rng, 1, 300), (130, 300))  # every row the same memory
        b = f32(rng, 300, 40)
        assert_matmul_close(ops.matmul(row, b), row, b, row.astype(np.float64) @ b.astype(np.float64))
    finally:
        ranvier.set_num_threads(before)


# (k, n): K = 1, odd N and K, N = 1, one column past a vector and a pass of the matrix-vector kernel
# (8 vectors: 128 columns on AVX-512, 64 on AVX2), a k past the GEMM's k blocks (kc = 128 to 256).
GEMV_SHAPES = [(1, 1), (1, 37), (5, 1), (17, 129), (300, 10), (333, 65), (700, 257), (1600, 128)]


@pytest.mark.parametrize("k,n", GEMV_SHAPES)
@pytest.mark.parametrize("act", [None, "relu", "sigmoid", "gelu"])
def test_few_rows_take_the_matrix_vector_path_with_the_gemms_bits(isa, k, n, act, rng):
    """A product of 1 to 4 rows reads B in place (no packing) but sums in the GEMM's order: each of its rows
    equals, bit for bit, the same row of a product of many rows; and both match the reference."""
    x, w, b = f32(rng, 11, k), f32(rng, k, n), f32(rng, n)
    many = ops.linear(x, w, b, activation=act)
    for m in (1, 2, 3, 4):
        np.testing.assert_array_equal(ops.linear(x[:m], w, b, activation=act), many[:m], err_msg=f"{m} rows")
        np.testing.assert_array_equal(ops.matmul(x[:m], w), ops.matmul(x, w)[:m], err_msg=f"matmul, {m} rows")
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    assert_close(
        many[:1],
        reference.linear(x64[:1], w64, b.astype(np.float64), act),
        atol=2e-5 * np.sqrt(k),
        rtol=1e-4,
        what=f"linear 1x{k}->{n} {act}",
    )


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_matrix_vector_path_strided_inputs_and_threads(rng, threads):
    """Strided x (any strides), w with rows apart (a column slice), a w read column-major (the GEMM's path),
    and a product large enough for threads to split its columns."""
    import ranvier

    before = ranvier.get_num_threads()
    ranvier.set_num_threads(threads)
    try:
        for k, n in [(300, 70), (1024, 1030)]:
            x, w = f32(rng, 2, 2 * k)[:, ::2], f32(rng, k, n + 9)[:, 3 : 3 + n]
            x64, w64 = x.astype(np.float64), w.astype(np.float64)
            assert_matmul_close(ops.matmul(x, w), x64, w64, x64 @ w64, what=f"strided 2x{k}x{n}")
            wt = np.ascontiguousarray(w.T).T  # columns apart: not the matrix-vector path's layout
            assert_matmul_close(ops.matmul(x[:1], wt), x64[:1], w64, x64[:1] @ w64, what=f"column-major 1x{k}x{n}")
            bias = f32(rng, n)
            want = reference.linear(x64, w64, bias.astype(np.float64), "tanh")
            assert_close(ops.linear(x, w, bias, activation="tanh"), want, atol=2e-5 * np.sqrt(k), rtol=1e-4)
    finally:
        ranvier.set_num_threads(before)


def test_matrix_vector_path_empty_k_and_nan(isa):
    """K = 0 leaves bias and activation; a NaN or Inf in x or w reaches exactly the outputs it feeds, as in NumPy."""
    b = np.array([0.5, -2.0, 3.0], np.float32)
    np.testing.assert_array_equal(
        ops.linear(np.zeros((1, 0), np.float32), np.zeros((0, 3), np.float32), b, "relu"), [[0.5, 0.0, 3.0]]
    )
    x = np.ones((2, 40), np.float32)
    w = np.ones((40, 70), np.float32)
    x[1, 5] = np.nan
    w[7, 3] = np.inf
    w[8, 3] = -np.inf  # inf - inf: NaN in column 3 of every row
    w[9, 60] = np.inf
    with np.errstate(invalid="ignore"):
        want = x @ w
    got = ops.matmul(x, w)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isfinite(want)], want[np.isfinite(want)])
    assert got[0, 60] == np.inf


@pytest.mark.parametrize("threads", [2, 3])
def test_long_k_products_split_along_k_across_threads(isa, rng, threads):
    """A weight gradient x^T @ dy over a batch (small C, long k) is summed in one share of k per thread:
    right for odd shares, with a NaN in one share only, and in linear_backward's dw."""
    from helpers import num_threads

    with num_threads(threads):
        for m, k, n in [(128, 2048, 128), (37, 1537, 65), (7, 4099, 250)]:
            x, dy = f32(rng, k, m), f32(rng, k, n)
            want = x.T.astype(np.float64) @ dy.astype(np.float64)
            assert_matmul_close(ops.matmul(x.T, dy), x.T, dy, want)
            _, dw, _ = ops.linear_backward(dy, x, f32(rng, m, n), need_dx=False)
            assert_matmul_close(dw, x.T, dy, want)
        x, dy = f32(rng, 2048, 128), f32(rng, 2048, 128)
        x[2000, 5] = np.nan  # in the last thread's share of k: row 5 of the product is NaN, the rest is not
        c = ops.matmul(x.T, dy)
        assert np.isnan(c[5]).all() and not np.isnan(np.delete(c, 5, axis=0)).any()
        # a row-major A (a layer's input) is never split: its rows keep their bits at any batch size
        a, b = f32(rng, 9, 1600), f32(rng, 1600, 128)
        np.testing.assert_array_equal(ops.matmul(a, b)[:1], ops.matmul(a[:1], b))
