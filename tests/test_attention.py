"""attention and attention_backward: the reference against finite differences,
the tiled kernels against the reference (values, lse and every gradient)."""

import numpy as np
import pytest
from helpers import assert_close, f32, num_threads, numerical_grad

from ranvier import ops, reference


def _f64(*arrays):
    return [None if a is None else np.asarray(a, dtype=np.float64) for a in arrays]


def _run_ops(backend, q, k, v, dout, mask, causal, scale):
    """(out, lse, dq, dk, dv) from the kernels, as NumPy arrays."""
    dev = backend.asarray
    out, lse = ops.attention(dev(q), dev(k), dev(v), mask=dev(mask), causal=causal, scale=scale, return_lse=True)
    grads = ops.attention_backward(
        dev(dout), dev(q), dev(k), dev(v), out, lse, mask=dev(mask), causal=causal, scale=scale
    )
    return [backend.numpy(a) for a in (out, lse, *grads)]


def _run_reference(q, k, v, dout, mask, causal, scale):
    q, k, v, dout = _f64(q, k, v, dout)
    out, lse = reference.attention(q, k, v, mask=mask, causal=causal, scale=scale, return_lse=True)
    return [out, lse, *reference.attention_backward(dout, q, k, v, out, lse, mask=mask, causal=causal, scale=scale)]


def _close(got, want, rel, what):
    """Error relative to the largest value of the result (a float32 kernel's
    error in a sum of many terms scales with the terms, not with the sum)."""
    bound = rel * max(1.0, float(np.max(np.abs(want), initial=0.0)))
    assert_close(got, want, atol=bound, rtol=rel, what=what)


def check_against_reference(backend, q, k, v, rng, mask=None, causal=False, scale=None, rel=4e-6):
    dout = f32(rng, *q.shape[:3], v.shape[3])
    got = _run_ops(backend, q, k, v, dout, mask, causal, scale)
    want = _run_reference(q, k, v, dout, mask, causal, scale)
    for g, w, name in zip(got, want, ("out", "lse", "dq", "dk", "dv")):
        if name == "lse":
            # -inf exactly where a query has no allowed key
            np.testing.assert_array_equal(np.isneginf(g), np.isneginf(w), err_msg="lse -inf rows")
            g, w = np.where(np.isneginf(w), 0, g), np.where(np.isneginf(w), 0, w)
        _close(g, w, rel, name)
    return got


# (B, H, Lq, Lk, D, Dv): size 1, Lq == Lk, Lq > Lk, Lq < Lk, lengths that are not
# a multiple of the 96-wide tiles, several tiles each way, D = 1, D = 64, Dv != D
SHAPES = [
    (1, 1, 1, 1, 1, 1),
    (2, 3, 5, 5, 4, 4),
    (1, 2, 67, 67, 16, 16),
    (2, 1, 130, 67, 8, 5),
    (1, 3, 67, 130, 64, 64),
    (1, 1, 130, 130, 64, 32),
    (1, 2, 200, 290, 16, 24),
    (2, 2, 1, 70, 3, 7),
    (1, 2, 70, 1, 1, 3),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("causal", [False, True])
def test_matches_reference(backend, shape, causal, rng):
    b, h, lq, lk, d, dv = shape
    check_against_reference(
        backend, f32(rng, b, h, lq, d), f32(rng, b, h, lk, d), f32(rng, b, h, lk, dv), rng, causal=causal
    )


@pytest.mark.parametrize(
    "shape", [(2, 2, 67, 130, 16, 24), (1, 1, 130, 67, 64, 64)], ids=lambda s: "x".join(map(str, s))
)
def test_every_isa(backend, isa, shape, rng):
    b, h, lq, lk, d, dv = shape
    mask = rng.random((lq, lk)) < 0.8
    for causal in (False, True):
        check_against_reference(
            backend, f32(rng, b, h, lq, d), f32(rng, b, h, lk, d), f32(rng, b, h, lk, dv), rng, mask=mask, causal=causal
        )


MASK_SHAPES = {
    "LqLk": lambda b, h, lq, lk: (lq, lk),
    "Lk": lambda b, h, lq, lk: (lk,),
    "B11Lk": lambda b, h, lq, lk: (b, 1, 1, lk),
    "B1LqLk": lambda b, h, lq, lk: (b, 1, lq, lk),
    "BHLqLk": lambda b, h, lq, lk: (b, h, lq, lk),
    "1H11": lambda b, h, lq, lk: (1, h, 1, 1),
}


@pytest.mark.parametrize("kind", list(MASK_SHAPES))
@pytest.mark.parametrize("causal", [False, True])
def test_mask_shapes(backend, kind, causal, rng):
    b, h, lq, lk, d = 2, 3, 67, 70, 8
    mask = rng.random(MASK_SHAPES[kind](b, h, lq, lk)) < 0.7
    if kind == "1H11":
        mask[0, 0] = True  # one head sees everything, the others nothing
        mask[0, 1:] = False
    check_against_reference(
        backend, f32(rng, b, h, lq, d), f32(rng, b, h, lk, d), f32(rng, b, h, lk, d), rng, mask=mask, causal=causal
    )


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("causal", [False, True])
def test_few_heads_split_their_blocks_among_threads(backend, threads, causal, rng):
    # one head and long sequences: the threads share the query blocks of the
    # forward and the key blocks of the backward (whose dq parts are summed)
    lq, lk = 300, 410
    mask = rng.random((lq, lk)) < 0.9
    with num_threads(threads):
        check_against_reference(
            backend,
            f32(rng, 1, 1, lq, 32),
            f32(rng, 1, 1, lk, 32),
            f32(rng, 1, 1, lk, 16),
            rng,
            mask=mask,
            causal=causal,
        )


def test_fully_masked_rows_output_zero_with_zero_gradient(backend, rng):
    b, h, lq, lk, d = 2, 2, 67, 130, 8
    mask = rng.random((b, h, lq, lk)) < 0.7
    mask[0, 1, 5] = False
    mask[1, :, 66] = False
    mask[:, :, 10, :96] = False  # a whole first key tile hidden, later keys allowed
    mask[:, :, 11, 96:] = False  # only the first key tile allowed
    out, lse, dq, _, _ = check_against_reference(
        backend, f32(rng, b, h, lq, d), f32(rng, b, h, lk, d), f32(rng, b, h, lk, d), rng, mask=mask
    )
    for rows in ((0, 1, 5), (1, slice(None), 66)):
        assert np.all(out[rows] == 0) and np.all(dq[rows] == 0) and np.all(np.isneginf(lse[rows]))
    assert np.all(np.isfinite(lse[:, :, 10]))


def test_causal_with_more_queries_than_keys_leaves_early_rows_empty(backend, rng):
    # bottom-right alignment: query i sees keys j <= i - (Lq - Lk), so the first
    # Lq - Lk queries see nothing
    lq, lk = 130, 40
    out, lse, dq, _, _ = check_against_reference(
        backend, f32(rng, 1, 2, lq, 4), f32(rng, 1, 2, lk, 4), f32(rng, 1, 2, lk, 4), rng, causal=True
    )
    assert np.all(out[:, :, : lq - lk] == 0) and np.all(dq[:, :, : lq - lk] == 0)
    assert np.all(np.isneginf(lse[:, :, : lq - lk])) and np.all(np.isfinite(lse[:, :, lq - lk :]))


@pytest.mark.parametrize("lq,lk", [(2, 4), (4, 4), (3, 1)])
def test_causal_is_bottom_right_aligned(backend, lq, lk, rng):
    # with v = I the output rows are the attention probabilities themselves
    q, k = f32(rng, 1, 1, lq, 3), f32(rng, 1, 1, lk, 3)
    v = np.eye(lk, dtype=np.float32)[None, None]
    p = backend.numpy(ops.attention(backend.asarray(q), backend.asarray(k), backend.asarray(v), causal=True))[0, 0]
    allowed = np.arange(lk)[None, :] <= np.arange(lq)[:, None] + (lk - lq)
    assert np.all(p[~allowed] == 0) and np.all(p[allowed] > 0)
    assert_close(p.sum(axis=1), allowed.any(axis=1), atol=1e-6, rtol=0)


@pytest.mark.parametrize("causal", [False, True])
def test_large_logits_stay_finite(backend, causal, rng):
    b, h, lq, lk, d = 1, 2, 67, 130, 16
    q, k = f32(rng, b, h, lq, d, scale=30), f32(rng, b, h, lk, d, scale=30)
    # the logits reach ~1e3, where float32 rounds them to ~1e-4 absolute: that
    # error reaches the probabilities as a relative error
    check_against_reference(backend, q, k, f32(rng, b, h, lk, d), rng, causal=causal, rel=4e-4)


@pytest.mark.parametrize("causal", [False, True])
def test_huge_logits_are_exact(backend, isa, causal, rng):
    """q, k ~ 1e5 with D = 12: logits ~ 1e10, whose float32 rounding (~1e3) must not reach the
    exponent: each row's maximum gets exp(0) = 1, so the rows of P sum to 1 (out = 1 for v = 1)
    and out is v at the row's best key, as in float64."""
    b, h, lq, lk, d = 2, 3, 40, 50, 12
    q, k = f32(rng, b, h, lq, d, scale=1e5), f32(rng, b, h, lk, d, scale=1e5)
    v = f32(rng, b, h, lk, d)
    qb, kb = backend.asarray(q), backend.asarray(k)
    ones = backend.numpy(ops.attention(qb, kb, backend.asarray(np.ones_like(v)), causal=causal))
    assert_close(ones, np.ones_like(ones), atol=1e-6, rtol=0, what="rows of P sum to 1")
    out, lse = ops.attention(qb, kb, backend.asarray(v), causal=causal, return_lse=True)
    want, want_lse = reference.attention(
        q.astype(np.float64), k.astype(np.float64), v.astype(np.float64), causal=causal, return_lse=True
    )
    assert_close(backend.numpy(out), want, atol=1e-6, rtol=0, what="out")
    assert_close(backend.numpy(lse), want_lse, atol=0, rtol=1e-6, what="lse")


@pytest.mark.parametrize("causal", [False, True])
def test_nan_in_q_or_k_gives_nan_rows(backend, isa, causal, rng):
    """A NaN logit makes its row NaN (out and lse), as in the reference; a NaN key that a
    row may not see (causal) leaves that row alone; the other rows stay exact."""
    b, h, lq, lk, d = 1, 2, 9, 9, 8
    q, k, v = f32(rng, b, h, lq, d), f32(rng, b, h, lk, d), f32(rng, b, h, lk, d)
    q[0, 0, 2, 3] = np.nan
    k[0, 1, 6, 0] = np.nan
    out, lse = ops.attention(*map(backend.asarray, (q, k, v)), causal=causal, return_lse=True)
    out, lse = backend.numpy(out), backend.numpy(lse)
    want, want_lse = reference.attention(*(a.astype(np.float64) for a in (q, k, v)), causal=causal, return_lse=True)
    nan_rows = np.zeros((b, h, lq), bool)
    nan_rows[0, 0, 2] = True
    nan_rows[0, 1, 6 if causal else 0 :] = True
    assert np.array_equal(np.isnan(want_lse), nan_rows)  # the reference says the same
    assert np.array_equal(np.isnan(lse), nan_rows)
    assert np.all(np.isnan(out[nan_rows]))
    assert_close(out[~nan_rows], want[~nan_rows], atol=1e-5, rtol=1e-5, what="finite rows")


def test_explicit_scale(backend, rng):
    check_against_reference(
        backend, f32(rng, 2, 2, 33, 8), f32(rng, 2, 2, 65, 8), f32(rng, 2, 2, 65, 4), rng, scale=0.7
    )


def test_strided_inputs_are_read_in_place(backend, rng):
    b, lq, lk, h, d = 2, 67, 70, 3, 8
    q = f32(rng, b, lq, h, d).transpose(0, 2, 1, 3)  # (B, L, H, D) viewed as (B, H, L, D)
    k = f32(rng, b, h, lk, 2 * d)[..., ::2]  # a column stride of 2
    v = f32(rng, b, h, 2 * lk, d)[:, :, ::-2]  # negative row stride
    check_against_reference(backend, q, k, v, rng, mask=rng.random((lq, lk)) < 0.8, causal=True)


def test_backward_takes_strided_dout_and_out(rng):
    q, k, v = f32(rng, 1, 2, 40, 8), f32(rng, 1, 2, 50, 8), f32(rng, 1, 2, 50, 8)
    out, lse = ops.attention(q, k, v, return_lse=True)
    dout = f32(rng, 1, 40, 2, 8).transpose(0, 2, 1, 3)
    out_strided = np.ascontiguousarray(out.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    got = ops.attention_backward(dout, q, k, v, out_strided, lse)
    want = ops.attention_backward(np.ascontiguousarray(dout), q, k, v, out, lse)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_returns_only_out_by_default(backend, rng):
    q = backend.asarray(f32(rng, 1, 1, 3, 2))
    out = ops.attention(q, q, q)
    assert out.shape == (1, 1, 3, 2) and out.dtype == np.float32


@pytest.mark.parametrize("shape", [(0, 2, 5, 5, 3, 3), (1, 2, 0, 5, 3, 3), (1, 2, 5, 0, 3, 3), (1, 2, 5, 5, 3, 0)])
def test_empty(backend, shape, rng):
    b, h, lq, lk, d, dv = shape
    q, k, v = f32(rng, b, h, lq, d), f32(rng, b, h, lk, d), f32(rng, b, h, lk, dv)
    out, lse, dq, dk, dv_ = _run_ops(backend, q, k, v, f32(rng, b, h, lq, dv), None, False, None)
    assert out.shape == (b, h, lq, dv) and lse.shape == (b, h, lq)
    assert dq.shape == q.shape and dk.shape == k.shape and dv_.shape == v.shape
    assert np.all(out == 0) and np.all(dq == 0) and np.all(dk == 0) and np.all(dv_ == 0)
    assert np.all(np.isneginf(lse)) if lk == 0 else np.all(np.isfinite(lse))


# ---- the reference is the gradient --------------------------------------------

REFERENCE_CASES = {
    "plain": dict(lq=3, lk=4, mask=None, causal=False),
    "causal": dict(lq=3, lk=4, mask=None, causal=True),
    "causal_lq_gt_lk": dict(lq=4, lk=3, mask=None, causal=True),  # query 0 sees nothing
    "mask_with_empty_row": dict(
        lq=3, lk=4, mask=np.array([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 0, 1]], bool), causal=False
    ),
}


@pytest.mark.parametrize("case", list(REFERENCE_CASES))
def test_reference_backward_is_the_gradient(case, rng):
    c = REFERENCE_CASES[case]
    q, k, v = (
        rng.standard_normal((1, 2, c["lq"], 3)),
        rng.standard_normal((1, 2, c["lk"], 3)),
        rng.standard_normal((1, 2, c["lk"], 2)),
    )
    dout = rng.standard_normal((1, 2, c["lq"], 2))
    kw = dict(mask=c["mask"], causal=c["causal"], scale=0.8)

    def loss(q_, k_, v_):
        return np.sum(reference.attention(q_, k_, v_, **kw) * dout)

    out, lse = reference.attention(q, k, v, return_lse=True, **kw)
    dq, dk, dv = reference.attention_backward(dout, q, k, v, out, lse, **kw)
    assert_close(dq, numerical_grad(lambda a: loss(a, k, v), q), atol=1e-7, rtol=1e-6, what="dq")
    assert_close(dk, numerical_grad(lambda a: loss(q, a, v), k), atol=1e-7, rtol=1e-6, what="dk")
    assert_close(dv, numerical_grad(lambda a: loss(q, k, a), v), atol=1e-7, rtol=1e-6, what="dv")


def test_reference_lse_is_the_log_sum_exp(rng):
    q, k, v = rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((2, 1, 5, 4)), rng.standard_normal((2, 1, 5, 2))
    _, lse = reference.attention(q, k, v, return_lse=True)
    want = np.log(np.sum(np.exp(q @ k.swapaxes(-1, -2) / 2.0), axis=-1))
    assert_close(lse, want, atol=1e-12, rtol=1e-12)


# ---- bad input ----------------------------------------------------------------


def _qkv(b=2, h=3, lq=4, lk=5, d=6, dv=7):
    z = np.zeros
    return z((b, h, lq, d), np.float32), z((b, h, lk, d), np.float32), z((b, h, lk, dv), np.float32)


def test_bad_input_is_named():
    q, k, v = _qkv()
    with pytest.raises(ValueError, match=r"\[attention\] q must be \(B, H, Lq, D\) float32, got \(3, 4, 6\) float32"):
        ops.attention(q[0], k, v)
    with pytest.raises(TypeError, match=r"\[attention\] k must be \(B, H, Lk, D\) float32, got \(2, 3, 5, 6\) float64"):
        ops.attention(q, k.astype(np.float64), v)
    with pytest.raises(TypeError, match=r"\[attention\] v must be an array"):
        ops.attention(q, k, v.tolist())
    with pytest.raises(ValueError, match=r"\[attention\] q, k and v must share \(B, H\)"):
        ops.attention(q, k[:1], v[:1])
    with pytest.raises(ValueError, match=r"\[attention\] q, k and v must share \(B, H\)"):
        ops.attention(q, k, v[:, :2])
    with pytest.raises(ValueError, match=r"\[attention\] k must have the head dim D=6"):
        ops.attention(q, k[..., :5], v)
    with pytest.raises(ValueError, match=r"\[attention\] v must have the length Lk=5"):
        ops.attention(q, k, v[:, :, :4])
    with pytest.raises(ValueError, match=r"\[attention\] q and k must have a head dim D >= 1"):
        ops.attention(q[..., :0], k[..., :0], v)


@pytest.mark.parametrize(
    "mask",
    [np.ones((4, 4), bool), np.ones((3, 1, 4, 5), bool), np.ones((1, 2, 3, 4, 5), bool)],
    ids=["LqLq", "wrongB", "rank5"],
)
def test_bad_mask_shape(mask):
    with pytest.raises(ValueError, match=r"\[attention\] mask must broadcast to \(B, H, Lq, Lk\) = \(2, 3, 4, 5\)"):
        ops.attention(*_qkv(), mask=mask)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.int64])
def test_bad_mask_dtype(dtype):
    with pytest.raises(TypeError, match=r"\[attention\] mask must be a bool array \(True = attend\)"):
        ops.attention(*_qkv(), mask=np.ones((4, 5), dtype))


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf"), 1e300, 1e-50])
def test_bad_scale_value(scale):
    """The kernels compute in float32: a scale that would become inf or 0 there is refused."""
    with pytest.raises(ValueError, match=r"\[attention\] scale must be a finite float32 > 0, got "):
        ops.attention(*_qkv(), scale=scale)
    with pytest.raises(ValueError, match=r"\[attention_backward\] scale must be a finite float32 > 0"):
        q, k, v = _qkv()
        ops.attention_backward(
            np.zeros((2, 3, 4, 7), np.float32),
            q,
            k,
            v,
            np.zeros((2, 3, 4, 7), np.float32),
            np.zeros((2, 3, 4), np.float32),
            scale=scale,
        )


@pytest.mark.parametrize("scale", ["0.5", True, [1.0]])
def test_bad_scale_type(scale):
    with pytest.raises(TypeError, match=r"\[attention\] scale must be None or a real number"):
        ops.attention(*_qkv(), scale=scale)


def test_bad_backward_input_is_named():
    q, k, v = _qkv()
    out, lse = ops.attention(q, k, v, return_lse=True)
    with pytest.raises(
        ValueError,
        match=r"\[attention_backward\] dout must be \(2, 3, 4, 7\) float32 to match q and v, got \(2, 3, 4, 6\)",
    ):
        ops.attention_backward(out[..., :6], q, k, v, out, lse)
    with pytest.raises(ValueError, match=r"\[attention_backward\] out must be \(2, 3, 4, 7\)"):
        ops.attention_backward(out, q, k, v, out[:, :, :3], lse)
    with pytest.raises(ValueError, match=r"\[attention_backward\] lse must be \(2, 3, 4\) float32 to match"):
        ops.attention_backward(out, q, k, v, out, lse[:, :2])
    with pytest.raises(ValueError, match=r"\[attention_backward\] lse must be \(B, H, Lq\) float32, got \(2, 3\)"):
        ops.attention_backward(out, q, k, v, out, lse[..., 0])
    with pytest.raises(
        TypeError, match=r"\[attention_backward\] lse must be \(B, H, Lq\) float32, got \(2, 3, 4\) float64"
    ):
        ops.attention_backward(out, q, k, v, out, lse.astype(np.float64))
    with pytest.raises(TypeError, match=r"\[attention_backward\] dout must be"):
        ops.attention_backward(out.astype(np.float16), q, k, v, out, lse)
    with pytest.raises(ValueError, match=r"\[attention_backward\] mask must broadcast"):
        ops.attention_backward(out, q, k, v, out, lse, mask=np.ones((5, 4), bool))


def test_raw_kernels_refuse_bad_arrays():
    """The compiled module is where the checks live: called directly, it names the op and argument too."""
    from ranvier import _cpu

    q, k, v = _qkv()
    mask = np.ones((2, 3, 4, 5), bool)
    out, lse = _cpu.attention(q, k, v, mask, False, 1.0)
    assert out.shape == (2, 3, 4, 7) and lse.shape == (2, 3, 4)
    with pytest.raises(ValueError, match=r"\[attention\] k must have the head dim D=6 of q, got k \(2, 3, 5, 5\)"):
        _cpu.attention(q, k[:, :, :, :5], v, None, False, 1.0)
    with pytest.raises(ValueError, match=r"\[attention\] v must have the length Lk=5 of k, got v \(2, 3, 4, 7\)"):
        _cpu.attention(q, k, v[:, :, :4], None, False, 1.0)
    with pytest.raises(
        ValueError,
        match=r"\[attention\] mask must broadcast to \(B, H, Lq, Lk\) = \(2, 3, 4, 5\), got \(2, 3, 4, 4\) bool",
    ):
        _cpu.attention(q, k, v, mask[..., :4], False, 1.0)
    with pytest.raises(
        TypeError, match=r"\[attention\] mask must be a bool array \(True = attend\), got \(2, 3, 4, 5\) float32"
    ):
        _cpu.attention(q, k, v, mask.astype(np.float32), False, 1.0)
    with pytest.raises(TypeError, match=r"\[attention\] q must be \(B, H, Lq, D\) float32, got \(2, 3, 4, 6\) float64"):
        _cpu.attention(q.astype(np.float64), k, v, None, False, 1.0)
    with pytest.raises(ValueError, match=r"\[attention\] q must be \(B, H, Lq, D\) float32, got \(3, 4, 6\) float32"):
        _cpu.attention(q[0], k, v, None, False, 1.0)
    with pytest.raises(ValueError, match=r"\[attention\] scale must be a finite float32 > 0, got nan"):
        _cpu.attention(q, k, v, None, False, float("nan"))
    with pytest.raises(TypeError, match=r"\[attention\] scale must be None or a real number, got str"):
        _cpu.attention(q, k, v, None, False, "1")
    _cpu.attention_backward(out, q, k, v, out, lse, mask, True, 0.5)
    with pytest.raises(
        ValueError,
        match=r"\[attention_backward\] dout must be \(2, 3, 4, 7\) float32 to match q and v, got \(1, 3, 4, 7\)",
    ):
        _cpu.attention_backward(out[:1], q, k, v, out, lse, None, False, 1.0)
    with pytest.raises(ValueError, match=r"\[attention_backward\] lse must be \(2, 3, 4\) float32 to match q and v"):
        _cpu.attention_backward(out, q, k, v, out, lse[:, :, :3], None, False, 1.0)


def test_raw_kernels_default_scale_and_read_strided_lse_and_mask(rng):
    """scale None is 1/sqrt(D); a strided lse is copied dense; a strided mask is read through its strides."""
    from ranvier import _cpu

    q, k, v = f32(rng, 2, 3, 4, 9), f32(rng, 2, 3, 5, 9), f32(rng, 2, 3, 5, 7)
    wide = rng.random((4, 10)) < 0.7
    wide[:, ::2] |= np.eye(4, 5, dtype=bool)  # every query sees a key
    mask = wide[:, ::2]
    out, lse = _cpu.attention(q, k, v, mask, False, None)
    want_out, want_lse = _cpu.attention(q, k, v, np.ascontiguousarray(mask), False, 1 / 3)
    np.testing.assert_array_equal(out, want_out)
    np.testing.assert_array_equal(lse, want_lse)
    lse_strided = np.repeat(lse, 2, axis=-1)[..., ::2]
    got = _cpu.attention_backward(out, q, k, v, out, lse_strided, mask, False, None)
    want = _cpu.attention_backward(out, q, k, v, out, lse, mask, False, 1 / 3)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
