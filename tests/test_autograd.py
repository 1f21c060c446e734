"""Tensor and autograd: every differentiable function against finite differences."""

import numpy as np
import pytest
from helpers import check_autograd, f32

import ranvier
from ranvier import functional as F
from ranvier import reference


def test_arithmetic_with_broadcasting(rng):
    a, b = f32(rng, 3, 4), f32(rng, 4)
    c = np.abs(f32(rng, 3, 1)) + 0.5
    check_autograd(
        lambda a, b, c: (a + b) * c - a / c + (-b) ** 2, lambda a, b, c: (a + b) * c - a / c + (-b) ** 2, [a, b, c]
    )


def test_unary_functions(rng):
    x = np.abs(f32(rng, 5, 3)) + 0.1
    check_autograd(
        lambda x: F.exp(x) + F.log(x) + F.sqrt(x) + F.abs(x - 1.0) + F.clip(x, 0.3, 1.2),
        lambda x: np.exp(x) + np.log(x) + np.sqrt(x) + np.abs(x - 1.0) + np.clip(x, 0.3, 1.2),
        [x],
    )


@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True), ((0, 2), False), (-1, False)])
def test_reductions(rng, axis, keepdims):
    x = f32(rng, 2, 3, 4)
    check_autograd(
        lambda x: F.sum(x, axis, keepdims) + F.mean(x, axis, keepdims) * 2,
        lambda x: np.sum(x, axis=axis, keepdims=keepdims) + np.mean(x, axis=axis, keepdims=keepdims) * 2,
        [x],
    )


def test_shapes_and_indexing(rng):
    x, y = f32(rng, 2, 3, 4), f32(rng, 2, 3, 4)
    idx = np.array([0, 2, 2])
    check_autograd(
        lambda x, y: (
            F.concatenate([F.transpose(x, (2, 0, 1)), F.transpose(y, (2, 0, 1))], axis=1).reshape(4, -1)[1:, ::2]
            + F.flatten(x)[:, idx].sum()
            + F.stack([x, y], axis=1)[:, 0].mean()
        ),
        lambda x, y: (
            np.concatenate([x.transpose(2, 0, 1), y.transpose(2, 0, 1)], axis=1).reshape(4, -1)[1:, ::2]
            + x.reshape(2, -1)[:, idx].sum()
            + np.stack([x, y], axis=1)[:, 0].mean()
        ),
        [x, y],
    )


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul(rng, ta, tb):
    a = f32(rng, 4, 3) if ta else f32(rng, 3, 4)
    b = f32(rng, 5, 4) if tb else f32(rng, 4, 5)
    check_autograd(lambda a, b: F.matmul(a, b, ta, tb), lambda a, b: reference.matmul(a, b, ta, tb), [a, b])


def test_batched_matmul_broadcasts_gradient(rng):
    a, b = f32(rng, 2, 3, 4), f32(rng, 4, 5)
    check_autograd(lambda a, b: a @ b, lambda a, b: a @ b, [a, b])


@pytest.mark.parametrize("act", [None, "relu", "sigmoid", "tanh", "gelu"])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(rng, act, bias):
    x, w, b = f32(rng, 6, 5), f32(rng, 5, 3), f32(rng, 3)
    if bias:
        check_autograd(
            lambda x, w, b: F.linear(x, w, b, act), lambda x, w, b: reference.linear(x, w, b, act), [x, w, b]
        )
    else:
        check_autograd(lambda x, w: F.linear(x, w, None, act), lambda x, w: reference.linear(x, w, None, act), [x, w])


@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "gelu"])
def test_activations(rng, act):
    x = f32(rng, 4, 7)
    x[np.abs(x) < 1e-2] = 0.5
    check_autograd(getattr(F, act), getattr(reference, act), [x])


def test_gradients_accumulate_and_reuse_of_a_tensor_sums_paths():
    x = ranvier.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1, 2, 3]) + 1)
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1, 2, 3]) + 3)
    x.zero_grad()
    assert x.grad is None


def test_no_grad_records_nothing():
    x = ranvier.tensor(np.ones(3, np.float32), requires_grad=True)
    with ranvier.no_grad():
        y = F.relu(x * 2)
    assert not y.requires_grad
    with pytest.raises(RuntimeError, match=r"\[backward\] this tensor does not require grad"):
        y.sum().backward()


def test_backward_needs_gradient_for_non_scalars():
    x = ranvier.tensor(np.ones((2, 2), np.float32), requires_grad=True)
    with pytest.raises(RuntimeError, match="gradient must be given"):
        (x * 2).backward()
    (x * 2).backward(np.ones((2, 2), np.float32))
    np.testing.assert_allclose(x.grad.numpy(), 2)


def test_deep_graph_does_not_recurse():
    x = ranvier.tensor(np.float32(1.0), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_tensor_basics():
    t = ranvier.tensor([[1.0, 2.0]])
    assert t.dtype == np.float32 and t.shape == (1, 2) and t.device == "cpu" and len(t) == 1
    assert isinstance(t.numpy(), np.ndarray) and t.to("cpu") is t
    with pytest.raises(ValueError, match=r"\[Tensor.to\] device must be"):
        t.to("tpu")
    labels = ranvier.tensor([1, 2, 3])
    assert labels.dtype.kind == "i"
    assert "requires_grad=True" in repr(ranvier.tensor([1.0], requires_grad=True))


def test_cuda_tensor_when_available():
    if not ranvier.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA device"):
            ranvier.tensor([1.0]).to("cuda")
    else:
        t = ranvier.tensor([1.0, -2.0]).to("cuda")
        assert t.device == "cuda" and F.relu(t).to("cpu").numpy().tolist() == [1.0, 0.0]


@pytest.mark.parametrize("act", [None, "relu", "gelu"])
def test_conv2d(rng, act):
    x, w, b = f32(rng, 2, 5, 6, 3), f32(rng, 3, 2, 3, 4), f32(rng, 4)
    kw = dict(stride=(1, 2), padding="same", dilation=1, activation=act)
    check_autograd(lambda x, w, b: F.conv2d(x, w, b, **kw), lambda x, w, b: reference.conv2d(x, w, b, **kw), [x, w, b])


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
def test_pooling(rng, pool):
    x = f32(rng, 2, 5, 7, 3)
    check_autograd(
        lambda x: getattr(F, pool)(x, 3, 2, "same"), lambda x: getattr(reference, pool)(x, 3, 2, "same"), [x]
    )


def test_global_average_pooling(rng):
    check_autograd(F.global_avg_pool2d, lambda x: x.mean(axis=(1, 2)), [f32(rng, 2, 3, 4, 5)])


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_family(rng, fn, axis):
    check_autograd(
        lambda x: getattr(F, fn)(x, axis=axis), lambda x: getattr(reference, fn)(x, axis=axis), [f32(rng, 4, 6)]
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_softmax_cross_entropy_with_both_label_forms(rng, reduction):
    logits = f32(rng, 5, 4)
    labels = rng.integers(0, 4, 5)
    probs = reference.softmax(rng.standard_normal((5, 4))).astype(np.float32)
    for target in (labels, probs):
        check_autograd(
            lambda z, target=target: F.softmax_cross_entropy(z, target, reduction),
            lambda z, target=target: reference.softmax_cross_entropy(z, target, reduction),
            [logits],
        )


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_mse_and_binary_cross_entropy(rng, reduction):
    pred, target = f32(rng, 6, 2), rng.random((6, 2)).astype(np.float32)
    check_autograd(lambda p, t: F.mse(p, t, reduction), lambda p, t: reference.mse(p, t, reduction), [pred, target])
    check_autograd(
        lambda p: F.binary_cross_entropy(p, target, reduction, from_logits=True),
        lambda p: reference.binary_cross_entropy(p, target, reduction, from_logits=True),
        [pred],
    )
    probs = rng.uniform(0.05, 0.95, (6, 2)).astype(np.float32)
    check_autograd(
        lambda p: F.binary_cross_entropy(p, target, reduction),
        lambda p: reference.binary_cross_entropy(p, target, reduction),
        [probs],
    )


@pytest.mark.parametrize("return_sequences", [True, False])
def test_lstm_all_outputs_and_states(rng, return_sequences):
    x, k, rk, b = f32(rng, 2, 3, 4), f32(rng, 4, 12, scale=0.5), f32(rng, 3, 12, scale=0.5), f32(rng, 12)
    h0, c0 = f32(rng, 2, 3), f32(rng, 2, 3)

    def ours(x, k, rk, b, h0, c0):
        out, h, c = F.lstm(x, k, rk, b, h0, c0, return_sequences=return_sequences)
        return F.concatenate([F.flatten(out), h * 2.0, c * 3.0], axis=1)

    def ref(x, k, rk, b, h0, c0):
        out, h, c = reference.lstm(x, k, rk, b, h0, c0, return_sequences=return_sequences, return_state=True)
        return np.concatenate([out.reshape(2, -1), h * 2.0, c * 3.0], axis=1)

    check_autograd(ours, ref, [x, k, rk, b, h0, c0])


def test_simple_rnn_without_initial_state(rng):
    x, k, rk, b = f32(rng, 2, 4, 3), f32(rng, 3, 5, scale=0.5), f32(rng, 5, 5, scale=0.5), f32(rng, 5)
    check_autograd(
        lambda x, k, rk, b: F.simple_rnn(x, k, rk, b)[0],
        lambda x, k, rk, b: reference.simple_rnn(x, k, rk, b),
        [x, k, rk, b],
    )


@pytest.mark.parametrize("causal", [False, True])
def test_attention(rng, causal):
    q, k, v = f32(rng, 1, 2, 5, 4), f32(rng, 1, 2, 6, 4), f32(rng, 1, 2, 6, 3)
    mask = rng.random((5, 6)) > 0.3
    mask[:, -1] = True
    check_autograd(
        lambda q, k, v: F.attention(q, k, v, mask=mask, causal=causal),
        lambda q, k, v: reference.attention(q, k, v, mask=mask, causal=causal),
        [q, k, v],
    )


def test_a_leaf_used_again_by_a_later_node_gets_every_contribution(rng):
    """x - mean(x): the leaf's first user is explored before mean, which also uses it."""
    x = f32(rng, 4, 3)
    check_autograd(lambda a: (a - a.mean(axis=0)) * a, lambda a: (a - a.mean(axis=0)) * a, [x])


def test_backward_observers_hear_each_leaf_as_soon_as_its_gradient_is_final():
    """W2 is used last, first in the argument list: its gradient is final right after out's backward."""
    from ranvier.tensor import add_backward_observer, remove_backward_observer

    x = ranvier.tensor(np.ones((2, 3), np.float32))
    w1 = ranvier.tensor(np.ones((3, 3), np.float32), requires_grad=True)
    w2 = ranvier.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    heard = []

    class Listener:
        def grad_ready(self, leaf):
            heard.append((leaf, leaf.grad.numpy().copy()))

        def backward_done(self):
            heard.append("done")

    listener = Listener()
    add_backward_observer(listener)
    try:
        (w2 * (x @ w1).relu()).sum().backward()
    finally:
        remove_backward_observer(listener)
    assert [h if h == "done" else h[0] for h in heard] == [w2, w1, "done"]
    np.testing.assert_array_equal(heard[0][1], w2.grad.numpy())
    np.testing.assert_array_equal(heard[1][1], w1.grad.numpy())
