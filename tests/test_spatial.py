"""upsample2d, pad2d, crop2d: kernels against the reference, the reference against finite
differences, the layers against Keras 3 and PyTorch (when installed)."""

import os

import numpy as np
import pytest
from helpers import assert_close, check_autograd, f32, numerical_grad

import ranvier
from ranvier import _cpu, layers, ops, reference
from ranvier.layers.base import layer_from_config, layer_to_config

# (x shape, size): odd sizes, size 1, factors of 1, unequal factors, channel
# counts below, at and around the vector widths, an empty batch.
UPSAMPLE_CASES = [
    ((1, 1, 1, 1), 1),
    ((1, 1, 1, 1), (3, 2)),
    ((2, 7, 9, 5), 2),
    ((2, 5, 3, 17), (1, 3)),
    ((3, 4, 6, 16), (3, 1)),
    ((1, 6, 5, 33), (2, 5)),
    ((2, 3, 3, 64), 4),
    ((0, 3, 4, 5), 2),
    ((2, 0, 4, 5), 2),
]
# (x shape, padding or cropping): Keras' three forms, zeros on some sides, an empty batch.
FRAME_CASES = [
    ((1, 1, 1, 1), 0),
    ((1, 2, 3, 1), 1),
    ((2, 7, 9, 5), (1, 2)),
    ((2, 7, 9, 17), ((1, 2), (3, 0))),
    ((3, 8, 6, 16), ((0, 3), (0, 1))),
    ((1, 6, 5, 33), ((2, 0), (1, 4))),
    ((0, 4, 4, 3), 1),
]


def ids(cases):
    return [f"{shape}-{arg}" for shape, arg in cases]


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("shape,size", UPSAMPLE_CASES, ids=ids(UPSAMPLE_CASES))
def test_upsample_matches_reference(backend, isa, shape, size, interpolation, rng):
    x = f32(rng, *shape)
    dev = backend.asarray
    y = backend.numpy(ops.upsample2d(dev(x), size, interpolation))
    want = reference.upsample2d(x.astype(np.float64), size, interpolation)
    if interpolation == "nearest":
        np.testing.assert_array_equal(y, want)  # a copy: exact
    assert_close(y, want, atol=1e-6, rtol=1e-6, what="upsample2d")
    dy = f32(rng, *y.shape)
    dx = backend.numpy(ops.upsample2d_backward(dev(dy), dev(x), size, interpolation))
    want = reference.upsample2d_backward(dy.astype(np.float64), x, size, interpolation)
    assert dx.shape == x.shape
    assert_close(dx, want, atol=1e-5, rtol=1e-5, what="upsample2d_backward")


@pytest.mark.parametrize("op", ["pad2d", "crop2d"])
@pytest.mark.parametrize("shape,frame", FRAME_CASES, ids=ids(FRAME_CASES))
def test_pad_and_crop_match_reference(backend, isa, op, shape, frame, rng):
    x = f32(rng, *shape)
    dev = backend.asarray
    y = backend.numpy(getattr(ops, op)(dev(x), frame))
    np.testing.assert_array_equal(y, getattr(reference, op)(x, frame))
    dy = f32(rng, *y.shape)
    dx = backend.numpy(getattr(ops, f"{op}_backward")(dev(dy), dev(x), frame))
    np.testing.assert_array_equal(dx, getattr(reference, f"{op}_backward")(dy, x, frame))


def test_bilinear_by_hand():
    """Half-pixel centres: output o reads (o + 0.5) / s - 0.5, clamped to the edges."""
    x = np.float32([0, 4, 8]).reshape(1, 1, 3, 1)
    y = ops.upsample2d(x, (1, 2), "bilinear")
    np.testing.assert_allclose(y[0, 0, :, 0], [0, 1, 3, 5, 7, 8], rtol=0, atol=1e-6)
    dx = ops.upsample2d_backward(np.ones_like(y), x, (1, 2), "bilinear")
    np.testing.assert_allclose(dx[0, 0, :, 0], [2.0, 2.0, 2.0], atol=1e-6)
    dx = ops.upsample2d_backward(np.float32([1, 0, 0, 0, 0, 2]).reshape(y.shape), x, (1, 2), "bilinear")
    np.testing.assert_allclose(dx[0, 0, :, 0], [1, 0, 2], atol=1e-6)  # the clamped ends read one pixel


def test_shapes_and_values_by_hand():
    x = np.arange(6, dtype=np.float32).reshape(1, 2, 3, 1)
    up = ops.upsample2d(x, (2, 1))
    np.testing.assert_array_equal(up[0, :, :, 0], [[0, 1, 2], [0, 1, 2], [3, 4, 5], [3, 4, 5]])
    np.testing.assert_array_equal(ops.upsample2d_backward(np.ones_like(up), x, (2, 1)), np.full(x.shape, 2.0))
    pad = ops.pad2d(x, ((1, 0), (0, 2)))
    np.testing.assert_array_equal(pad[0, :, :, 0], [[0, 0, 0, 0, 0], [0, 1, 2, 0, 0], [3, 4, 5, 0, 0]])
    crop = ops.crop2d(x, ((0, 1), (1, 1)))
    np.testing.assert_array_equal(crop[0, :, :, 0], [[1]])
    np.testing.assert_array_equal(ops.crop2d_backward(crop, x, ((0, 1), (1, 1)))[0, :, :, 0], [[0, 1, 0], [0, 0, 0]])
    assert ops.pad2d(x, 2).shape == (1, 6, 7, 1) and ops.pad2d(x, (1, 0)).shape == (1, 4, 3, 1)


def test_zero_size_results(backend):
    """A cropping may take the whole image (an empty result, as x[:, 2:0] is); padding an empty image
    gives only zeros."""
    x = np.ones((2, 3, 4, 5), np.float32)
    dev = backend.asarray
    assert backend.numpy(ops.crop2d(dev(x), ((1, 2), (0, 0)))).shape == (2, 0, 4, 5)
    assert backend.numpy(ops.crop2d(dev(x), ((0, 0), (4, 0)))).shape == (2, 3, 0, 5)
    dx = backend.numpy(ops.crop2d_backward(dev(np.zeros((2, 0, 4, 5), np.float32)), dev(x), ((1, 2), (0, 0))))
    np.testing.assert_array_equal(dx, np.zeros_like(x))
    empty = np.zeros((1, 0, 0, 3), np.float32)
    np.testing.assert_array_equal(backend.numpy(ops.pad2d(dev(empty), 1)), np.zeros((1, 2, 2, 3)))
    assert backend.numpy(ops.upsample2d(dev(np.zeros((1, 2, 2, 0), np.float32)), 3)).shape == (1, 6, 6, 0)


def test_bilinear_large_and_strided(isa, rng):
    x = f32(rng, 3, 33, 29, 35)[:, ::2, :, 1:]
    for size in [2, (3, 1)]:
        want = reference.upsample2d(x.astype(np.float64), size, "bilinear")
        assert_close(ops.upsample2d(x, size, "bilinear"), want, atol=1e-6, rtol=1e-6)
        dy = f32(rng, *want.shape)
        want_dx = reference.upsample2d_backward(dy.astype(np.float64), x, size, "bilinear")
        assert_close(ops.upsample2d_backward(dy, x, size, "bilinear"), want_dx, atol=1e-5, rtol=1e-5)


def test_large_and_strided_inputs(isa, rng):
    """Many threads' rows; a strided x or dy is copied densely, never misread."""
    x = f32(rng, 4, 65, 47, 35)
    for size in [2, (3, 1)]:
        np.testing.assert_array_equal(ops.upsample2d(x, size), reference.upsample2d(x, size))
    np.testing.assert_array_equal(ops.pad2d(x, ((3, 1), (2, 5))), reference.pad2d(x, ((3, 1), (2, 5))))
    np.testing.assert_array_equal(ops.crop2d(x, ((3, 1), (2, 5))), reference.crop2d(x, ((3, 1), (2, 5))))
    strided = x[:, ::2, 1:, ::3]
    np.testing.assert_array_equal(ops.upsample2d(strided, 2), reference.upsample2d(strided, 2))
    np.testing.assert_array_equal(ops.pad2d(strided, 1), reference.pad2d(strided, 1))
    dy = f32(rng, 4, 66, 92, 70)[:, :, :, ::2]
    want = reference.upsample2d_backward(dy.astype(np.float64), f32(rng, 4, 33, 46, 35), 2)
    assert_close(ops.upsample2d_backward(dy, f32(rng, 4, 33, 46, 35), 2), want, atol=1e-6, rtol=1e-6)


def test_results_do_not_depend_on_threads(rng):
    x = f32(rng, 3, 41, 37, 24)
    dy = f32(rng, 3, 123, 74, 24)
    before = ranvier.get_num_threads()
    results = []
    try:
        for threads in (1, 2, 3):
            ranvier.set_num_threads(threads)
            results.append(
                (
                    ops.upsample2d_backward(dy, x, (3, 2)),
                    ops.upsample2d_backward(dy, x, (3, 2), "bilinear"),
                    ops.upsample2d(x, (3, 2), "bilinear"),
                    ops.pad2d(x, 2),
                    ops.crop2d(x, (3, 1)),
                )
            )
    finally:
        ranvier.set_num_threads(before)
    for got in results[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(results[0], got))


def test_reference_backward_is_the_derivative(rng):
    x = rng.standard_normal((2, 3, 4, 2))
    cases = [
        ("upsample2d", ((2, 3),)),
        ("upsample2d", ((2, 3), "bilinear")),
        ("upsample2d", ((3, 1), "bilinear")),
        ("pad2d", (((1, 2), (0, 1)),)),
        ("crop2d", (((1, 0), (1, 2)),)),
    ]
    for op, args in cases:
        f = getattr(reference, op)
        dy = rng.standard_normal(f(x, *args).shape)
        want = numerical_grad(lambda v, f=f, args=args, dy=dy: np.sum(f(v, *args) * dy), x)
        got = getattr(reference, f"{op}_backward")(dy, x, *args)
        assert_close(got, want, atol=1e-6, rtol=1e-5, what=f"{op} {args}")


def test_autograd_through_the_functional_ops(rng):
    from ranvier import functional as F

    x = f32(rng, 2, 3, 4, 3)
    check_autograd(lambda t: F.upsample2d(t, (2, 3)), lambda v: reference.upsample2d(v, (2, 3)), [x])
    check_autograd(
        lambda t: F.upsample2d(t, (3, 2), "bilinear"), lambda v: reference.upsample2d(v, (3, 2), "bilinear"), [x]
    )
    check_autograd(lambda t: F.pad2d(t, ((1, 0), (2, 1))), lambda v: reference.pad2d(v, ((1, 0), (2, 1))), [x])
    check_autograd(lambda t: F.crop2d(t, ((1, 1), (0, 2))), lambda v: reference.crop2d(v, ((1, 1), (0, 2))), [x])


def test_nan_and_inf_propagate(backend, isa, rng):
    """Copies carry NaN and Inf where they go; a block sum with a NaN or an Inf in it gives NaN or Inf."""
    x = f32(rng, 2, 5, 6, 9)
    x[0, 1, 2, 3], x[1, 4, 5, 8], x[1, 0, 0, 0] = np.nan, np.inf, -np.inf
    dev = backend.asarray
    for op, args in [("upsample2d", ((2, 3),)), ("pad2d", (((1, 2), (3, 0)),)), ("crop2d", (((1, 0), (2, 0)),))]:
        y = backend.numpy(getattr(ops, op)(dev(x), *args))
        np.testing.assert_array_equal(y, getattr(reference, op)(x, *args))  # NaN where NaN, +-inf where +-inf
        backward = getattr(ops, f"{op}_backward")
        dx = backend.numpy(backward(dev(y), dev(x), *args))
        want = getattr(reference, f"{op}_backward")(y.astype(np.float64), x, *args)
        np.testing.assert_array_equal(np.isnan(dx), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(dx), np.isinf(want))
        assert np.isnan(dx).any()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_bilinear_nan_and_inf_reach_only_the_outputs_that_read_them(backend, isa, rng):
    """A NaN or Inf reaches the outputs interpolated from it; a tap of weight 0 (the clamped first
    row and column) is not read, so a NaN in row 1 does not leak into output row 0."""
    x = f32(rng, 2, 5, 6, 9)
    x[0, 1, 2, 3], x[1, 4, 5, 8], x[1, 0, 3, 0], x[0, 2, 1, 4] = np.nan, np.inf, -np.inf, np.nan
    dev = backend.asarray
    y = backend.numpy(ops.upsample2d(dev(x), (2, 3), "bilinear"))
    want = reference.upsample2d(x.astype(np.float64), (2, 3), "bilinear")
    np.testing.assert_array_equal(np.isnan(y), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(y), np.isinf(want))
    assert not np.isnan(y[0, 0]).any() and np.isnan(y[0, 1:5, :, 3]).any()
    dy = f32(rng, *y.shape)
    dy[0, 0, 0, 0], dy[1, 9, 17, 2] = np.nan, np.inf
    dx = backend.numpy(ops.upsample2d_backward(dev(dy), dev(x), (2, 3), "bilinear"))
    want = reference.upsample2d_backward(dy.astype(np.float64), x, (2, 3), "bilinear")
    np.testing.assert_array_equal(np.isnan(dx), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(dx), np.isinf(want))
    assert np.isnan(dx[0, 0, 0, 0]) and not np.isnan(dx[0, 1, 1, 0]) and np.isinf(dx[1, 4, 5, 2])


def test_bad_input_is_named():
    x = np.zeros((1, 4, 5, 2), np.float32)
    with pytest.raises(TypeError, match=r"\[upsample2d\] x must be \(N, H, W, C\) float32, got \(1, 4, 5, 2\) float64"):
        ops.upsample2d(x.astype(np.float64))
    with pytest.raises(ValueError, match=r"\[pad2d\] x must be \(N, H, W, C\) float32, got \(4, 5, 2\) float32"):
        ops.pad2d(x[0], 1)
    with pytest.raises(ValueError, match=r"\[upsample2d\] size must be positive, got \(2, 0\)"):
        ops.upsample2d(x, (2, 0))
    with pytest.raises(TypeError, match=r"\[upsample2d\] size must be an int or a pair of ints, got 1.5"):
        ops.upsample2d(x, 1.5)
    with pytest.raises(
        ValueError, match=r"\[upsample2d\] interpolation must be 'nearest' or 'bilinear', got 'bicubic'"
    ):
        ops.upsample2d(x, 2, "bicubic")
    with pytest.raises(TypeError, match=r"\[upsample2d\] interpolation must be a str, got NoneType"):
        ops.upsample2d(x, 2, None)
    with pytest.raises(
        ValueError, match=r"\[crop2d\] cropping \(\(2, 3\), \(0, 0\)\) is larger than the image \(4, 5\)"
    ):
        ops.crop2d(x, ((2, 3), (0, 0)))
    with pytest.raises(ValueError, match=r"\[crop2d\] cropping \(\(0, 0\), \(3, 3\)\) is larger than the image"):
        ops.crop2d(x, (0, 3))
    with pytest.raises(ValueError, match=r"\[pad2d\] padding must be an int, a pair \(h, w\) or \(\(top, bottom\)"):
        ops.pad2d(x, ((1, -1), (0, 0)))
    with pytest.raises(ValueError, match=r"\[pad2d\] padding must be .* in \[0, 2\^31\), got 2147483648"):
        ops.pad2d(x, 2**31)
    with pytest.raises(TypeError, match=r"\[crop2d\] cropping must be an int, .*got 'a'"):
        ops.crop2d(x, "a")
    with pytest.raises(ValueError, match=r"\[crop2d\] cropping must be .*got \(1, 2, 3\)"):
        ops.crop2d(x, (1, 2, 3))
    with pytest.raises(ValueError, match=r"\[upsample2d_backward\] dy must be \(1, 8, 10, 2\) float32 to match x"):
        ops.upsample2d_backward(np.zeros((1, 8, 9, 2), np.float32), x)
    with pytest.raises(
        ValueError, match=r"\[pad2d_backward\] dy must be \(1, 6, 7, 2\) float32 to match x and padding"
    ):
        ops.pad2d_backward(x, x, 1)
    with pytest.raises(ValueError, match=r"\[crop2d_backward\] dy must be \(1, 2, 3, 2\) float32 to match x and"):
        ops.crop2d_backward(x, x, 1)
    with pytest.raises(TypeError, match=r"\[crop2d_backward\] dy must be \(N, H, W, C\) float32"):
        ops.crop2d_backward(np.zeros((1, 2, 3, 2), np.float64), x, 1)


def test_raw_module_checks_and_huge_outputs():
    """The checks live in the compiled module; an empty input with huge sizes cannot overflow an output."""
    x = np.zeros((0, 2**40, 4, 1), np.float32)
    with pytest.raises(ValueError, match=r"\[upsample2d\] the output .* would have 2\^62 elements or more"):
        _cpu.upsample2d(x, (2**30, 1))
    assert _cpu.upsample2d(x, 2).shape == (0, 2**41, 8, 1)
    wide = np.zeros((0, 1, 2**36, 1), np.float32)  # nothing to do: no table of 2^56 column taps is made
    assert _cpu.upsample2d(wide, (3, 2**20), "bilinear").shape == (0, 3, 2**56, 1)
    assert _cpu.upsample2d_backward(np.zeros((0, 2, 2**37, 1), np.float32), wide, 2, "bilinear").shape == wide.shape
    assert _cpu.pad2d(np.zeros((2**20, 2**20, 0, 0), np.float32), 1).shape == (2**20, 2**20 + 2, 2, 0)
    with pytest.raises(TypeError, match=r"\[pad2d\] x must be an array .*, got list"):
        _cpu.pad2d([[1.0]], 1)


# ---- layers ----------------------------------------------------------------------


def test_layers_shapes_values_and_gradients(rng):
    x = f32(rng, 2, 5, 6, 3)
    seq = f32(rng, 2, 7, 3)
    cases = [
        (layers.UpSampling2D((2, 3)), x, reference.upsample2d(x, (2, 3))),
        (layers.ZeroPadding2D(((1, 2), 3)), x, reference.pad2d(x, ((1, 2), (3, 3)))),
        (layers.Cropping2D(((1, 0), (2, 2))), x, reference.crop2d(x, ((1, 0), (2, 2)))),
        (layers.UpSampling1D(3), seq, np.repeat(seq, 3, axis=1)),
        (layers.ZeroPadding1D((1, 2)), seq, np.pad(seq, ((0, 0), (1, 2), (0, 0)))),
        (layers.Cropping1D((2, 1)), seq, seq[:, 2:-1]),
    ]
    for layer, inputs, want in cases:
        t = ranvier.tensor(inputs, requires_grad=True)
        y = layer(t)
        np.testing.assert_array_equal(y.numpy(), want)
        y.sum().backward()
        # every input element reaches the output (size[0] * size[1] times for upsampling) or is cropped
        counts = {"UpSampling2D": 6.0, "UpSampling1D": 3.0}
        expected = np.full(inputs.shape, counts.get(type(layer).__name__, 1.0), np.float32)
        if isinstance(layer, layers.Cropping2D):
            expected = reference.crop2d_backward(np.ones(want.shape), inputs, ((1, 0), (2, 2)))
        if isinstance(layer, layers.Cropping1D):
            expected[:, :2] = expected[:, -1:] = 0
        np.testing.assert_array_equal(t.grad.numpy(), expected)


def test_layer_defaults_and_config_round_trip():
    defaults = {
        layers.UpSampling2D: {"size": [2, 2], "interpolation": "nearest", "data_format": "channels_last"},
        layers.ZeroPadding2D: {"padding": [[1, 1], [1, 1]], "data_format": "channels_last"},
        layers.Cropping2D: {"cropping": [[0, 0], [0, 0]], "data_format": "channels_last"},
        layers.UpSampling1D: {"size": 2},
        layers.ZeroPadding1D: {"padding": [1, 1], "data_format": "channels_last"},
        layers.Cropping1D: {"cropping": [1, 1]},
    }
    for cls, want in defaults.items():
        config = cls().get_config()
        assert {k: config[k] for k in want} == want
    for layer in [
        layers.UpSampling2D((1, 3)),
        layers.UpSampling2D(2, interpolation="bilinear"),
        layers.ZeroPadding2D(((0, 2), (1, 3))),
        layers.Cropping2D(2),
        layers.UpSampling1D(4),
        layers.ZeroPadding1D((0, 3)),
        layers.Cropping1D((2, 0)),
    ]:
        again = layer_from_config(layer_to_config(layer))
        assert type(again) is type(layer) and again.get_config() == layer.get_config()


def test_model_with_the_layers_trains_and_saves(tmp_path, rng):
    model = ranvier.Sequential(
        [
            layers.ZeroPadding2D(1, input_shape=(6, 6, 2)),
            layers.Conv2D(3, 3),
            layers.UpSampling2D(2),
            layers.Cropping2D(((1, 1), (2, 2))),
            layers.Flatten(),
            layers.Dense(1),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    x, y = f32(rng, 8, 6, 6, 2), f32(rng, 8, 1)
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    np.testing.assert_array_equal(ranvier.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))


def test_layer_arguments_are_checked():
    with pytest.raises(
        ValueError, match=r"\[UpSampling2D\] data_format must be 'channels_last' or None .*'channels_first'"
    ):
        layers.UpSampling2D(data_format="channels_first")
    with pytest.raises(ValueError, match=r"\[ZeroPadding2D\] data_format must be"):
        layers.ZeroPadding2D(data_format="channels_first")
    assert layers.Cropping2D(data_format="Channels_Last").data_format == "channels_last"  # Keras lower-cases it
    with pytest.raises(ValueError, match=r"\[UpSampling2D\] interpolation must be 'nearest' or 'bilinear'.*'lanczos3'"):
        layers.UpSampling2D(interpolation="lanczos3")
    with pytest.raises(ValueError, match=r"\[UpSampling2D\] size must be an integer in \[1, "):
        layers.UpSampling2D((0, 2))
    with pytest.raises(TypeError, match=r"\[UpSampling1D\] size must be an integer"):
        layers.UpSampling1D(2.0)
    with pytest.raises(ValueError, match=r"\[Cropping2D\] cropping must be an integer in \[0, "):
        layers.Cropping2D(-1)
    with pytest.raises(ValueError, match=r"\[ZeroPadding2D\] padding must be an int, a pair"):
        layers.ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match=r"\[Cropping2D 'c'\] cropping \(\(2, 2\), \(0, 0\)\) must leave at least"):
        layers.Cropping2D(((2, 2), (0, 0)), name="c")(np.zeros((1, 4, 4, 1), np.float32))
    with pytest.raises(ValueError, match=r"\[Cropping1D 'c1'\] cropping \(1, 1\) must leave at least one step"):
        layers.Cropping1D(name="c1")(np.zeros((1, 2, 1), np.float32))
    with pytest.raises(ValueError, match=r"\[UpSampling1D 'u'\] expects sequences \(N, L, C\)"):
        layers.UpSampling1D(name="u")(np.zeros((1, 2, 2, 1), np.float32))
    with pytest.raises(ValueError, match=r"\[ZeroPadding2D 'z'\] expects images \(N, H, W, C\)"):
        layers.ZeroPadding2D(name="z")(np.zeros((1, 2, 1), np.float32))


# ---- against Keras 3 and PyTorch -------------------------------------------------


@pytest.fixture
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("torch")
    return pytest.importorskip("keras")


def test_layers_match_keras(keras, rng):
    x = f32(rng, 2, 5, 7, 3)
    seq = f32(rng, 2, 9, 4)
    pairs = [
        (layers.UpSampling2D((2, 3)), keras.layers.UpSampling2D((2, 3)), x),
        (layers.UpSampling2D(), keras.layers.UpSampling2D(), x),
        (
            layers.UpSampling2D((3, 2), interpolation="bilinear"),
            keras.layers.UpSampling2D((3, 2), interpolation="bilinear"),
            x,
        ),
        (layers.UpSampling2D(4, interpolation="BILINEAR"), keras.layers.UpSampling2D(4, interpolation="BILINEAR"), x),
        (layers.ZeroPadding2D(((1, 2), 3)), keras.layers.ZeroPadding2D(((1, 2), 3)), x),
        (layers.ZeroPadding2D(2), keras.layers.ZeroPadding2D(2), x),
        (layers.Cropping2D(((1, 2), (0, 3))), keras.layers.Cropping2D(((1, 2), (0, 3))), x),
        (layers.Cropping2D((2, 1)), keras.layers.Cropping2D((2, 1)), x),
        (layers.UpSampling1D(3), keras.layers.UpSampling1D(3), seq),
        (layers.ZeroPadding1D((2, 1)), keras.layers.ZeroPadding1D((2, 1)), seq),
        (layers.Cropping1D((3, 2)), keras.layers.Cropping1D((3, 2)), seq),
    ]
    for ours, theirs, inputs in pairs:
        want = keras.ops.convert_to_numpy(theirs(inputs))
        if getattr(ours, "interpolation", "nearest") == "bilinear":  # rounding apart
            np.testing.assert_allclose(ours(inputs).numpy(), want, rtol=0, atol=2e-6)
        else:
            np.testing.assert_array_equal(ours(inputs).numpy(), want, err_msg=type(ours).__name__)
        config = {k: v for k, v in ours.get_config().items() if k not in ("name", "trainable")}
        theirs_config = theirs.get_config()
        for key, value in config.items():
            assert np.array_equal(np.asarray(value), np.asarray(theirs_config[key])), (type(ours).__name__, key)


def test_ops_match_torch(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = f32(rng, 2, 5, 7, 3)
    nchw = torch.from_numpy(x).permute(0, 3, 1, 2)
    up = tf.interpolate(nchw, scale_factor=(2, 3), mode="nearest").permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(ops.upsample2d(x, (2, 3)), up)
    padded = tf.pad(nchw, (3, 1, 1, 2)).permute(0, 2, 3, 1).numpy()  # (left, right, top, bottom)
    np.testing.assert_array_equal(ops.pad2d(x, ((1, 2), (3, 1))), padded)
    cropped = tf.pad(nchw, (-3, -1, -1, -2)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(ops.crop2d(x, ((1, 2), (3, 1))), cropped)
    # the backward of torch's nearest upsampling sums each block too
    t = nchw.clone().requires_grad_(True)
    dy = f32(rng, 2, 3, 10, 21)
    tf.interpolate(t, scale_factor=(2, 3), mode="nearest").backward(torch.from_numpy(dy))
    dx = ops.upsample2d_backward(np.ascontiguousarray(dy.transpose(0, 2, 3, 1)), x, (2, 3))
    assert_close(dx, t.grad.permute(0, 2, 3, 1).numpy(), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("size", [(2, 2), (3, 2), (1, 4), (5, 3)])
def test_bilinear_matches_torch(size, rng):
    """torch's bilinear with align_corners=False (what Keras 3 runs on the torch backend), both ways."""
    torch = pytest.importorskip("torch")
    x = f32(rng, 2, 5, 7, 3)
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).requires_grad_(True)
    out = (5 * size[0], 7 * size[1])
    yt = torch.nn.functional.interpolate(t, size=out, mode="bilinear", align_corners=False, antialias=False)
    y = ops.upsample2d(x, size, "bilinear")
    np.testing.assert_allclose(y, yt.detach().permute(0, 2, 3, 1).numpy(), rtol=0, atol=2e-6)
    dy = f32(rng, *y.shape)
    yt.backward(torch.from_numpy(np.ascontiguousarray(dy.transpose(0, 3, 1, 2))))
    dx = ops.upsample2d_backward(dy, x, size, "bilinear")
    np.testing.assert_allclose(dx, t.grad.permute(0, 2, 3, 1).numpy(), rtol=1e-5, atol=1e-5)
