"""conv1d (conv2d's kernels with H = 1) against the reference, on every ISA; the
reference against finite differences and PyTorch; bad inputs named conv1d."""

import numpy as np
import pytest
from helpers import assert_close, f32, numerical_grad

from ranvier import _cpu, ops, reference

# (N, L, C, KW, K, stride, padding, dilation): size 1, odd sizes, every
# padding form, C <= 3 (the direct kernels) and wider, a kernel longer than
# the sequence under "same", a large case that threads.
CASES = [
    (1, 1, 1, 1, 1, 1, "valid", 1),
    (2, 9, 3, 3, 4, 1, "valid", 1),
    (2, 9, 3, 3, 4, 2, "same", 1),
    (3, 11, 5, 3, 7, 1, "causal", 1),
    (3, 11, 5, 3, 7, 3, "causal", 2),
    (2, 13, 17, 4, 5, 2, "same", 1),
    (2, 4, 6, 5, 3, 1, "same", 1),
    (1, 10, 2, 2, 3, 1, (2, 1), 3),
    (2, 7, 8, 1, 9, 1, "valid", 1),
    (4, 200, 32, 5, 48, 1, "causal", 2),
    (0, 5, 3, 2, 4, 1, "same", 1),
]
IDS = [f"{n}x{length}x{c}-k{kw}x{k}-s{s}-{p}-d{d}".replace(" ", "") for n, length, c, kw, k, s, p, d in CASES]


def _run(backend, case, act, rng):
    n, length, c, kw, k, stride, padding, dilation = case
    geometry = dict(stride=stride, padding=padding, dilation=dilation)
    x, w, b = f32(rng, n, length, c), f32(rng, kw, c, k, scale=1 / np.sqrt(kw * c)), f32(rng, k)
    dev = backend.asarray
    y = backend.numpy(ops.conv1d(dev(x), dev(w), dev(b), activation=act, **geometry))
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    want = reference.conv1d(x64, w64, b.astype(np.float64), activation=act, **geometry)
    assert_close(y, want, atol=1e-5, rtol=1e-4, what="conv1d")
    dy = f32(rng, *y.shape)
    saved = {"y": dev(y)} if act in ("relu", "sigmoid", "tanh") else {}
    saved64 = {"y": y.astype(np.float64)} if saved else {}
    if act == "gelu":
        z = reference.conv1d(x64, w64, b.astype(np.float64), **geometry)
        saved, saved64 = {"z": dev(z.astype(np.float32))}, {"z": z.astype(np.float32).astype(np.float64)}
    got = ops.conv1d_backward(dev(dy), dev(x), dev(w), activation=act, **geometry, **saved)
    want = reference.conv1d_backward(dy.astype(np.float64), x64, w64, activation=act, **geometry, **saved64)
    for name, g, r in zip(("dx", "dw", "db"), got, want):
        assert_close(backend.numpy(g), r, atol=1e-4, rtol=1e-4, what=f"conv1d_backward {name}")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_reference_on_every_isa(backend, isa, case, rng):
    _run(backend, case, None, rng)


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "gelu"])
def test_fused_activations(backend, act, rng):
    _run(backend, CASES[3], act, rng)
    _run(backend, CASES[5], act, rng)


def test_causal_output_sees_only_the_past(rng):
    x, w = f32(rng, 1, 12, 3), f32(rng, 3, 3, 2)
    y = ops.conv1d(x, w, padding="causal", dilation=2)
    changed = x.copy()
    changed[:, 7:] += 1  # the future of step 6
    assert np.array_equal(ops.conv1d(changed, w, padding="causal", dilation=2)[:, :7], y[:, :7])
    assert not np.array_equal(ops.conv1d(changed, w, padding="causal", dilation=2)[:, 7:], y[:, 7:])


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_reference_backward_is_the_gradient(padding, rng):
    x, w, b = rng.standard_normal((2, 7, 2)), rng.standard_normal((3, 2, 3)), rng.standard_normal(3)
    geometry = dict(stride=2, padding=padding, dilation=1)
    dy = rng.standard_normal(reference.conv1d(x, w, b, **geometry).shape)
    dx, dw, db = reference.conv1d_backward(dy, x, w, **geometry)
    assert_close(dx, numerical_grad(lambda v: np.sum(reference.conv1d(v, w, b, **geometry) * dy), x), 1e-6, 1e-5)
    assert_close(dw, numerical_grad(lambda v: np.sum(reference.conv1d(x, v, b, **geometry) * dy), w), 1e-6, 1e-5)
    assert_close(db, numerical_grad(lambda v: np.sum(reference.conv1d(x, w, v, **geometry) * dy), b), 1e-6, 1e-5)


@pytest.mark.parametrize("stride,padding,dilation", [(1, "valid", 1), (2, "same", 1), (1, "causal", 3), (3, 2, 1)])
def test_matches_torch(stride, padding, dilation, rng):
    torch = pytest.importorskip("torch")
    x, w, b = f32(rng, 2, 17, 5), f32(rng, 3, 5, 4), f32(rng, 4)
    y = ops.conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    xt = torch.from_numpy(x).permute(0, 2, 1)
    span = 2 * dilation + 1
    if padding == "causal":
        xt = torch.nn.functional.pad(xt, (span - 1, 0))
    elif padding == "same":
        total = max((-(-17 // stride) - 1) * stride + span - 17, 0)
        xt = torch.nn.functional.pad(xt, (total // 2, total - total // 2))
    elif padding != "valid":
        xt = torch.nn.functional.pad(xt, (padding, padding))
    wt = torch.from_numpy(w).permute(2, 1, 0)  # (K, C, KW)
    want = torch.nn.functional.conv1d(xt, wt, torch.from_numpy(b), stride=stride, dilation=dilation)
    assert_close(y, want.permute(0, 2, 1).numpy(), atol=1e-5, rtol=1e-5)


def test_bad_input_is_named():
    x, w = np.zeros((2, 8, 3), np.float32), np.zeros((3, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"\[conv1d\] x must be \(N, L, C\) float32, got \(2, 8, 3, 1\) float32"):
        ops.conv1d(x[..., None], w)
    with pytest.raises(TypeError, match=r"\[conv1d\] x must be \(N, L, C\) float32, got \(2, 8, 3\) float64"):
        ops.conv1d(x.astype(np.float64), w)
    with pytest.raises(ValueError, match=r"\[conv1d\] w must be \(KW, C, K\) float32"):
        ops.conv1d(x, w[None])
    with pytest.raises(ValueError, match=r"\[conv1d\] x has C=3 channels but w is \(3, 2, 4\)"):
        ops.conv1d(x, w[:, :2])
    with pytest.raises(ValueError, match=r"\[conv1d\] padding must be 'valid', 'same', 'causal'"):
        ops.conv1d(x, w, padding="full")
    with pytest.raises(
        ValueError, match=r"\[conv1d\] the kernel 3 with dilation 5 spans 11, larger than the padded input 8 "
    ):
        ops.conv1d(x, w, dilation=5)
    with pytest.raises(TypeError, match=r"\[conv1d\] stride must be an integer"):
        _cpu.conv1d(x, w, None, (1, 1))
    with pytest.raises(ValueError, match=r"\[conv1d_backward\] dy must be \(2, 6, 4\) float32"):
        ops.conv1d_backward(np.zeros((2, 8, 4), np.float32), x, w)


def test_upper_case_and_explicit_padding(rng):
    x, w = f32(rng, 2, 9, 3), f32(rng, 3, 3, 2)
    np.testing.assert_array_equal(ops.conv1d(x, w, padding="CAUSAL"), ops.conv1d(x, w, padding=(2, 0)))
    np.testing.assert_array_equal(ops.conv1d(x, w, padding="same"), ops.conv1d(x, w, padding=1))
