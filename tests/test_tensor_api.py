"""Tensor's PyTorch-style API: shapes, selection, comparisons, in-place writes, dtypes and DLPack."""

import numpy as np
import pytest
from helpers import check_autograd, f32

import ranvier

rng = np.random.default_rng(18)


# ---- gradients of the new functions against finite differences of NumPy ------------------------------
@pytest.mark.parametrize(
    "fn, ref, shapes",
    [
        (lambda a: a.view(3, 8), lambda a: a.reshape(3, 8), [(2, 3, 4)]),
        (lambda a: a.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1), [(2, 3, 4)]),
        (lambda a: a.transpose(0, 1), lambda a: a.swapaxes(0, 1), [(2, 3, 4)]),
        (lambda a: a.transpose(-1, 0), lambda a: a.swapaxes(-1, 0), [(2, 3, 4)]),
        (lambda a: a.unsqueeze(-1), lambda a: a[..., None], [(2, 3)]),
        (lambda a: a.squeeze(1), lambda a: a.squeeze(1), [(2, 1, 3)]),
        (lambda a: a.flatten(), lambda a: a.reshape(-1), [(2, 3, 4)]),
        (lambda a: a.flatten(1), lambda a: a.reshape(2, -1), [(2, 3, 4)]),
        (lambda a: a.expand(4, -1, 3), lambda a: np.broadcast_to(a, (4, 2, 3)), [(2, 1)]),
        (lambda a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)), [(2, 3)]),
        (lambda a, b: ranvier.cat([a, b], 1), lambda a, b: np.concatenate([a, b], 1), [(2, 3), (2, 2)]),
        (lambda a, b: ranvier.stack([a, b], -1), lambda a, b: np.stack([a, b], -1), [(2, 3), (2, 3)]),
        (lambda a: a.split(2, 1)[2] * 3 + a.split(2, 1)[0].sum(), lambda a: a[:, 4:] * 3 + a[:, :2].sum(), [(2, 5)]),
        (lambda a: a.split([1, 4], 1)[1], lambda a: a[:, 1:], [(2, 5)]),
        (lambda a: a.chunk(3, 0)[1], lambda a: a[2:4], [(5, 2)]),
        (lambda a: a.abs(), np.abs, [(3, 4)]),
        (lambda a: a.exp(), np.exp, [(3, 4)]),
        (lambda a: (a * a + 1).log(), lambda a: np.log(a * a + 1), [(3, 4)]),
        (lambda a: (a * a + 1).sqrt(), lambda a: np.sqrt(a * a + 1), [(3, 4)]),
        (lambda a: a.pow(3), lambda a: a**3, [(3, 4)]),
        (lambda a, b: (a * a + 1).pow(b), lambda a, b: (a * a + 1) ** b, [(3, 4), (3, 4)]),
        (lambda a: 2.0**a, lambda a: 2.0**a, [(3, 4)]),
        (lambda a: a.clamp(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), [(3, 4)]),
        (lambda a: a.clamp(min=0.1), lambda a: np.maximum(a, 0.1), [(3, 4)]),
        (lambda a: a.max(), np.max, [(3, 4)]),
        (lambda a: a.min(dim=1).values, lambda a: a.min(1), [(3, 4)]),
        (lambda a: a.max(0, keepdim=True)[0], lambda a: a.max(0, keepdims=True), [(3, 4)]),
        (lambda a, b: ranvier.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b), [(3, 4), (1, 4)]),
        (lambda a: a.clone() * 2, lambda a: a * 2, [(3,)]),
        (lambda a: a.sum(dim=1, keepdim=True), lambda a: a.sum(1, keepdims=True), [(3, 4)]),
    ],
)
def test_gradients_match_finite_differences(fn, ref, shapes):
    check_autograd(fn, ref, [f32(rng, *s) for s in shapes])


def test_gather_matches_take_along_axis_and_accumulates_repeated_indices():
    x = f32(rng, 3, 4)
    index = np.array([[0, 0, 3], [1, 2, 2], [3, 3, 3]])
    check_autograd(lambda a: a.gather(1, ranvier.tensor(index)), lambda a: np.take_along_axis(a, index, 1), [x])
    with pytest.raises(TypeError, match=r"\[gather\] index must be an integer tensor"):
        ranvier.tensor(x).gather(1, np.zeros((3, 3), np.float32))


# ---- values ---------------------------------------------------------------------------------------
def test_transpose_two_dims_swaps_as_pytorch_and_keeps_numpy_permutations():
    x = f32(rng, 2, 3, 4)
    t = ranvier.tensor(x)
    assert t.transpose(0, 1).shape == (3, 2, 4)  # PyTorch's meaning on rank 3
    np.testing.assert_array_equal(t.transpose(2, 0, 1).numpy(), x.transpose(2, 0, 1))  # a full permutation
    np.testing.assert_array_equal(t.transpose().numpy(), x.T)
    m = ranvier.tensor(x[0])
    np.testing.assert_array_equal(m.transpose(1, 0).numpy(), x[0].T)
    np.testing.assert_array_equal(m.transpose(0, 1).numpy(), x[0].T)  # PyTorch: both orders swap


def test_argmax_argmin_max_min_follow_pytorch_including_nan():
    x = np.array([[1.0, 5.0, 5.0], [np.nan, 2.0, 0.0]], np.float32)
    t = ranvier.tensor(x)
    assert t.argmax().item() == 3 and t.argmax().dtype == np.int64  # the NaN's flat index
    np.testing.assert_array_equal(t.argmax(dim=1).numpy(), [1, 0])
    np.testing.assert_array_equal(t.argmin(1, keepdim=True).numpy(), [[0], [0]])
    values, indices = t.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), [5.0, np.nan])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert np.isnan(t.max().item()) and np.isnan(t.min().item())


def test_max_gradient_is_shared_by_ties():
    t = ranvier.tensor([1.0, 3.0, 3.0], requires_grad=True)
    t.max().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 0.5, 0.5])


def test_clamp_keeps_nan_and_needs_a_bound():
    t = ranvier.tensor([np.nan, -2.0, 0.3, 4.0])
    np.testing.assert_array_equal(t.clamp(-1, 1).numpy(), np.float32([np.nan, -1.0, 0.3, 1.0]))
    with pytest.raises(ValueError, match=r"\[clamp\] give min, max or both"):
        t.clamp()


def test_comparisons_give_bool_tensors_without_grad():
    t = ranvier.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    for result, want in [
        (t > 0, [False, False, True]),
        (t >= 0, [False, True, True]),
        (t < 0, [True, False, False]),
        (t <= 0, [True, True, False]),
        (t == 0, [False, True, False]),
        (t != 0, [True, False, True]),
        (0 < t, [False, False, True]),
        (t > np.array([0.0, -1.0, 5.0]), [False, True, False]),
    ]:
        assert isinstance(result, ranvier.Tensor) and result.dtype == bool and not result.requires_grad
        np.testing.assert_array_equal(result.numpy(), want)
    assert {t: 1}[t] == 1  # hashing stays by identity
    assert bool(ranvier.tensor([2.0]) > 1)
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(t > 0)


def test_item_tolist_detach_clone():
    t = ranvier.tensor([[1.0, 2.0]], requires_grad=True)
    assert t.tolist() == [[1.0, 2.0]] and t.sum().item() == 3.0
    d = t.detach()
    assert not d.requires_grad and np.shares_memory(d.data, t.data)
    c = t.clone()
    assert c.requires_grad and not np.shares_memory(c.data, t.data)


# ---- dtypes ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("other", [np.array(2.0), np.float64(2.0), 2.0, 2, np.int64(2), np.array(2)])
def test_scalars_and_0d_arrays_do_not_promote_float32(other):
    t = ranvier.tensor([1.0, 2.0])
    for result in (t * other, other * t, t + other, other - t, t / other, other / t):
        assert result.dtype == np.float32


def test_promotion_by_kind_as_pytorch():
    ints = ranvier.tensor(np.array([1, 2], np.int32))
    assert (ints * 2).dtype == np.int32
    halves = ints * 0.5  # an integer tensor times a float scalar is float32, not truncated to 0
    assert halves.dtype == np.float32
    np.testing.assert_array_equal(halves.numpy(), [0.5, 1.0])
    assert (ints * np.array(0.5)).dtype == np.float32
    # arrays with dimensions promote as in NumPy and PyTorch
    assert (ranvier.tensor([1.0, 2.0]) * np.array([2.0, 3.0])).dtype == np.float64


def test_tensor_makes_float32_from_float64_and_copies():
    x = np.arange(3, dtype=np.float64)
    t = ranvier.tensor(x)
    assert t.dtype == np.float32
    assert ranvier.tensor(np.arange(3)).dtype == np.int64
    assert ranvier.tensor(x, dtype=np.float64).dtype == np.float64
    y = np.ones(3, np.float32)
    ranvier.tensor(y).data[0] = 5
    assert y[0] == 1  # a copy, as torch.tensor


# ---- in-place writes --------------------------------------------------------------------------------
def test_setitem_on_tensors_without_grad_and_on_leaves_under_no_grad():
    t = ranvier.tensor(np.zeros((2, 3)))
    t[0] = 5
    t[1, t[1] == 0] = np.float64(7.0)
    np.testing.assert_array_equal(t.numpy(), [[5, 5, 5], [7, 7, 7]])
    assert t.dtype == np.float32
    w = ranvier.tensor(np.zeros(3), requires_grad=True)
    with ranvier.no_grad():
        w[1] = 2.0
    np.testing.assert_array_equal(w.numpy(), [0, 2, 0])


def test_setitem_refused_where_the_gradient_would_be_wrong():
    w = ranvier.tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\[Tensor.__setitem__\] cannot write in place into a leaf"):
        w[0] = 1.0
    y = w * 2
    with pytest.raises(RuntimeError, match="a result of the graph"), ranvier.no_grad():
        y[0] = 1.0
    t = ranvier.tensor(np.zeros(3))
    with pytest.raises(RuntimeError, match="the value requires grad"):
        t[0] = w[0]


def test_backward_refuses_a_tensor_written_after_it_was_used():
    w = ranvier.tensor([1.0, 2.0], requires_grad=True)
    x = ranvier.tensor([3.0, 4.0])
    loss = (w * x).sum()
    x[0] = 100.0  # w's gradient is x as it was: refusing beats a wrong gradient
    with pytest.raises(RuntimeError, match=r"\[backward\] a tensor of shape \(2,\) .* modified in place"):
        loss.backward()


# ---- DLPack -----------------------------------------------------------------------------------------
def test_dlpack_round_trips_with_pytorch_without_a_copy():
    torch = pytest.importorskip("torch")
    t = ranvier.tensor(f32(rng, 3, 4))
    as_torch = torch.from_dlpack(t)
    assert as_torch.data_ptr() == t.data.ctypes.data
    assert t.__dlpack_device__()[0] == 1  # kDLCPU
    source = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    back = ranvier.from_dlpack(source)
    assert isinstance(back, ranvier.Tensor) and back.data.ctypes.data == source.data_ptr()
    source[0, 0] = 42.0  # the same memory
    assert back.numpy()[0, 0] == 42.0
    np.testing.assert_array_equal((back * 2).numpy(), source.numpy() * 2)
    # the arrays ranvier.ops returns are plain NumPy arrays: DLPack already
    y = ranvier.ops.relu(f32(rng, 5))
    assert torch.from_dlpack(y).data_ptr() == y.ctypes.data


def test_from_dlpack_refuses_what_has_no_dlpack():
    with pytest.raises(TypeError, match=r"\[from_dlpack\] x must support DLPack"):
        ranvier.from_dlpack([1.0, 2.0])
