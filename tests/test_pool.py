"""max_pool2d and avg_pool2d: kernels against the reference, reference against finite differences."""

import numpy as np
import pytest
from helpers import assert_close, f32, numerical_grad

import ranvier
from ranvier import _cpu, ops, reference

# (x shape, pool_size, stride, padding): odd sizes, size 1, overlapping windows
# (3x3 stride 2), stride larger than the pool, pool larger than the image
# ("same"), one channel, channel counts around the vector widths.
CASES = [
    ((1, 1, 1, 1), 1, None, "valid"),
    ((2, 7, 9, 5), 2, None, "valid"),
    ((2, 7, 9, 5), 2, None, "same"),
    ((2, 9, 7, 17), 3, 2, "valid"),
    ((2, 9, 7, 17), 3, 2, "same"),
    ((1, 6, 5, 33), (3, 2), (1, 2), "same"),
    ((3, 5, 5, 1), 2, 1, "same"),
    ((1, 4, 3, 3), 5, 1, "same"),
    ((2, 9, 8, 16), (2, 3), (3, 2), "valid"),
    ((4, 16, 16, 64), 3, 2, "same"),
    # windows that tile the image (stride == pool): the one-pass backward,
    # with rows and columns no window covers, and clipped windows under "same"
    ((3, 8, 8, 64), 2, None, "valid"),
    ((2, 11, 7, 19), (3, 2), None, "valid"),
    ((2, 11, 7, 19), (3, 2), None, "same"),
]
IDS = [f"{s}-{p}-{st}-{pad}" for s, p, st, pad in CASES]
POOLS = ["max_pool2d", "avg_pool2d"]


@pytest.mark.parametrize("op", POOLS)
@pytest.mark.parametrize("shape,pool,stride,padding", CASES, ids=IDS)
def test_forward_and_backward_match_reference(backend, isa, op, shape, pool, stride, padding, rng):
    x = f32(rng, *shape)
    dev = backend.asarray
    y = backend.numpy(getattr(ops, op)(dev(x), pool, stride, padding))
    x64 = x.astype(np.float64)
    want = getattr(reference, op)(x64, pool, stride, padding)
    assert_close(y, want, atol=1e-6, rtol=1e-6, what=op)
    dy = f32(rng, *y.shape)
    dx = backend.numpy(getattr(ops, f"{op}_backward")(dev(dy), dev(x), pool, stride, padding))
    want_dx = getattr(reference, f"{op}_backward")(dy.astype(np.float64), x64, pool, stride, padding)
    assert_close(dx, want_dx, atol=1e-6, rtol=1e-5, what=f"{op}_backward")


@pytest.mark.parametrize("op", POOLS)
@pytest.mark.parametrize("shape,pool,stride,padding", CASES[:9], ids=IDS[:9])
def test_reference_backward_is_the_derivative(op, shape, pool, stride, padding, rng):
    x = rng.standard_normal((1,) + shape[1:3] + (2,))  # distinct values: each window's maximum is unique
    f = getattr(reference, op)
    dy = rng.standard_normal(f(x, pool, stride, padding).shape)
    want = numerical_grad(lambda v: np.sum(f(v, pool, stride, padding) * dy), x)
    got = getattr(reference, f"{op}_backward")(dy, x, pool, stride, padding)
    assert_close(got, want, atol=1e-6, rtol=1e-5, what=f"d{op}")


def test_output_shapes_follow_keras(rng):
    x = f32(rng, 2, 7, 10, 3)
    assert ops.max_pool2d(x).shape == (2, 3, 5, 3)
    assert ops.max_pool2d(x, padding="same").shape == (2, 4, 5, 3)
    assert ops.avg_pool2d(x, 3, 2).shape == (2, 3, 4, 3)
    assert ops.avg_pool2d(x, (3, 1), (1, 3), "same").shape == (2, 7, 4, 3)
    assert ops.max_pool2d(x, 4, padding="same").shape == (2, 2, 3, 3)


def test_same_padding_averages_only_the_image():
    x = np.ones((1, 3, 3, 2), np.float32)
    assert np.all(ops.avg_pool2d(x, 2, 2, "same") == 1)  # edge windows hold 2 or 1 elements, never pads
    x = -np.ones((1, 3, 3, 1), np.float32)
    assert np.all(ops.max_pool2d(x, 2, 2, "same") == -1)  # padding is not a zero that beats -1


@pytest.mark.parametrize("stride", [None, 1, 2])
def test_max_ties_go_to_the_first_element(backend, isa, stride):
    x = np.zeros((2, 5, 5, 19), np.float32)
    dy = np.ones(ops.max_pool2d(x, 3, stride).shape, np.float32)
    dx = backend.numpy(ops.max_pool2d_backward(backend.asarray(dy), backend.asarray(x), 3, stride))
    s = 3 if stride is None else stride
    want = np.zeros_like(x)
    for oh in range(dy.shape[1]):
        for ow in range(dy.shape[2]):
            want[:, oh * s, ow * s, :] += 1  # each window's top-left element
    assert np.array_equal(dx, want)


def test_max_ties_match_reference_with_many_repeats(backend, isa, rng):
    x = rng.integers(0, 3, size=(3, 11, 10, 21)).astype(np.float32)  # ties everywhere
    dy = f32(rng, *ops.max_pool2d(x, 3, 2, "same").shape)
    dx = backend.numpy(ops.max_pool2d_backward(backend.asarray(dy), backend.asarray(x), 3, 2, "same"))
    want = reference.max_pool2d_backward(dy.astype(np.float64), x.astype(np.float64), 3, 2, "same")
    assert_close(dx, want, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("op", POOLS)
@pytest.mark.parametrize("pool,stride", [(3, 2), (2, 2)])
def test_backward_is_the_same_for_any_thread_count(op, pool, stride, rng):
    x = rng.integers(0, 4, size=(2, 33, 31, 24)).astype(np.float32)
    dy = f32(rng, *ops.max_pool2d(x, pool, stride).shape)
    before = ranvier.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 3):
            ranvier.set_num_threads(threads)
            results.append(getattr(ops, f"{op}_backward")(dy, x, pool, stride))
    finally:
        ranvier.set_num_threads(before)
    assert all(np.array_equal(results[0], r) for r in results[1:])


def test_non_contiguous_input_and_empty_batch(backend, rng):
    x = f32(rng, 2, 9, 8, 10)[:, ::2, :, 1:7]
    for op in POOLS:
        y = backend.numpy(getattr(ops, op)(backend.asarray(x), 2, 1))
        assert_close(y, getattr(reference, op)(x.astype(np.float64), 2, 1), atol=1e-6, rtol=1e-6, what=op)
        empty = np.zeros((0, 4, 4, 3), np.float32)
        assert backend.numpy(getattr(ops, op)(backend.asarray(empty))).shape == (0, 2, 2, 3)
        dx = getattr(ops, f"{op}_backward")(backend.asarray(np.zeros((0, 2, 2, 3), np.float32)), backend.asarray(empty))
        assert backend.numpy(dx).shape == (0, 4, 4, 3)


@pytest.mark.parametrize("op", POOLS)
def test_bad_input_is_named(op):
    x = np.zeros((1, 4, 4, 2), np.float32)
    with pytest.raises(TypeError, match=rf"\[{op}\] x must be \(N, H, W, C\) float32, got \(1, 4, 4, 2\) float64"):
        getattr(ops, op)(x.astype(np.float64))
    with pytest.raises(ValueError, match=rf"\[{op}\] x must be \(N, H, W, C\) float32, got \(4, 4, 2\)"):
        getattr(ops, op)(x[0])
    with pytest.raises(ValueError, match=rf"\[{op}\] pool_size \(5, 5\) is larger than the image \(4, 4\)"):
        getattr(ops, op)(x, 5)
    with pytest.raises(ValueError, match=rf"\[{op}\] pool_size must be positive, got 0"):
        getattr(ops, op)(x, 0)
    with pytest.raises(ValueError, match=rf"\[{op}\] stride must be positive"):
        getattr(ops, op)(x, 2, (1, -1))
    with pytest.raises(TypeError, match=rf"\[{op}\] pool_size must be an int or a pair of ints"):
        getattr(ops, op)(x, 2.5)
    with pytest.raises(ValueError, match=rf"\[{op}\] padding must be 'valid' or 'same', got 'full'"):
        getattr(ops, op)(x, 2, padding="full")
    backward = getattr(ops, f"{op}_backward")
    with pytest.raises(ValueError, match=rf"\[{op}_backward\] dy must be \(1, 2, 2, 2\) float32"):
        backward(np.zeros((1, 3, 3, 2), np.float32), x)
    with pytest.raises(TypeError, match=rf"\[{op}_backward\] dy must be \(N, H, W, C\) float32"):
        backward(np.zeros((1, 2, 2, 2), np.float64), x)


def test_raw_module_names_bad_arguments():
    """The compiled module is where the checks live: called directly, it names the op and argument too."""
    x = np.zeros((1, 4, 4, 2), np.float32)
    assert _cpu.max_pool2d(x).shape == (1, 2, 2, 2)
    with pytest.raises(TypeError, match=r"\[avg_pool2d\] x must be \(N, H, W, C\) float32, got \(1, 4, 4, 2\) float64"):
        _cpu.avg_pool2d(x.astype(np.float64), (2, 2), (2, 2))
    with pytest.raises(ValueError, match=r"\[max_pool2d\] stride must be positive, got \(0, 2\)"):
        _cpu.max_pool2d(x, (2, 2), (0, 2))
    with pytest.raises(ValueError, match=r"\[max_pool2d\] padding must be 'valid' or 'same', got 'full'"):
        _cpu.max_pool2d(x, 2, None, "FULL")
    with pytest.raises(ValueError, match=r"\[max_pool2d\] pool windows of more than 2\^24 elements"):
        _cpu.max_pool2d(x, (4096, 4097), 1, "same")
    with pytest.raises(ValueError, match=r"\[max_pool2d_backward\] dy must be \(1, 2, 2, 2\) float32 to match x"):
        _cpu.max_pool2d_backward(np.zeros((1, 2, 2, 1), np.float32), x)
    with pytest.raises(TypeError, match=r"\[avg_pool2d_backward\] x must be an array .*, got tuple"):
        _cpu.avg_pool2d_backward(np.zeros((1, 2, 2, 2), np.float32), (1, 4, 4, 2))


def test_upper_case_padding_and_strided_dy(rng):
    """Keras accepts "SAME"; a strided dy is copied densely, never misread."""
    x = f32(rng, 2, 5, 7, 3)
    for op in POOLS:
        y = getattr(ops, op)(x, 3, 2, "SAME")
        np.testing.assert_array_equal(y, getattr(ops, op)(x, 3, 2, "same"))
        dy = f32(rng, *y.shape)
        backward = getattr(ops, f"{op}_backward")
        strided = np.repeat(dy, 2, axis=-1)[..., ::2]
        np.testing.assert_array_equal(backward(strided, x, 3, 2, "same"), backward(dy, x, 3, 2, "same"))


@pytest.mark.parametrize("op", POOLS)
def test_large_outputs_are_aligned_and_streamed_correctly(isa, op, rng):
    """Outputs of 2^20 floats and more are written with cache-bypassing stores
    (when 64-byte aligned, which the ops allocate): same results."""
    x = f32(rng, 16, 64, 64, 64)
    y = getattr(ops, op)(x)
    dy = f32(rng, *y.shape)
    dx = getattr(ops, f"{op}_backward")(dy, x)
    assert y.size >= 1 << 20 and y.ctypes.data % 64 == 0 and dx.ctypes.data % 64 == 0
    x64 = x.astype(np.float64)
    assert_close(y, getattr(reference, op)(x64, 2), atol=1e-6, rtol=1e-6, what=op)
    want_dx = getattr(reference, f"{op}_backward")(dy.astype(np.float64), x64, 2)
    assert_close(dx, want_dx, atol=1e-6, rtol=1e-5, what=f"{op}_backward")


@pytest.mark.parametrize("pool,stride", [(2, None), (2, 1), (3, None)])
def test_max_nan_propagates_as_in_numpy(isa, pool, stride, rng):
    """A NaN anywhere in a window is its maximum (np.max), and takes the gradient
    (np.argmax: the first NaN), whichever position it holds in the window."""
    x = f32(rng, 2, 7, 6, 19)
    for n, h, w, c in [(0, 0, 0, 1), (0, 1, 1, 0), (1, 3, 3, 18), (1, 4, 4, 5), (1, 5, 5, 5), (0, 2, 5, 7)]:
        x[n, h, w, c] = np.nan
    y = ops.max_pool2d(x, pool, stride)
    want = reference.max_pool2d(x.astype(np.float64), pool, stride)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(want))
    assert np.isnan(y).sum() >= 5
    np.testing.assert_allclose(y[~np.isnan(y)], want[~np.isnan(want)], rtol=1e-6)
    dy = f32(rng, *y.shape)
    dx = ops.max_pool2d_backward(dy, x, pool, stride)
    want_dx = reference.max_pool2d_backward(dy.astype(np.float64), x.astype(np.float64), pool, stride)
    assert_close(dx, want_dx, atol=1e-6, rtol=1e-5, what="max_pool2d_backward with NaN")
