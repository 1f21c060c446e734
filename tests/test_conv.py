"""conv2d and conv2d_backward against the reference; the reference against finite differences."""

import numpy as np
import pytest
from helpers import assert_close, f32, numerical_grad

import ranvier
from ranvier import activations, ops, reference

ACTS = [None, *(a for a in activations.FUSED if a != "linear")]  # every activation the kernels fuse

# (N, H, W, C, KH, KW, K, stride, padding, dilation)
CASES = [
    (1, 5, 5, 1, 3, 3, 1, 1, "valid", 1),  # batch 1, C = 1, K = 1
    (2, 7, 5, 3, 3, 3, 4, 1, "same", 1),  # non-square, C = 3
    (3, 6, 9, 3, 5, 2, 2, 2, "valid", 1),  # 5x2 kernel, stride 2
    (2, 8, 7, 2, 3, 3, 5, 3, "same", 1),  # stride 3
    (2, 9, 8, 3, 3, 3, 4, (2, 1), ((1, 2), (0, 3)), 1),  # explicit asymmetric padding
    (2, 10, 9, 2, 3, 3, 3, 1, "same", 2),  # dilation 2
    (1, 11, 7, 3, 3, 2, 4, 2, (2, 1), (2, 3)),  # dilation and padding pairs
    (2, 6, 6, 5, 4, 4, 3, 2, "same", 1),  # even kernel: "same" pads unevenly
    (2, 4, 4, 2, 5, 5, 3, 1, "same", 1),  # kernel larger than the image
    (1, 3, 3, 2, 3, 3, 2, 1, "valid", 1),  # a 1x1 output
    (3, 6, 5, 4, 1, 1, 6, 1, "valid", 1),  # 1x1: x is the patch matrix
    (2, 7, 6, 4, 1, 1, 3, 2, "valid", 1),  # 1x1 strided
    (2, 5, 5, 3, 1, 1, 2, 1, 1, 1),  # 1x1 padded
    (4, 28, 28, 8, 3, 3, 16, 1, "same", 1),  # larger: threads split the batch
    (3, 20, 20, 64, 5, 5, 8, 1, "same", 1),  # several patch chunks per image
    (1, 24, 24, 16, 3, 3, 32, 1, "same", 1),  # one image: the GEMMs thread themselves
    (2, 6, 6, 128, 3, 3, 256, 1, "same", 1),  # large w: no per-thread copies of dw
    # C <= 3: the direct kernels. K a whole number of vectors (16, 32, 48, 64
    # on every ISA) or not (80: 5 AVX-512 vectors, 20 SSE ones), 3x3 kernels
    # whose dw sums fit in registers, strides, dilation, asymmetric padding
    (3, 28, 28, 1, 3, 3, 32, 1, "same", 1),  # a first layer: threads split the images
    (2, 8, 7, 2, 3, 3, 16, 1, "valid", 1),
    (2, 10, 9, 3, 3, 3, 64, 2, "same", 1),  # RGB, strided
    (1, 12, 10, 3, 5, 5, 48, 1, "same", 2),  # 5x5 dilated
    (2, 7, 7, 1, 3, 3, 80, (1, 2), ((1, 2), (2, 0)), 1),
]


def _ids(case):
    n, h, w, c, kh, kw, k, s, p, d = case
    return f"{n}x{h}x{w}x{c}-k{kh}x{kw}x{k}-s{s}-p{p}-d{d}".replace(" ", "")


def _run(backend, case, act, bias, rng):
    """Native forward and backward against the float64 reference, every output."""
    n, h, w, c, kh, kw, k, stride, padding, dilation = case
    conv = dict(stride=stride, padding=padding, dilation=dilation)
    x = f32(rng, n, h, w, c)
    wt = f32(rng, kh, kw, c, k, scale=1 / np.sqrt(kh * kw * c))
    b = f32(rng, k) if bias else None
    x64, w64 = x.astype(np.float64), wt.astype(np.float64)
    b64 = None if b is None else b.astype(np.float64)
    dev = backend.asarray

    y = backend.numpy(ops.conv2d(dev(x), dev(wt), dev(b), activation=act, **conv))
    depth = kh * kw * c
    assert_close(
        y, reference.conv2d(x64, w64, b64, activation=act, **conv), atol=2e-5 * np.sqrt(depth), rtol=1e-4, what="y"
    )

    dy = f32(rng, *y.shape)
    z = reference.conv2d(x64, w64, b64, **conv).astype(np.float32)
    got = ops.conv2d_backward(dev(dy), dev(x), dev(wt), activation=act, y=dev(y), z=dev(z), **conv)
    want = reference.conv2d_backward(
        dy.astype(np.float64), x64, w64, activation=act, y=y.astype(np.float64), z=z.astype(np.float64), **conv
    )
    rows = y.shape[0] * y.shape[1] * y.shape[2]
    for g, ref, name, d in zip(got, want, ("dx", "dw", "db"), (kh * kw * k, rows, rows)):
        assert_close(backend.numpy(g), ref, atol=2e-5 * np.sqrt(d), rtol=1e-4, what=name)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_conv2d_matches_reference(backend, case, rng):
    index = CASES.index(case)
    _run(backend, case, ACTS[index % len(ACTS)], bias=index % 2 == 0, rng=rng)


@pytest.mark.parametrize("act", ACTS)
def test_every_activation(backend, act, rng):
    _run(backend, (2, 9, 8, 3, 3, 2, 5, (2, 1), ((1, 2), (0, 1)), (1, 2)), act, bias=True, rng=rng)


@pytest.mark.parametrize("act", ACTS[5:])
@pytest.mark.parametrize("case", [CASES[13], CASES[19]], ids=_ids)
def test_every_activation_on_each_isa(backend, isa, act, case, rng):
    """The GEMM path (C = 8) and the direct kernels (C = 2) apply each fused activation."""
    _run(backend, case, act, bias=True, rng=rng)


@pytest.mark.parametrize("case", [CASES[4], CASES[10], CASES[13]], ids=_ids)
def test_each_isa(backend, isa, case, rng):
    _run(backend, case, "gelu", bias=True, rng=rng)


DIRECT = CASES[17:]  # C <= 3: the direct kernels


@pytest.mark.parametrize("case", DIRECT, ids=_ids)
def test_direct_kernels_on_each_isa(backend, isa, case, rng):
    _run(backend, case, "relu", bias=True, rng=rng)


@pytest.mark.parametrize("case", [CASES[13], DIRECT[0]], ids=_ids)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thread_counts(backend, threads, case, rng):
    # 3 threads over 3 or 4 images: parts of uneven size, each with its own dw and db
    before = ranvier.get_num_threads()
    ranvier.set_num_threads(threads)
    try:
        _run(backend, case, "relu", bias=True, rng=rng)
    finally:
        ranvier.set_num_threads(before)


def test_same_padding_is_tensorflows(backend, rng):
    # out = ceil(in / stride); total pad = max((out-1)*stride + k - in, 0), the odd one bottom/right:
    # H: in 6, k 3, stride 2 -> out 3, pads (0, 1); W: in 7, k 4, stride 1 -> out 7, pads (1, 2)
    x, w = f32(rng, 2, 6, 7, 3), f32(rng, 3, 4, 3, 2)
    same = backend.numpy(ops.conv2d(backend.asarray(x), backend.asarray(w), stride=(2, 1), padding="same"))
    explicit = backend.numpy(
        ops.conv2d(backend.asarray(x), backend.asarray(w), stride=(2, 1), padding=((0, 1), (1, 2)))
    )
    assert same.shape == (2, 3, 7, 2)
    np.testing.assert_array_equal(same, explicit)
    assert reference.conv2d(x, w, stride=(2, 1), padding="same").shape == (2, 3, 7, 2)


def test_strided_inputs_and_padding_forms(rng):
    x = f32(rng, 2, 10, 7, 3)[:, ::2]  # a non-contiguous view
    w = f32(rng, 3, 3, 3, 4)
    want = reference.conv2d(x.astype(np.float64), w.astype(np.float64), padding=((1, 1), (2, 2)))
    for padding in [((1, 1), (2, 2)), (1, 2), [[1, 1], [2, 2]], (np.int64(1), 2)]:
        assert_close(ops.conv2d(x, w, padding=padding), want, atol=1e-5, rtol=1e-5, what=str(padding))
    assert_close(ops.conv2d(x, w, padding=1), reference.conv2d(x, w, padding=1), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize(
    "conv", [dict(stride=2, padding="same"), dict(stride=(1, 2), padding=((1, 0), (2, 1)), dilation=(2, 1))]
)
def test_reference_backward_is_the_gradient(act, conv, rng):
    x, w, b = rng.standard_normal((2, 5, 4, 2)), rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(3)
    dy = rng.standard_normal(reference.conv2d(x, w, **conv).shape)

    def loss(x_, w_, b_):
        return np.sum(reference.conv2d(x_, w_, b_, activation=act, **conv) * dy)

    dx, dw, db = reference.conv2d_backward(
        dy,
        x,
        w,
        activation=act,
        y=reference.conv2d(x, w, b, activation=act, **conv),
        z=reference.conv2d(x, w, b, **conv),
        **conv,
    )
    assert_close(dx, numerical_grad(lambda v: loss(v, w, b), x), atol=1e-6, rtol=1e-5, what="dx")
    assert_close(dw, numerical_grad(lambda v: loss(x, v, b), w), atol=1e-6, rtol=1e-5, what="dw")
    assert_close(db, numerical_grad(lambda v: loss(x, w, v), b), atol=1e-6, rtol=1e-5, what="db")


def test_empty_batch_channels_and_filters(backend, rng):
    dev = backend.asarray
    # no images: empty output, zero dw and db
    x, w, b = np.zeros((0, 5, 5, 3), np.float32), f32(rng, 3, 3, 3, 2), f32(rng, 2)
    assert backend.numpy(ops.conv2d(dev(x), dev(w), dev(b))).shape == (0, 3, 3, 2)
    dx, dw, db = ops.conv2d_backward(
        dev(np.zeros((0, 3, 3, 2), np.float32)),
        dev(x),
        dev(w),
        activation="relu",
        y=dev(np.zeros((0, 3, 3, 2), np.float32)),
    )
    assert backend.numpy(dx).shape == (0, 5, 5, 3) and np.all(backend.numpy(dw) == 0) and np.all(backend.numpy(db) == 0)
    # no input channels: the output is act(b)
    x, w = np.zeros((2, 4, 4, 0), np.float32), np.zeros((3, 3, 0, 2), np.float32)
    y = backend.numpy(ops.conv2d(dev(x), dev(w), dev(b), padding="same", activation="tanh"))
    assert_close(y, np.broadcast_to(np.tanh(b.astype(np.float64)), (2, 4, 4, 2)), atol=1e-6, rtol=1e-6)
    dy = f32(rng, 2, 4, 4, 2)
    dx, dw, db = ops.conv2d_backward(dev(dy), dev(x), dev(w), padding="same")
    assert backend.numpy(dx).shape == (2, 4, 4, 0) and backend.numpy(dw).shape == (3, 3, 0, 2)
    assert_close(backend.numpy(db), dy.sum(axis=(0, 1, 2)), atol=1e-5, rtol=1e-5)
    # no filters
    x = f32(rng, 2, 4, 4, 3)
    assert backend.numpy(ops.conv2d(dev(x), dev(np.zeros((3, 3, 3, 0), np.float32)))).shape == (2, 2, 2, 0)
    dx, _, _ = ops.conv2d_backward(
        dev(np.zeros((2, 2, 2, 0), np.float32)), dev(x), dev(np.zeros((3, 3, 3, 0), np.float32))
    )
    assert np.all(backend.numpy(dx) == 0)


def test_bad_input_is_named():
    x, w = np.zeros((2, 5, 5, 3), np.float32), np.zeros((3, 3, 3, 4), np.float32)
    cases = [
        (ValueError, r"\[conv2d\] x must be \(N, H, W, C\) float32, got \(5, 5, 3\) float32", dict(x=x[0])),
        (ValueError, r"\[conv2d\] w must be \(KH, KW, C, K\) float32, got \(3, 3, 4\) float32", dict(w=w[0])),
        (
            TypeError,
            r"\[conv2d\] x must be \(N, H, W, C\) float32, got \(2, 5, 5, 3\) float64",
            dict(x=x.astype(np.float64)),
        ),
        (TypeError, r"\[conv2d\] w must be .* float64", dict(w=w.astype(np.float64))),
        (ValueError, r"\[conv2d\] x has C=3 channels but w is \(3, 3, 2, 4\) \(expects C=2\)", dict(w=w[:, :, :2])),
        (ValueError, r"\[conv2d\] b must be \(4,\)", dict(b=np.zeros(3, np.float32))),
        (TypeError, r"\[conv2d\] b must be \(K,\) float32, got \(4,\) float64", dict(b=np.zeros(4))),
        (
            ValueError,
            r"\[conv2d\] the kernel \(7, 7\) with dilation \(1, 1\) spans \(7, 7\), larger than the padded "
            r"input \(5, 5\)",
            dict(w=np.zeros((7, 7, 3, 4), np.float32)),
        ),
        (
            ValueError,
            r"\[conv2d\] the kernel \(3, 3\) with dilation \(3, 3\) spans \(7, 7\), larger than the padded "
            r"input \(5, 5\)",
            dict(dilation=3, padding=0),
        ),
        (ValueError, r"\[conv2d\] w must have a kernel of at least 1x1", dict(w=np.zeros((0, 3, 3, 4), np.float32))),
        (ValueError, r"\[conv2d\] stride must be >= 1, got 0", dict(stride=0)),
        (ValueError, r"\[conv2d\] dilation must be >= 1, got \(1, -1\)", dict(dilation=(1, -1))),
        (TypeError, r"\[conv2d\] stride must be an int or a pair of ints, got 1.5", dict(stride=1.5)),
        (TypeError, r"\[conv2d\] stride must be an int or a pair of ints, got \(1, 2, 3\)", dict(stride=(1, 2, 3))),
        (TypeError, r"\[conv2d\] dilation must be an int or a pair of ints, got True", dict(dilation=True)),
        (ValueError, r"\[conv2d\] padding must be 'valid', 'same'.*got 'full'", dict(padding="full")),
        (ValueError, r"\[conv2d\] padding must be .*got -1", dict(padding=-1)),
        (ValueError, r"\[conv2d\] padding must be .*got \(1, 2, 3\)", dict(padding=(1, 2, 3))),
        (ValueError, r"\[conv2d\] padding must be .*got \(\(1, 2\), \(3, -4\)\)", dict(padding=((1, 2), (3, -4)))),
        (TypeError, r"\[conv2d\] padding must be .*got 1.0", dict(padding=1.0)),
        (ValueError, r"\[conv2d\] activation must be None or one of", dict(activation="swish")),
    ]
    for error, message, change in cases:
        args = dict(x=x, w=w, b=None) | change
        with pytest.raises(error, match=message):
            ops.conv2d(**args)
    with pytest.raises(ValueError, match=r"\[conv2d_backward\] activation 'gelu' needs z="):
        ops.conv2d_backward(np.zeros((2, 3, 3, 4), np.float32), x, w, activation="gelu")
    with pytest.raises(ValueError, match=r"\[conv2d_backward\] dy must be \(2, 5, 5, 4\)"):
        ops.conv2d_backward(np.zeros((2, 3, 3, 4), np.float32), x, w, padding="same")
    with pytest.raises(ValueError, match=r"\[conv2d_backward\] y must be \(2, 3, 3, 4\)"):
        ops.conv2d_backward(
            np.zeros((2, 3, 3, 4), np.float32), x, w, activation="relu", y=np.zeros((2, 3, 3, 3), np.float32)
        )


def test_raw_kernels_refuse_bad_arrays():
    """The compiled module is where the checks live: called directly, it names the op and argument too."""
    from ranvier import _cpu

    x, w, y = np.zeros((2, 5, 5, 3), np.float32), np.zeros((3, 3, 3, 4), np.float32), np.zeros((2, 3, 3, 4), np.float32)
    assert _cpu.conv2d(x, w).shape == (2, 3, 3, 4)
    with pytest.raises(TypeError, match=r"\[conv2d\] x must be \(N, H, W, C\) float32, got \(2, 5, 5, 3\) float64"):
        _cpu.conv2d(x.astype(np.float64), w)
    with pytest.raises(ValueError, match=r"\[conv2d\] x has C=3 channels but w is \(3, 3, 2, 4\)"):
        _cpu.conv2d(x, w[:, :, :2])
    with pytest.raises(ValueError, match=r"\[conv2d\] the kernel \(6, 3\) with dilation \(1, 1\) spans"):
        _cpu.conv2d(x, np.zeros((6, 3, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"\[conv2d\] padding must be .*got \(\(0, -1\), \(0, 0\)\)"):
        _cpu.conv2d(x, w, None, 1, ((0, -1), (0, 0)))
    with pytest.raises(ValueError, match=r"\[conv2d\] padding must be in \[0, 2\^31\), got 2147483648"):
        _cpu.conv2d(x, w, None, 1, 2**31)
    with pytest.raises(ValueError, match=r"\[conv2d\] stride must be >= 1, got \(0, 1\)"):
        _cpu.conv2d(x, w, None, (0, 1))
    with pytest.raises(ValueError, match=r"\[conv2d\] dilation must be in \[1, 2\^31\), got 2147483648"):
        _cpu.conv2d(x, w, None, 1, "same", 2**31)
    with pytest.raises(ValueError, match=r"\[conv2d\] stride must be in \[1, 2\^31\), got 36893488147419103232"):
        _cpu.conv2d(x, w, None, 2**65)
    with pytest.raises(TypeError, match=r"\[conv2d\] b must be an array .*, got list"):
        _cpu.conv2d(x, w, [0.0] * 4)
    with pytest.raises(ValueError, match=r"\[conv2d_backward\] activation 'relu' needs y= \(the forward output\)"):
        _cpu.conv2d_backward(y, x, w, activation="relu")
    with pytest.raises(ValueError, match=r"\[conv2d_backward\] z must be \(2, 3, 3, 4\) float32, got \(2, 3, 3, 3\)"):
        _cpu.conv2d_backward(y, x, w, activation="gelu", z=y[..., :3])
    with pytest.raises(TypeError, match=r"\[conv2d_backward\] dy must be a float32 array, got \(2, 3, 3, 4\) float64"):
        _cpu.conv2d_backward(y.astype(np.float64), x, w)
    dx, dw, db = _cpu.conv2d_backward(y, x, w)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (4,)


def test_strided_arrays_are_read_as_their_values(rng):
    """Every strided input (x, w, b, dy, the saved y) is copied once, densely, never misread."""
    x, w, b = f32(rng, 2, 6, 5, 3), f32(rng, 3, 3, 3, 4), f32(rng, 4)
    wide = lambda a: np.repeat(a, 2, axis=-1)[..., ::2]  # the same values, strided
    y = ops.conv2d(x, w, b, padding="same", activation="tanh")
    np.testing.assert_array_equal(ops.conv2d(wide(x), wide(w), wide(b), padding="same", activation="tanh"), y)
    dy = f32(rng, *y.shape)
    want = ops.conv2d_backward(dy, x, w, padding="same", activation="tanh", y=y)
    got = ops.conv2d_backward(wide(dy), wide(x), wide(w), padding="same", activation="tanh", y=wide(y))
    for g, e in zip(got, want):
        np.testing.assert_array_equal(g, e)
