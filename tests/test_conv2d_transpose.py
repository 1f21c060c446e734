"""conv2d_transpose (the input gradient of conv2d) against the scatter-loop
reference on every ISA, Keras 3's output sizes, PyTorch's conv_transpose2d,
the reference against finite differences, and bad inputs named."""

import itertools

import numpy as np
import pytest
from helpers import assert_close, f32, numerical_grad

from ranvier import ops, reference

# (N, H, W, C, KH, KW, F, stride, padding, output_padding, dilation)
CASES = [
    (1, 1, 1, 1, 1, 1, 1, 1, "valid", None, 1),
    (2, 5, 4, 3, 3, 3, 2, 2, "same", None, 1),  # F <= 3: conv's direct kernels
    (2, 5, 4, 6, 3, 2, 5, 2, "valid", 1, 1),
    (3, 4, 7, 5, 2, 3, 7, (3, 2), "same", (2, 0), 1),
    (2, 6, 5, 4, 3, 3, 3, 1, "same", None, 2),
    (1, 3, 3, 2, 1, 1, 4, 3, "valid", None, 1),  # kernel smaller than the stride: zero rows
    (2, 7, 6, 8, 4, 4, 16, 2, "same", None, 1),
    (0, 4, 4, 3, 3, 3, 2, 2, "same", None, 1),
    (4, 16, 16, 32, 4, 4, 64, 2, "same", None, 1),  # larger: threads
]
IDS = ["-".join(map(str, c)).replace(" ", "") for c in CASES]


def _geometry(case):
    *_, stride, padding, output_padding, dilation = case
    return dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_reference_on_every_isa(backend, isa, case, rng):
    n, h, w, c, kh, kw, f = case[:7]
    geometry = _geometry(case)
    x, wt, b = f32(rng, n, h, w, c), f32(rng, kh, kw, f, c, scale=1 / np.sqrt(kh * kw * c)), f32(rng, f)
    dev = backend.asarray
    x64, w64 = x.astype(np.float64), wt.astype(np.float64)
    y = backend.numpy(ops.conv2d_transpose(dev(x), dev(wt), dev(b), **geometry))
    assert_close(y, reference.conv2d_transpose(x64, w64, b.astype(np.float64), **geometry), 1e-5, 1e-4, "forward")
    dy = f32(rng, *y.shape)
    got = ops.conv2d_transpose_backward(dev(dy), dev(x), dev(wt), **geometry)
    want = reference.conv2d_transpose_backward(dy.astype(np.float64), x64, w64, **geometry)
    for name, g, r in zip(("dx", "dw", "db"), got, want):
        assert_close(backend.numpy(g), r, atol=1e-4, rtol=1e-4, what=name)


def _keras_length(size, kernel, stride, padding, output_padding, dilation):
    """Keras 3's conv-transpose output length (keras/src/backend/common/backend_utils.py)."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (size - 1) * stride + span + extra
    return size * stride if output_padding is None else (size - 1) * stride + span % 2 + output_padding


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("kernel,stride,dilation", [(1, 1, 1), (2, 1, 2), (3, 2, 1), (4, 2, 1), (2, 3, 1), (5, 3, 1)])
def test_output_shapes_for_every_padding_stride_and_output_padding(padding, kernel, stride, dilation, rng):
    x, w = f32(rng, 1, 4, 3, 2), f32(rng, kernel, kernel, 3, 2)
    for output_padding in [None, *range(stride)]:
        y = ops.conv2d_transpose(x, w, None, stride, padding, output_padding, dilation)
        want = tuple(_keras_length(s, kernel, stride, padding, output_padding, dilation) for s in (4, 3))
        assert y.shape == (1, *want, 3), (padding, kernel, stride, output_padding, dilation)
        r = reference.conv2d_transpose(
            x.astype(np.float64), w.astype(np.float64), None, stride, padding, output_padding, dilation
        )
        assert_close(y, r, 1e-5, 1e-5, f"{padding} k{kernel} s{stride} op{output_padding} d{dilation}")


def test_is_the_input_gradient_of_conv2d(rng):
    """<conv2d(u, w), x> = <u, conv2d_transpose(x, w)>: the two are adjoint."""
    x, w = f32(rng, 2, 4, 5, 3), f32(rng, 3, 3, 6, 3)
    y = ops.conv2d_transpose(x, w, stride=2, padding="same")
    u = f32(rng, *y.shape)
    left = np.sum(ops.conv2d(u, w, stride=2, padding="same").astype(np.float64) * x)
    assert abs(left - np.sum(u.astype(np.float64) * y)) < 1e-3 * abs(left) + 1e-3


@pytest.mark.parametrize("stride,output_padding,dilation", [(1, None, 1), (2, 0, 1), (2, 1, 1), (3, 2, 1), (1, 0, 2)])
def test_valid_matches_torch(stride, output_padding, dilation, rng):
    torch = pytest.importorskip("torch")
    x, w, b = f32(rng, 2, 5, 4, 3), f32(rng, 3, 2, 6, 3), f32(rng, 6)
    y = ops.conv2d_transpose(x, w, b, stride, "valid", output_padding, dilation)
    want = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x).permute(0, 3, 1, 2),
        torch.from_numpy(w).permute(3, 2, 0, 1),  # (C, F, KH, KW)
        torch.from_numpy(b),
        stride=stride,
        output_padding=output_padding or 0,
        dilation=dilation,
    )
    assert_close(y, want.permute(0, 2, 3, 1).numpy(), atol=1e-5, rtol=1e-5)


def test_same_with_stride_one_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, w = f32(rng, 2, 6, 5, 4), f32(rng, 3, 5, 2, 4)
    y = ops.conv2d_transpose(x, w, None, 1, "same")
    want = torch.nn.functional.conv_transpose2d(
        torch.from_numpy(x).permute(0, 3, 1, 2), torch.from_numpy(w).permute(3, 2, 0, 1), padding=(1, 2)
    )
    assert_close(y, want.permute(0, 2, 3, 1).numpy(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("padding,output_padding", list(itertools.product(["valid", "same"], [None, 1])))
def test_reference_backward_is_the_gradient(padding, output_padding, rng):
    x, w, b = rng.standard_normal((2, 3, 2, 2)), rng.standard_normal((3, 2, 3, 2)), rng.standard_normal(3)
    g = dict(stride=2, padding=padding, output_padding=output_padding, dilation=1)
    dy = rng.standard_normal(reference.conv2d_transpose(x, w, b, **g).shape)
    dx, dw, db = reference.conv2d_transpose_backward(dy, x, w, **g)
    f = reference.conv2d_transpose
    assert_close(dx, numerical_grad(lambda v: np.sum(f(v, w, b, **g) * dy), x), 1e-6, 1e-5, "dx")
    assert_close(dw, numerical_grad(lambda v: np.sum(f(x, v, b, **g) * dy), w), 1e-6, 1e-5, "dw")
    assert_close(db, numerical_grad(lambda v: np.sum(f(x, w, v, **g) * dy), b), 1e-6, 1e-5, "db")


def test_bad_input_is_named():
    x, w = np.zeros((1, 4, 4, 3), np.float32), np.zeros((3, 3, 2, 3), np.float32)
    op = "conv2d_transpose"
    with pytest.raises(ValueError, match=rf"\[{op}\] x must be \(N, H, W, C\) float32, got \(4, 4, 3\)"):
        ops.conv2d_transpose(x[0], w)
    with pytest.raises(ValueError, match=rf"\[{op}\] w must be \(KH, KW, F, C\) float32"):
        ops.conv2d_transpose(x, w[0])
    with pytest.raises(ValueError, match=rf"\[{op}\] x has C=3 channels but w is \(3, 3, 3, 2\)"):
        ops.conv2d_transpose(x, np.zeros((3, 3, 3, 2), np.float32))
    with pytest.raises(ValueError, match=rf"\[{op}\] b must be \(2,\) to match w"):
        ops.conv2d_transpose(x, w, np.zeros(3, np.float32))
    with pytest.raises(
        ValueError, match=rf"\[{op}\] output_padding must be >= 0 and less than the stride \(2, 2\), got 2"
    ):
        ops.conv2d_transpose(x, w, stride=2, output_padding=2)
    with pytest.raises(TypeError, match=rf"\[{op}\] output_padding must be None, an int or a pair of ints"):
        ops.conv2d_transpose(x, w, output_padding="1")
    with pytest.raises(ValueError, match=rf"\[{op}\] padding must be 'valid' or 'same', got 'causal'"):
        ops.conv2d_transpose(x, w, padding="causal")
    with pytest.raises(ValueError, match=rf"\[{op}\] x must have H >= 1 and W >= 1"):
        ops.conv2d_transpose(np.zeros((1, 0, 4, 3), np.float32), w)
    with pytest.raises(ValueError, match=rf"\[{op}_backward\] dy must be \(1, 4, 4, 2\) float32"):
        ops.conv2d_transpose_backward(np.zeros((1, 4, 5, 2), np.float32), x, w, padding="same")
