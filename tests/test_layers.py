"""Layers: shapes, Keras weight layouts, errors, and gradients by finite differences."""

import numpy as np
import pytest
from helpers import assert_close

import ranvier
from ranvier import layers


def layer_gradient_check(layer, x, h=1e-2, call=None):
    """Autograd gradients of sum(layer(x) * w) w.r.t. x and every weight vs central differences (float32)."""
    call = call or (lambda t: layer(t))
    xt = ranvier.tensor(x, requires_grad=True)
    out = call(xt)
    w = np.random.default_rng(7).standard_normal(out.shape).astype(np.float32)
    (out * w).sum().backward()

    def loss():
        with ranvier.no_grad():
            return float(np.sum(np.asarray(call(ranvier.tensor(x)).numpy(), np.float64) * w))

    for name, tensor, grad in [("x", x, xt.grad.numpy())] + [
        (p, t.data, t.grad.numpy()) for p, t in layer.named_weights() if t.requires_grad
    ]:
        flat = tensor.reshape(-1)
        want = np.zeros(flat.size)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + h
            up = loss()
            flat[i] = old - h
            down = loss()
            flat[i] = old
            want[i] = (up - down) / (2 * h)
        scale = max(np.abs(want).max(), 1e-3)
        assert_close(grad.reshape(-1) / scale, want / scale, atol=2e-2, rtol=0, what=f"{layer.name}: d/d{name}")


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda: layers.Dense(3, activation="tanh"), (4, 5)),
        (lambda: layers.Dense(3, activation="softmax"), (4, 5)),
        (lambda: layers.Conv2D(3, (3, 2), strides=2, padding="same", activation="tanh"), (2, 5, 6, 2)),
        (lambda: layers.AveragePooling2D(2, padding="same"), (2, 5, 5, 3)),
        (lambda: layers.MaxPooling2D(2), (2, 4, 4, 3)),
        (lambda: layers.GlobalAveragePooling2D(), (2, 3, 4, 5)),
        (lambda: layers.Flatten(), (2, 3, 4)),
        (lambda: layers.Reshape((6, 2)), (2, 3, 4)),
        (lambda: layers.Activation("gelu"), (3, 4)),
        (lambda: layers.BatchNormalization(), (6, 3)),
        (lambda: layers.SimpleRNN(4, return_sequences=True), (2, 3, 3)),
        (lambda: layers.LSTM(3), (2, 4, 2)),
        (lambda: layers.GRU(3, return_sequences=True), (2, 4, 2)),
        (lambda: layers.GRU(3, reset_after=False, go_backwards=True), (2, 4, 2)),
        (lambda: layers.GRU(3, use_bias=False, activation="sigmoid"), (2, 3, 2)),
        (lambda: layers.LSTM(3, recurrent_activation="tanh", go_backwards=True), (2, 3, 2)),
        (lambda: layers.Bidirectional(layers.GRU(3, return_sequences=True)), (2, 3, 2)),
        (lambda: layers.MultiHeadAttention(2, 3), (2, 4, 5)),
        (lambda: layers.PositionalEncoding(), (2, 4, 6)),
        (lambda: layers.LayerNormalization(), (3, 7)),
        (lambda: layers.TransformerEncoder(num_heads=2, intermediate_dim=5, activation="gelu"), (2, 3, 4)),
    ],
)
def test_layer_gradients(make, shape):
    ranvier.utils.set_seed(1)
    layer = make()
    layer_gradient_check(layer, rand(*shape))


def test_keras_weight_layouts():
    x = rand(2, 6, 6, 3)
    conv = layers.Conv2D(8, 3)
    conv(x)
    assert [w.shape for w in conv.weights] == [(3, 3, 3, 8), (8,)]
    lstm = layers.LSTM(5)
    lstm(rand(2, 4, 7))
    assert [w.shape for w in lstm.weights] == [(7, 20), (5, 20), (20,)]
    np.testing.assert_array_equal(lstm.bias.numpy()[5:10], 1.0)  # unit_forget_bias
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    mha(rand(2, 3, 6))
    assert [w.shape for w in mha.weights] == [(6, 2, 4), (2, 4), (6, 2, 4), (2, 4), (6, 2, 4), (2, 4), (2, 4, 6), (6,)]
    dense = layers.Dense(4)
    dense(rand(3, 5))
    assert dense.kernel.shape == (5, 4) and np.all(dense.bias.numpy() == 0)


def test_glorot_uniform_is_seeded_and_bounded():
    ranvier.utils.set_seed(3)
    a = layers.Dense(50)
    a(rand(1, 40))
    ranvier.utils.set_seed(3)
    b = layers.Dense(50)
    b(rand(1, 40))
    np.testing.assert_array_equal(a.kernel.numpy(), b.kernel.numpy())
    limit = np.sqrt(6 / 90)
    assert np.abs(a.kernel.numpy()).max() <= limit and np.abs(a.kernel.numpy()).max() > 0.8 * limit


def test_shape_errors_name_the_layer_and_the_shapes():
    dense = layers.Dense(3, input_shape=(4,), name="head")
    with pytest.raises(
        ValueError,
        match=r"\[Dense 'head'\] expects inputs of shape \(4,\) \(without the batch axis\), "
        r"got a batch of shape \(2, 5\)",
    ):
        dense(rand(2, 5))
    conv = layers.Conv2D(2, 3)
    conv(rand(1, 5, 5, 3))
    with pytest.raises(ValueError, match=r"\[Conv2D 'conv2d.*'\] expects inputs of shape \(None, None, 3\)"):
        conv(rand(1, 5, 5, 4))
    with pytest.raises(ValueError, match=r"\[Conv2D\] padding must be"):
        layers.Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match=r"unknown activation 'mish'"):
        layers.Dense(2, activation="mish")


def test_recurrent_layers_accept_any_length_and_return_states():
    lstm = layers.LSTM(4, return_sequences=True, return_state=True)
    out, h, c = lstm(rand(2, 3, 5))
    assert out.shape == (2, 3, 4) and h.shape == (2, 4) and c.shape == (2, 4)
    out2, _, _ = lstm(rand(2, 9, 5), initial_state=[h, c])
    assert out2.shape == (2, 9, 4)
    np.testing.assert_allclose(out.numpy()[:, -1], h.numpy())


def test_batch_norm_uses_moving_statistics_in_inference():
    bn = layers.BatchNormalization(momentum=0.5)
    x = rand(64, 3) * 3 + 5
    bn(x)
    assert np.allclose(bn.moving_mean.numpy(), 0.5 * x.mean(0), atol=1e-4)
    bn.eval()
    y = bn(x).numpy()
    expected = (x - bn.moving_mean.numpy()) / np.sqrt(bn.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)


def test_causal_self_attention_ignores_the_future():
    mha = layers.MultiHeadAttention(2, 4)
    x = rand(1, 6, 8)
    y1 = mha(x, use_causal_mask=True).numpy()
    x2 = x.copy()
    x2[:, 4:] += 10.0
    y2 = mha(x2, use_causal_mask=True).numpy()
    np.testing.assert_allclose(y1[:, :4], y2[:, :4], rtol=1e-5, atol=1e-5)
    assert not np.allclose(y1[:, 4:], y2[:, 4:])


def test_positional_encoding_formula():
    from ranvier.layers.attention import sinusoidal_encoding

    pe = sinusoidal_encoding(5, 4)
    assert np.isclose(pe[3, 0], np.sin(3)) and np.isclose(pe[3, 1], np.cos(3))
    assert np.isclose(pe[2, 2], np.sin(2 / 100)) and np.isclose(pe[2, 3], np.cos(2 / 100))


def test_embedding_gradient_accumulates_repeated_ids():
    emb = layers.Embedding(5, 3)
    ids = np.array([[1, 2, 1], [4, 1, 0]])
    out = emb(ids)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.numpy()[0, 0], emb.embeddings.numpy()[1])
    out.sum().backward()
    np.testing.assert_array_equal(emb.embeddings.grad.numpy()[:, 0], [1, 3, 1, 0, 1])
    with pytest.raises(ValueError, match=r"\[embedding\] ids must be in \[0, 5\)"):
        emb(np.array([[5]]))


def test_dropout_trains_and_is_identity_in_inference():
    ranvier.utils.set_seed(0)
    drop = layers.Dropout(0.25)
    x = ranvier.tensor(np.ones((200, 100), np.float32), requires_grad=True)
    y = drop(x)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75)
    assert not np.array_equal(drop(x).numpy() != 0, kept)  # a new mask each step
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())


def test_sublayers_follow_every_change_after_a_scan():
    """sublayers() keeps its scan of a layer whose sequences are all tuples; any assignment or deletion
    that can change what it finds is seen, and lists (mutable in place) are scanned every time."""
    from ranvier.layers import Layer

    class Holder(Layer):
        def call(self, x):
            return x

    holder, a, b, c = Holder(), layers.Dense(1), layers.Dense(2), layers.Dense(3)
    holder.pair = (a,)
    assert holder.sublayers() == [a]
    assert holder.sublayers() == [a]  # from the kept scan
    holder.pair = (a, b)
    assert holder.sublayers() == [a, b]
    holder.single = c
    assert holder.sublayers() == [c, a, b]
    del holder.pair
    assert holder.sublayers() == [c]
    holder.items = []
    assert holder.sublayers() == [c]
    holder.items.append(a)  # in place: no assignment
    assert holder.sublayers() == [c, a]
    holder.items[0] = b
    assert holder.sublayers() == [c, b]
    holder.eval()
    assert not any(layer.training for layer in (holder, b, c))


def test_training_argument_runs_one_call_in_that_mode_as_keras():
    x = np.ones((64, 10), np.float32)
    dropout = ranvier.layers.Dropout(0.5, seed=1)
    dropout.eval()
    assert np.any(dropout(x, training=True).numpy() == 0)  # dropped though the layer is in inference mode
    assert not dropout.training  # and the mode before comes back
    dropout.train()
    np.testing.assert_array_equal(dropout(x, training=False).numpy(), x)
    assert dropout.training
    model = ranvier.Sequential([ranvier.layers.Dense(10, input_shape=(10,)), ranvier.layers.Dropout(0.9)])
    np.testing.assert_array_equal(model(x, training=False).numpy(), model.predict(x, verbose=0))
    assert model.training and model.layers[1].training
    inp = ranvier.Input((10,))
    functional = ranvier.Model(inp, ranvier.layers.Dropout(0.9)(inp))
    np.testing.assert_array_equal(functional(x, training=False).numpy(), x)


def test_training_argument_refused_where_it_cannot_be_honoured():
    with pytest.raises(TypeError, match=r"\[Dropout '.*'\] training must be True or False, got 'yes'"):
        ranvier.layers.Dropout(0.5)(np.ones((2, 3), np.float32), training="yes")
    inp = ranvier.Input((4,))
    with pytest.raises(NotImplementedError, match=r"training= in a functional graph is not supported"):
        ranvier.layers.Dropout(0.5)(inp, training=True)
