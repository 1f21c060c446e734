"""ranvier.autograd: custom Functions against finite differences, grad() against backward(), named errors."""

import numpy as np
import pytest
from helpers import check_autograd, f32

import ranvier
from ranvier import autograd
from ranvier import functional as F


class ScaledSoftplus(autograd.Function):
    """scale * log(1 + exp(x * w)), its backward written on arrays (a non-Tensor argument between)."""

    @staticmethod
    def forward(ctx, x, scale, w):
        ctx.scale = scale
        ctx.save_for_backward(x, w)
        return ranvier.Tensor(scale * np.log1p(np.exp(x.numpy() * w.numpy())))

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        s = 1 / (1 + np.exp(-x.numpy() * w.numpy()))
        dz = grad.numpy() * ctx.scale * s
        return dz * w.numpy(), None, (dz * x.numpy()).sum(axis=0)


class ProductAndSum(autograd.Function):
    """Two outputs, backward written with Tensor operators."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b, a + b

    @staticmethod
    def backward(ctx, g_prod, g_sum):
        a, b = ctx.saved_tensors
        return g_prod * b + g_sum, g_prod * a + g_sum


def test_custom_function_matches_finite_differences(rng):
    x, w = f32(rng, 4, 3), f32(rng, 3)
    check_autograd(
        lambda x, w: ScaledSoftplus.apply(x, 0.5, w) * 2.0,
        lambda x, w: 0.5 * np.log1p(np.exp(x * w)) * 2.0,
        [x, w],
    )


def test_custom_function_with_two_outputs(rng):
    a, b = f32(rng, 2, 5), f32(rng, 2, 5)
    check_autograd(
        lambda a, b: F.sum(ProductAndSum.apply(a, b)[0], 1) * ProductAndSum.apply(a, b)[1][:, 0],
        lambda a, b: np.sum(a * b, 1) * (a + b)[:, 0],
        [a, b],
    )


def test_an_unused_output_gets_zeros():
    a, b = ranvier.tensor([1.0, 2.0], requires_grad=True), ranvier.tensor([3.0, 4.0], requires_grad=True)
    prod, _ = ProductAndSum.apply(a, b)
    prod.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])


def test_function_records_nothing_without_grad(rng):
    x = ranvier.tensor(f32(rng, 2, 3))
    y = ScaledSoftplus.apply(x, 1.0, ranvier.tensor(f32(rng, 3)))
    assert not y.requires_grad and y._backward is None


def test_function_ctx_knows_which_inputs_need_grad(rng):
    seen = {}

    class Probe(autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = ctx.needs_input_grad
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g

    Probe.apply(ranvier.tensor([1.0], requires_grad=True), ranvier.tensor([2.0]))
    assert seen["needs"] == (True, False)


def test_function_backward_with_the_wrong_count_or_shape_is_named():
    class TooFew(autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    class WrongShape(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.sum()

        @staticmethod
        def backward(ctx, g):
            return g

    a = ranvier.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\[TooFew.backward\] returned 1 gradients; forward took 2"):
        TooFew.apply(a, a).sum().backward()
    with pytest.raises(ValueError, match=r"\[WrongShape.backward\] the gradient of argument 0 has shape \(\)"):
        WrongShape.apply(a).backward()


def test_function_forward_must_return_tensors():
    class ReturnsArray(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.numpy()

    with pytest.raises(TypeError, match=r"\[ReturnsArray.forward\] must return a Tensor"):
        ReturnsArray.apply(ranvier.tensor([1.0], requires_grad=True))


def small_graph(rng):
    x = ranvier.tensor(f32(rng, 4, 3), requires_grad=True)
    w = ranvier.tensor(f32(rng, 3, 2), requires_grad=True)
    h = F.tanh(x @ w)
    return x, w, h, (h * h).sum() + F.mean(x)


def test_grad_equals_backward_and_leaves_grad_alone(rng):
    x, w, _, loss = small_graph(rng)
    gx, gw = autograd.grad(loss, (x, w))
    assert x.grad is None and w.grad is None
    loss.backward()
    np.testing.assert_allclose(gx.numpy(), x.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gw.numpy(), w.grad.numpy(), rtol=1e-6)


def test_grad_of_an_intermediate_and_with_grad_outputs(rng):
    x, w, h, loss = small_graph(rng)
    (gh,) = autograd.grad(loss, h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy(), rtol=1e-6)
    seed = f32(rng, 4, 2)
    (gw,) = autograd.grad([h], [w], grad_outputs=[seed])
    want = x.numpy().T @ (seed * (1 - h.numpy() ** 2))
    np.testing.assert_allclose(gw.numpy(), want, rtol=1e-5, atol=1e-6)


def test_grad_of_several_outputs_adds_them(rng):
    x = ranvier.tensor(f32(rng, 3), requires_grad=True)
    a, b = (x * x).sum(), (x * 3.0).sum()
    (g,) = autograd.grad([a, b], [x])
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy() + 3.0, rtol=1e-6)


def test_grad_unused_input(rng):
    x, w, _, loss = small_graph(rng)
    other = ranvier.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\[grad\] input 1 \(shape \(1,\)\) was not used.*allow_unused=True"):
        autograd.grad(loss, [x, other])
    gx, none = autograd.grad(loss, [x, other], allow_unused=True)
    assert none is None and gx.shape == x.shape


def test_grad_refuses_what_it_cannot_do(rng):
    x, _, h, loss = small_graph(rng)
    with pytest.raises(RuntimeError, match=r"\[grad\] gradient must be given for a non-scalar tensor of shape"):
        autograd.grad(h, x)
    with pytest.raises(RuntimeError, match=r"\[grad\] input 0 does not require grad"):
        autograd.grad(loss, ranvier.tensor([1.0]))
    with pytest.raises(TypeError, match=r"\[grad\] inputs must be Tensors"):
        autograd.grad(loss, [x.numpy()])


def test_create_graph_is_refused_by_name(rng):
    x, _, _, loss = small_graph(rng)
    with pytest.raises(NotImplementedError, match=r"\[backward\] create_graph=True \(double backward\)"):
        loss.backward(create_graph=True)
    with pytest.raises(NotImplementedError, match=r"\[grad\] create_graph=True \(double backward\)"):
        autograd.grad(loss, x, create_graph=True)


def test_the_graph_is_retained_for_a_second_backward(rng):
    x, _, _, loss = small_graph(rng)
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)
