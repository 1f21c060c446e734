"""ONNX export: one forward pass on a zero sample, recorded layer by layer.

The trace runs the model once in inference mode. Each call of a layer that
has an exporter (``_EXPORTERS``, matched by class and its bases) becomes
its ONNX nodes; a ``Model`` (Sequential or subclassed) without one is
entered, so its ``call`` may mix layers with the functional ops in
``_FUNCTIONAL`` (``F.relu(self.fc1(x))``, ``x + y``, ``x.reshape(...)``).
Any other layer, or a value made by an op the trace does not record, is an
error naming it: an exported file never silently lacks a step.

Tensors keep ranvier's layouts in the graph (images NHWC); Conv and the
pools, which ONNX defines on NCHW, are wrapped in a pair of Transposes.
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np

from ranvier import activations
from ranvier import functional as F
from ranvier import layers as L
from ranvier.device import to_device, to_host
from ranvier.layers.attention import sinusoidal_encoding
from ranvier.layers.base import Layer, shape_str
from ranvier.layers.merging import _Merge
from ranvier.layers.recurrent import _Recurrent
from ranvier.tensor import Tensor, no_grad

OPSET = 17  # LayerNormalization; every op here has had its current meaning since 17
_TO_NCHW, _TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]
_SAMPLE_BATCH = 2  # not 1, so a functional reshape can tell the batch axis from a size-1 one


def _onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError("[export] ONNX export needs the onnx package: pip install ranvier[onnx]") from e
    return onnx


class _Graph:
    """Nodes, initializers and the name of each traced Tensor's value."""

    def __init__(self):
        self.onnx = _onnx()
        self.nodes: list = []
        self.initializers: list = []
        self.names: dict = {}  # id(Tensor) -> value name
        self.keep: list = []  # the traced Tensors stay alive, so their ids stay unique
        self.count = 0

    def fresh(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, value, hint: str = "const") -> str:
        name = self.fresh(hint)
        array = to_host(value)  # a constant of a model on the GPU
        array = array.astype(np.float32) if array.dtype.kind == "f" else array.astype(np.int64)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list, hint: str, outputs: int = 1, **attrs):
        names = [self.fresh(hint) for _ in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, names, **attrs))
        return names[0] if outputs == 1 else names

    def name_of(self, t, user: str) -> str:
        if not isinstance(t, Tensor) or id(t) not in self.names:
            raise ValueError(
                f"[export] {user} takes a value the ONNX export did not record: only ranvier layers and "
                f"the functional ops {', '.join(sorted(_FUNCTIONAL))} are exported"
            )
        return self.names[id(t)]

    def bind(self, t: Tensor, name: str) -> None:
        self.keep.append(t)
        self.names[id(t)] = name


def _w(weight: Tensor) -> np.ndarray:
    """A weight as a NumPy array (a model on the GPU is copied into the file)."""
    return to_host(weight.data)


# ---- activations ---------------------------------------------------------------------------------------
def _gelu(g: _Graph, x: str) -> str:
    """0.5 x (1 + erf(x / sqrt 2)): the exact GELU ranvier computes (ONNX's Gelu op needs opset 20)."""
    erf = g.op("Erf", [g.op("Div", [x, g.const(math.sqrt(2.0))], "gelu")], "gelu")
    return g.op("Mul", [g.op("Mul", [x, g.const(0.5)], "gelu"), g.op("Add", [erf, g.const(1.0)], "gelu")], "gelu")


def _activation(g: _Graph, x: str, activation, where: str) -> str:
    activation = activations.canonical(activation)
    if activation in (None, "linear"):
        return x
    if activation == "gelu":
        return _gelu(g, x)
    # ONNX's Elu and Selu defaults are Keras' (alpha 1; SELU's constants)
    simple = {
        "relu": "Relu",
        "sigmoid": "Sigmoid",
        "tanh": "Tanh",
        "elu": "Elu",
        "selu": "Selu",
        "softplus": "Softplus",
        "softsign": "Softsign",
        "exponential": "Exp",
    }
    if activation in simple:
        return g.op(simple[activation], [x], activation)
    if activation == "leaky_relu":
        return g.op("LeakyRelu", [x], activation, alpha=0.2)
    if activation == "hard_sigmoid":
        return g.op("HardSigmoid", [x], activation, alpha=1 / 6, beta=0.5)
    if activation == "silu":
        return g.op("Mul", [x, g.op("Sigmoid", [x], "silu")], "silu")
    if activation == "relu6":
        return g.op("Clip", [x, g.const(np.float32(0)), g.const(np.float32(6))], "relu6")
    if activation == "softmax":
        return g.op("Softmax", [x], "softmax", axis=-1)
    raise ValueError(f"[export] {where}: activation {activation!r} has no ONNX exporter")


# ---- layers: each takes (graph, layer, input name, input Tensor, output Tensor) and returns the output name
def _dense(g, layer, x, xt, yt):
    y = g.op("MatMul", [x, g.const(_w(layer.kernel), "kernel")], "dense")
    if layer.bias is not None:
        y = g.op("Add", [y, g.const(_w(layer.bias), "bias")], "dense")
    return _activation(g, y, layer.activation, _label(layer))


def _nchw(g, x, make):
    """make(NCHW name) -> NCHW name, run between Transposes so the graph stays NHWC."""
    return g.op("Transpose", [make(g.op("Transpose", [x], "nchw", perm=_TO_NCHW))], "nhwc", perm=_TO_NHWC)


def _same_pads(size, kernel, stride, dilation) -> list:
    """ranvier's "same" (out = ceil(in / stride), the odd pad at the end) as ONNX pads [top, left, bottom, right]."""
    begins, ends = [], []
    for n, k, s, d in zip(size, kernel, stride, dilation):
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        begins.append(total // 2)
        ends.append(total - total // 2)
    return begins + ends


def _window_attrs(layer, xt, kernel, dilation) -> dict:
    pads = [0, 0, 0, 0]
    if layer.padding == "same":
        pads = _same_pads(xt.shape[1:3], kernel, layer.strides, dilation)
    elif isinstance(layer.padding, tuple):  # ranvier.nn.Conv2d's (ph, pw): zeros on both sides
        pads = list(layer.padding) * 2
    return {"kernel_shape": list(kernel), "strides": list(layer.strides), "pads": pads}


def _conv2d(g, layer, x, xt, yt):
    attrs = _window_attrs(layer, xt, layer.kernel_size, layer.dilation_rate)
    weight = g.const(np.transpose(_w(layer.kernel), (3, 2, 0, 1)), "kernel")  # HWIO -> OIHW
    inputs = [weight] + ([g.const(_w(layer.bias), "bias")] if layer.bias is not None else [])
    y = _nchw(g, x, lambda t: g.op("Conv", [t] + inputs, "conv", dilations=list(layer.dilation_rate), **attrs))
    return _activation(g, y, layer.activation, _label(layer))


def _pool(op_type: str, **extra):
    def export(g, layer, x, xt, yt):
        attrs = _window_attrs(layer, xt, layer.pool_size, (1, 1))
        return _nchw(g, x, lambda t: g.op(op_type, [t], "pool", **attrs, **extra))

    return export


def _reduce(op_type: str, axes):
    return lambda g, layer, x, xt, yt: g.op(op_type, [x], "global", axes=axes, keepdims=int(layer.keepdims))


def _ncl(g, x, make):
    """make(NCL name) -> NCL name, between Transposes so the graph stays (N, L, C)."""
    return g.op("Transpose", [make(g.op("Transpose", [x], "ncl", perm=[0, 2, 1]))], "nlc", perm=[0, 2, 1])


def _pads_1d(padding, length, kernel, stride, dilation) -> list:
    if padding == "causal":
        return [(kernel - 1) * dilation, 0]
    if isinstance(padding, tuple):  # ranvier.nn.Conv1d's (left, right)
        return list(padding)
    return _same_pads((length,), (kernel,), (stride,), (dilation,)) if padding == "same" else [0, 0]


def _conv1d(g, layer, x, xt, yt):
    pads = _pads_1d(layer.padding, xt.shape[1], layer.kernel_size, layer.strides, layer.dilation_rate)
    weight = g.const(np.transpose(_w(layer.kernel), (2, 1, 0)), "kernel")  # (KW, C, K) -> (K, C, KW)
    inputs = [weight] + ([g.const(_w(layer.bias), "bias")] if layer.bias is not None else [])
    attrs = dict(kernel_shape=[layer.kernel_size], strides=[layer.strides], dilations=[layer.dilation_rate], pads=pads)
    y = _ncl(g, x, lambda t: g.op("Conv", [t] + inputs, "conv", **attrs))
    return _activation(g, y, layer.activation, _label(layer))


def _pool1d(op_type: str, **extra):
    def export(g, layer, x, xt, yt):
        pads = _pads_1d(layer.padding, xt.shape[1], layer.pool_size, layer.strides, 1)
        attrs = dict(kernel_shape=[layer.pool_size], strides=[layer.strides], pads=pads)
        return _ncl(g, x, lambda t: g.op(op_type, [t], "pool", **attrs, **extra))

    return export


def _conv2d_transpose(g, layer, x, xt, yt):
    """ONNX ConvTranspose puts input i, tap t at output i * stride + t * dilation - pad_begin, as ranvier
    (pad_begin: Keras' padding of the dilated input, from the traced sizes); the rest of the output's
    length is ONNX's output_padding when it is longer than the taps reach, else a pad at the end."""
    begins, ends, extras = [], [], []
    for i in range(2):
        k, s, d = layer.kernel_size[i], layer.strides[i], layer.dilation_rate[i]
        span, size, out = (k - 1) * d + 1, xt.shape[1 + i], yt.shape[1 + i]
        op = None if layer.output_padding is None else layer.output_padding[i]
        if layer.padding == "valid":
            left = span - 1
        else:
            total = s + span - 2 if op is None else span + span % 2 - 2 + op
            left = min(total // 2 + total % 2, span - 1)
        begins.append(span - 1 - left)
        rest = out - ((size - 1) * s + span - begins[-1])
        ends.append(max(-rest, 0))
        extras.append(max(rest, 0))
    y = _conv_transpose_node(g, layer, x, begins + ends, extras)
    return _activation(g, y, layer.activation, _label(layer))


def _conv_transpose_node(g, layer, x, pads: list, output_padding: list) -> str:
    """An ONNX ConvTranspose of a Conv2DTranspose's kernel and bias (between NCHW Transposes)."""
    weight = g.const(np.transpose(_w(layer.kernel), (3, 2, 0, 1)), "kernel")  # (KH, KW, F, C) -> (C, F, KH, KW)
    inputs = [weight] + ([g.const(_w(layer.bias), "bias")] if layer.bias is not None else [])
    attrs = dict(
        kernel_shape=list(layer.kernel_size),
        strides=list(layer.strides),
        dilations=list(layer.dilation_rate),
        pads=pads,
        output_padding=output_padding,
    )
    return _nchw(g, x, lambda t: g.op("ConvTranspose", [t] + inputs, "conv_transpose", **attrs))


def _reshape_to_traced(g, layer, x, xt, yt):
    """Flatten and Reshape keep the batch axis (0 copies it) and take the traced sizes for the rest."""
    return g.op("Reshape", [x, g.const(np.array((0,) + tuple(yt.shape[1:]), np.int64), "shape")], "reshape")


def _batch_norm(g, layer, x, xt, yt):
    """Inference form, in ranvier's order of operations: (x - mean) / sqrt(var + eps) * gamma + beta."""
    std = np.sqrt(_w(layer.moving_variance) + np.float32(layer.epsilon))
    y = g.op("Div", [g.op("Sub", [x, g.const(_w(layer.moving_mean))], "bn"), g.const(std)], "bn")
    if layer.gamma is not None:
        y = g.op("Mul", [y, g.const(_w(layer.gamma), "gamma")], "bn")
    if layer.beta is not None:
        y = g.op("Add", [y, g.const(_w(layer.beta), "beta")], "bn")
    return y


def _layer_norm(g, layer, x, xt, yt):
    inputs = [x, g.const(_w(layer.gamma), "gamma"), g.const(_w(layer.beta), "beta")]
    return g.op("LayerNormalization", inputs, "layer_norm", axis=-1, epsilon=float(layer.epsilon))


def _embedding(g, layer, x, xt, yt):
    ids = x if xt.dtype.kind in "iu" else g.op("Cast", [x], "ids", to=g.onnx.TensorProto.INT64)
    return g.op("Gather", [g.const(_w(layer.embeddings), "embeddings"), ids], "embedding", axis=0)


def _lstm(g, layer, x, xt, yt, direction="forward"):
    """ONNX LSTM (time-major, gates i, o, f, c) from Keras' (batch-major, gates i, f, c, o); direction
    "reverse" for a Bidirectional's backward layer (its sequence comes out in time order)."""
    if layer.return_state:
        raise ValueError(f"[export] {_label(layer)}: return_state=True has no ONNX exporter")
    u = layer.units
    i, f, c, o = (slice(k * u, (k + 1) * u) for k in range(4))

    def onnx_gates(w):  # (rows, 4u) Keras -> (1, 4u, rows) ONNX
        return np.concatenate([w[..., i], w[..., o], w[..., f], w[..., c]], axis=-1).T[None]

    bias = onnx_gates((_w(layer.bias) if layer.bias is not None else np.zeros(4 * u, np.float32))[None])[..., 0]
    inputs = [
        g.op("Transpose", [x], "time_major", perm=[1, 0, 2]),
        g.const(onnx_gates(_w(layer.kernel)), "W"),
        g.const(onnx_gates(_w(layer.recurrent_kernel)), "R"),
        g.const(np.concatenate([bias, np.zeros_like(bias)], axis=1), "B"),
    ]
    seq, last, _ = g.op("LSTM", inputs, "lstm", outputs=3, hidden_size=u, direction=direction)
    if layer.return_sequences:  # (T, 1, N, u) -> (N, T, u)
        return g.op("Transpose", [g.op("Squeeze", [seq, g.const(np.array([1]))], "lstm")], "lstm", perm=[1, 0, 2])
    return g.op("Squeeze", [last, g.const(np.array([0]))], "lstm")


def _recurrent(g, layer, op_type: str, x, kernel, recurrent_kernel, bias, **attrs):
    """An ONNX RNN/GRU node (time-major, W/R as (1, gates * u, rows), B = [input bias, recurrent bias]) and
    the batch-major sequence or last state Keras returns."""
    if layer.return_state:
        raise ValueError(f"[export] {_label(layer)}: return_state=True has no ONNX exporter")
    inputs = [
        g.op("Transpose", [x], "time_major", perm=[1, 0, 2]),
        g.const(kernel.T[None], "W"),
        g.const(recurrent_kernel.T[None], "R"),
        g.const(bias.reshape(1, -1), "B"),
    ]
    seq, last = g.op(op_type, inputs, op_type.lower(), outputs=2, hidden_size=layer.units, **attrs)
    # (ONNX's reverse direction gives the backward layer's sequence in time order, as Bidirectional merges it)
    if layer.return_sequences:  # (T, 1, N, u) -> (N, T, u)
        squeezed = g.op("Squeeze", [seq, g.const(np.array([1]))], "sequence")
        return g.op("Transpose", [squeezed], "sequence", perm=[1, 0, 2])
    return g.op("Squeeze", [last, g.const(np.array([0]))], "last")


def _biases(layer, width: int) -> np.ndarray:
    """Keras' bias as ONNX's [input bias, recurrent bias] (zeros without a bias, or for the recurrent half
    where Keras has none)."""
    if layer.bias is None:
        return np.zeros(2 * width, np.float32)
    bias = _w(layer.bias).reshape(-1)
    return bias if bias.size == 2 * width else np.concatenate([bias, np.zeros(width, np.float32)])


def _simple_rnn(g, layer, x, xt, yt, direction="forward"):
    """ONNX RNN with tanh: h = tanh(x W^T + h R^T + b)."""
    kernel, recurrent = _w(layer.kernel), _w(layer.recurrent_kernel)
    bias = _biases(layer, layer.units)
    return _recurrent(g, layer, "RNN", x, kernel, recurrent, bias, activations=["Tanh"], direction=direction)


def _gru(g, layer, x, xt, yt, direction="forward"):
    """ONNX GRU: the same gate order as Keras (z, r, h) and the same update (h = z h_prev + (1 - z) hh);
    Keras' reset_after=True is ONNX's linear_before_reset=1."""
    kernel, recurrent = _w(layer.kernel), _w(layer.recurrent_kernel)
    bias = _biases(layer, 3 * layer.units)
    reset = int(layer.reset_after)
    return _recurrent(g, layer, "GRU", x, kernel, recurrent, bias, linear_before_reset=reset, direction=direction)


def _positional_encoding(g, layer, x, xt, yt):
    """x + pe: the encoding of the traced length is a constant (the exported input's length is fixed)."""
    return g.op("Add", [x, g.const(sinusoidal_encoding(xt.shape[1], xt.shape[2]), "positional_encoding")], "pe")


def _projection(g, x, kernel: np.ndarray, bias, hint):
    """x @ kernel + bias, the kernel and bias flattened to 2-D and 1-D as MultiHeadAttention computes them."""
    y = g.op("MatMul", [x, g.const(kernel, f"{hint}_kernel")], hint)
    return y if bias is None else g.op("Add", [y, g.const(_w(bias).reshape(-1), f"{hint}_bias")], hint)


def _heads(g, x, kernel, bias, dim: int, hint: str):
    """(B, L, D) -> (B, heads, L, dim) through the (D, heads, dim) kernel."""
    heads = kernel.shape[1]
    y = _projection(g, x, _w(kernel).reshape(kernel.shape[0], -1), bias, hint)
    shape = g.const(np.array([0, 0, heads, dim], np.int64), "shape")
    return g.op("Transpose", [g.op("Reshape", [y, shape], hint)], hint, perm=[0, 2, 1, 3])


def _multi_head_attention(g, layer, query, qt, yt, value=None, key=None, attention_mask=None, use_causal_mask=False):
    """softmax(q k^T / sqrt(key_dim) [+ causal mask]) v per head, then the output projection.
    value and key come as the traced Tensors (or None: key = value = query, as the layer's call)."""
    if attention_mask is not None:
        raise ValueError(f"[export] {_label(layer)}: attention_mask has no ONNX exporter (a causal mask has)")
    vt = qt if value is None else value
    kt = vt if key is None else key
    value, key = (g.name_of(t, _label(layer)) for t in (vt, kt))
    q = _heads(g, query, layer.query_kernel, layer.query_bias, layer.key_dim, "query")
    k = _heads(g, key, layer.key_kernel, layer.key_bias, layer.key_dim, "key")
    v = _heads(g, value, layer.value_kernel, layer.value_bias, layer.value_dim, "value")
    k_transposed = g.op("Transpose", [k], "k", perm=[0, 1, 3, 2])
    scores = g.op("MatMul", [q, k_transposed], "scores")
    scores = g.op("Mul", [scores, g.const(1.0 / math.sqrt(layer.key_dim))], "scores")
    if use_causal_mask:  # query i sees keys j <= i + (Lk - Lq), as ranvier's attention; -inf before the softmax
        lq, lk = qt.shape[1], kt.shape[1]
        if lq > lk:  # ranvier gives zeros for a query with no key; ONNX's Softmax would give NaN
            raise ValueError(f"[export] {_label(layer)}: a causal mask with more queries than keys has no exporter")
        blocked = np.triu(np.full((lq, lk), -np.inf, np.float32), k=1 + lk - lq)
        scores = g.op("Add", [scores, g.const(blocked, "causal_mask")], "scores")
    heads = g.op("MatMul", [g.op("Softmax", [scores], "softmax", axis=-1), v], "attention")
    merged = g.op(
        "Reshape",
        [g.op("Transpose", [heads], "merge", perm=[0, 2, 1, 3]), g.const(np.array([0, 0, -1], np.int64), "shape")],
        "merge",
    )
    out = _w(layer.output_kernel)
    return _projection(g, merged, out.reshape(-1, out.shape[-1]), layer.output_bias, "attention_output")


def _spatial_frames(layer) -> list:
    """The (before, after) pair of each spatial axis (H and W, or L) of a padding or cropping layer."""
    frame = layer.padding if hasattr(layer, "padding") else layer.cropping
    return list(frame) if isinstance(frame[0], tuple) else [frame]


def _zero_padding(g, layer, x, xt, yt):
    """Pad's pads are every axis' begins, then every axis' ends; the batch and channel axes get none."""
    frames = _spatial_frames(layer)
    pads = [0] + [b for b, _ in frames] + [0, 0] + [a for _, a in frames] + [0]
    return g.op("Pad", [x, g.const(np.array(pads, np.int64), "pads")], "pad")


def _cropping(g, layer, x, xt, yt):
    frames = _spatial_frames(layer)
    starts = [b for b, _ in frames]
    ends = [size - a for size, (_, a) in zip(xt.shape[1:], frames)]
    axes = list(range(1, len(frames) + 1))
    inputs = [x] + [g.const(np.array(v, np.int64), "crop") for v in (starts, ends, axes)]
    return g.op("Slice", inputs, "crop")


def _upsampling(g, layer, x, xt, yt):
    """Resize by the integer factors. Nearest: output o reads input floor(o / size) ("asymmetric" +
    "floor"). Bilinear: "half_pixel", (o + 0.5) / size - 0.5 clamped to the image, as ranvier."""
    size = layer.size if isinstance(layer.size, tuple) else (layer.size,)
    scales = g.const(np.array((1.0, *size, 1.0), np.float32), "scales")
    if getattr(layer, "interpolation", "nearest") == "bilinear":
        attrs = {"mode": "linear", "coordinate_transformation_mode": "half_pixel"}
    else:
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    return g.op("Resize", [x, "", scales], "upsample", **attrs)


def _activation_layer(g, layer, x, xt, yt):
    return _activation(g, x, layer.activation, _label(layer))


def _identity(g, layer, x, xt, yt):
    return x


def _relu_layer(g, layer, x, xt, yt):
    return g.op("Relu", [x], "relu")


def _relu_general(g, layer, x, xt, yt):
    """Keras' ReLU: (x if x > threshold else 0) clipped to max_value, less negative_slope * max(threshold - x,
    0); NaN stays NaN (ONNX's Where would make it 0)."""
    if layer.max_value is None and layer.negative_slope == 0 and layer.threshold == 0:
        return g.op("Relu", [x], "relu")
    threshold = g.const(np.float32(layer.threshold))
    y = g.op("Where", [g.op("Greater", [x, threshold], "relu"), x, g.const(np.float32(0))], "relu")
    if layer.max_value is not None:
        y = g.op("Min", [y, g.const(np.float32(layer.max_value))], "relu")
    if layer.negative_slope:
        below = g.op("Relu", [g.op("Sub", [threshold, x], "relu")], "relu")
        y = g.op("Sub", [y, g.op("Mul", [below, g.const(np.float32(layer.negative_slope))], "relu")], "relu")
    return g.op("Where", [g.op("IsNaN", [x], "relu"), x, y], "relu")


def _prelu(g, layer, x, xt, yt):
    """ONNX PRelu: x where x >= 0, slope * x elsewhere; alpha broadcasts from the right as ranvier's."""
    return g.op("PRelu", [x, g.const(_w(layer.alpha), "alpha")], "prelu")


def _bidirectional(g, layer, x, xt, yt):
    """The forward layer as a forward ONNX node, the backward one as a reverse node (whose outputs come
    in time order, as Keras' Bidirectional puts them back), merged as merge_mode says."""
    if layer.return_state or layer.merge_mode is None:
        what = "return_state=True" if layer.return_state else "merge_mode=None (two outputs)"
        raise ValueError(f"[export] {_label(layer)}: {what} has no ONNX exporter")
    forward, backward = layer.forward_layer, layer.backward_layer
    if forward.go_backwards:
        raise ValueError(f"[export] {_label(layer)}: a forward layer with go_backwards=True has no ONNX exporter")
    _check_recurrent_options(forward)
    _check_recurrent_options(backward, backwards=True)
    y = _exporter_of_class(forward)(g, forward, x, xt, None)
    y_rev = _exporter_of_class(backward)(g, backward, x, xt, None, direction="reverse")
    if layer.merge_mode == "concat":
        return g.op("Concat", [y, y_rev], "bidirectional", axis=-1)
    if layer.merge_mode == "ave":
        return g.op("Mul", [g.op("Add", [y, y_rev], "bidirectional"), g.const(np.float32(0.5))], "bidirectional")
    return g.op({"sum": "Add", "mul": "Mul"}[layer.merge_mode], [y, y_rev], "bidirectional")


def _time_distributed(g, layer, x, xt, yt):
    """(N, T, ...) -> (N * T, ...), the inner layer's exporter, and back to (N, T, ...)."""
    inner = layer.layer
    export = _exporter(inner)
    if export is None or export in _TAKE_CALL_ARGUMENTS:
        raise ValueError(f"[export] {_label(layer)}: its inner {_label(inner)} has no ONNX exporter to run per step")
    steps = xt.shape[1]
    folded = g.op("Reshape", [x, g.const(np.array((-1,) + tuple(xt.shape[2:]), np.int64), "shape")], "fold")
    inner_xt = Tensor(xt.data.reshape((-1,) + tuple(xt.shape[2:])))
    inner_yt = Tensor(yt.data.reshape((-1,) + tuple(yt.shape[2:])))
    y = export(g, inner, folded, inner_xt, inner_yt)
    return g.op("Reshape", [y, g.const(np.array((-1, steps) + tuple(yt.shape[2:]), np.int64), "shape")], "unfold")


def _nn_exporters() -> dict:
    from ranvier import nn

    return {
        nn.ReLU: _relu_layer,
        nn.Flatten: _reshape_to_traced,
        nn.Identity: _identity,
        nn.ConvTranspose2d: _torch_conv_transpose,
    }


def _torch_conv_transpose(g, layer, x, xt, yt):
    """PyTorch's ConvTranspose2d is ONNX's: padding cropped from both borders, output_padding at the end."""
    ph, pw = layer.torch_padding
    return _conv_transpose_node(g, layer, x, [ph, pw, ph, pw], list(layer.output_padding))


def _merge(op_type: str):
    """A merge layer over its list of inputs (ONNX's Sum/Max/Min/Mul broadcast as Keras' merges do)."""

    def export(g, layer, xs, xts, yt):
        if op_type == "Sub":
            return g.op("Sub", xs, "subtract")
        if op_type == "Mean":
            return g.op("Div", [g.op("Sum", xs, "average"), g.const(float(len(xs)))], "average")
        return g.op(op_type, xs, op_type.lower())

    return export


def _concatenate(g, layer, xs, xts, yt):
    return g.op("Concat", xs, "concatenate", axis=int(layer.axis))


_EXPORTERS = {
    L.InputLayer: _identity,
    L.Add: _merge("Sum"),
    L.Subtract: _merge("Sub"),
    L.Multiply: _merge("Mul"),
    L.Average: _merge("Mean"),
    L.Maximum: _merge("Max"),
    L.Minimum: _merge("Min"),
    L.Concatenate: _concatenate,
    L.Dense: _dense,
    L.Conv2D: _conv2d,
    L.MaxPooling2D: _pool("MaxPool"),
    L.AveragePooling2D: _pool("AveragePool", count_include_pad=0),
    L.GlobalAveragePooling2D: _reduce("ReduceMean", [1, 2]),
    L.GlobalAveragePooling1D: _reduce("ReduceMean", [1]),
    L.GlobalMaxPooling2D: _reduce("ReduceMax", [1, 2]),
    L.GlobalMaxPooling1D: _reduce("ReduceMax", [1]),
    L.Conv1D: _conv1d,
    L.Conv2DTranspose: _conv2d_transpose,
    L.MaxPooling1D: _pool1d("MaxPool"),
    L.AveragePooling1D: _pool1d("AveragePool", count_include_pad=0),
    L.Flatten: _reshape_to_traced,
    L.Reshape: _reshape_to_traced,
    L.Dropout: _identity,
    L.Activation: _activation_layer,
    L.BatchNormalization: _batch_norm,
    L.LayerNormalization: _layer_norm,
    L.Embedding: _embedding,
    L.LSTM: _lstm,
    L.SimpleRNN: _simple_rnn,
    L.GRU: _gru,
    L.PositionalEncoding: _positional_encoding,
    L.MultiHeadAttention: _multi_head_attention,
    L.UpSampling2D: _upsampling,
    L.UpSampling1D: _upsampling,
    L.ZeroPadding2D: _zero_padding,
    L.ZeroPadding1D: _zero_padding,
    L.Cropping2D: _cropping,
    L.Cropping1D: _cropping,
    L.LeakyReLU: lambda g, layer, x, xt, yt: g.op("LeakyRelu", [x], "leaky_relu", alpha=layer.negative_slope),
    L.ELU: lambda g, layer, x, xt, yt: g.op("Elu", [x], "elu", alpha=layer.alpha),
    L.ReLU: _relu_general,
    L.PReLU: _prelu,
    L.Softmax: lambda g, layer, x, xt, yt: g.op("Softmax", [x], "softmax", axis=layer.axis),
    L.Bidirectional: _bidirectional,
    L.TimeDistributed: _time_distributed,
}

# exporters that take the layer's further call arguments (Tensors as they are; each checks its own)
_TAKE_CALL_ARGUMENTS = (_multi_head_attention,)

# layers without an exporter of their own whose call is traced through, as a Model's: every value they
# make must come from exported layers and recorded functional ops, or the export stops naming it
_ENTERED_LAYERS = (L.TransformerEncoder,)


def _check_recurrent_options(layer, backwards: bool = False) -> None:
    """The ONNX recurrent exporters write the default cells, forwards (or backwards for a Bidirectional's
    backward layer): refuse any other configuration."""
    gates_default = not layer.has_recurrent_activation or layer.recurrent_activation == "sigmoid"
    if layer.go_backwards != backwards or layer.activation != "tanh" or not gates_default:
        raise ValueError(
            f"[export] {_label(layer)}: only activation='tanh', recurrent_activation='sigmoid' and "
            f"go_backwards={backwards} have an ONNX exporter, got activation={layer.activation!r}, "
            f"recurrent_activation={layer.recurrent_activation!r}, go_backwards={layer.go_backwards}"
        )


def _exporter(layer):
    if isinstance(layer, L.Lambda):
        raise ValueError(
            f"[export] {_label(layer)}: a Lambda runs arbitrary Python, which ONNX export cannot record; "
            "write the step as exported layers (or functional ops in a subclassed model's call)"
        )
    if isinstance(layer, _Recurrent):
        _check_recurrent_options(layer)
    table = {**_EXPORTERS, **_nn_exporters()}
    for cls in type(layer).__mro__:
        if cls in table:
            return table[cls]
    return None


def _exporter_of_class(layer):
    return next(_EXPORTERS[cls] for cls in type(layer).__mro__ if cls in _EXPORTERS)


def _label(layer) -> str:
    return f"{type(layer).__name__} '{layer.name}'"


# ---- functional ops a subclassed model's call may use between layers: name -> (graph, inputs, args) -> output
def _functional_activation(name):
    return lambda g, xs, args, kwargs: _activation(g, xs[0], name, f"functional {name}")


def _functional_shape(g, xs, xt, yt):
    """The traced shape, with 0 (ONNX: copy the input's size) where the sample's batch axis stays first."""
    shape = list(yt.shape)
    if shape and shape[0] == xt.shape[0] == _SAMPLE_BATCH:
        shape[0] = 0
    return g.op("Reshape", [xs[0], g.const(np.array(shape, np.int64), "shape")], "reshape")


_FUNCTIONAL = {
    "relu": _functional_activation("relu"),
    "sigmoid": _functional_activation("sigmoid"),
    "tanh": _functional_activation("tanh"),
    "gelu": _functional_activation("gelu"),
    "softmax": lambda g, xs, args, kwargs: g.op(
        "Softmax", [xs[0]], "softmax", axis=int(kwargs.get("axis", args[1] if len(args) > 1 else -1))
    ),
    "add": lambda g, xs, args, kwargs: g.op("Add", xs, "add"),
    "flatten": None,  # a reshape to the traced shape
    "reshape": None,
}


# the classes whose own __call__ runs a layer on real tensors (the merge layers take a list, not Layer's one x)
_TRACED_CALLS = (Layer, _Merge)


class _Trace:
    """Patches the layers' __call__ (_TRACED_CALLS) and ranvier.functional's recorded ops for one forward pass."""

    def __init__(self, graph: _Graph):
        self.g = graph
        self.inside_exported = 0  # > 0 while an exported layer runs: its own ops are already covered
        self.saved: dict = {}

    def __enter__(self):
        self.calls = {cls: cls.__dict__["__call__"] for cls in _TRACED_CALLS}
        for cls, original_call in self.calls.items():
            cls.__call__ = self.traced_call(original_call)
        for name in _FUNCTIONAL:
            self.saved[name] = getattr(F, name)
            setattr(F, name, self.functional(name, self.saved[name]))
        return self

    def __exit__(self, *exc):
        for cls, original_call in self.calls.items():
            cls.__call__ = original_call
        for name, fn in self.saved.items():
            setattr(F, name, fn)

    def traced_call(self, original_call):
        def traced(layer, x, *args, **kwargs):
            return self.layer(original_call, layer, x, *args, **kwargs)

        return traced

    def layer(self, original_call, layer, x, *args, **kwargs):
        if self.inside_exported:
            return original_call(layer, x, *args, **kwargs)
        export = _exporter(layer)
        if export is None:
            from ranvier.models import Model

            if isinstance(layer, (Model, *_ENTERED_LAYERS)):
                return original_call(layer, x, *args, **kwargs)
            raise ValueError(
                f"[export] {_label(layer)} has no ONNX exporter; exported layers: "
                + ", ".join(sorted(c.__name__ for c in (*_EXPORTERS, *_ENTERED_LAYERS)))
            )
        if (args or kwargs) and export not in _TAKE_CALL_ARGUMENTS:
            raise ValueError(f"[export] {_label(layer)}: extra call arguments have no ONNX exporter")
        if isinstance(x, (list, tuple)):  # a merge layer's inputs
            name = [self.g.name_of(t, _label(layer)) for t in x]
        else:
            name = self.g.name_of(x, _label(layer))
        self.inside_exported += 1
        try:
            y = original_call(layer, x, *args, **kwargs)
        finally:
            self.inside_exported -= 1
        self.g.bind(y, export(self.g, layer, name, x, y, *args, **kwargs))
        return y

    def functional(self, name, fn):
        def traced(*args, **kwargs):
            y = fn(*args, **kwargs)
            if self.inside_exported:
                return y
            tensors = [a for a in args if isinstance(a, Tensor)]
            if name == "add":  # x + constant: the constant becomes an initializer
                inputs = [self.g.name_of(a, "add") if isinstance(a, Tensor) else self.g.const(a) for a in args[:2]]
            else:
                inputs = [self.g.name_of(t, f"functional {name}") for t in tensors]
            if _FUNCTIONAL[name] is None:
                out = _functional_shape(self.g, inputs, tensors[0], y)
            else:
                out = _FUNCTIONAL[name](self.g, inputs, args, kwargs)
            self.g.bind(y, out)
            return y

        return traced


def _sample_shape(model, input_shape) -> tuple:
    shape = input_shape or model._declared_input_shape() or getattr(model, "build_input_shape", None)
    if shape is None or None in tuple(shape):
        raise ValueError(
            f"[export] {_label(model)}: the input shape is unknown; call the model on data first, "
            "give the first layer input_shape=, or pass input_shape= to export"
        )
    return tuple(shape)


def _input_specs(model, input_shape) -> list:
    """(name, shape without the batch axis, dtype) of each input: a functional model's Inputs by name,
    else one "input" of the model's input dtype."""
    from ranvier.graph_model import Functional

    if not isinstance(model, Functional):
        return [("input", _sample_shape(model, input_shape), np.dtype(model.input_dtype))]
    if input_shape is not None:
        raise ValueError(f"[export] {_label(model)}: a functional model's Inputs give the shapes; drop input_shape=")
    specs = []
    for name, symbolic in zip(model.input_names, model.inputs):
        shape = tuple(symbolic.shape[1:])
        if None in shape:
            raise ValueError(
                f"[export] {_label(model)}: input '{name}' has a free axis {shape_str(symbolic.shape)}; "
                "ONNX export takes Inputs whose every axis but the batch is known"
            )
        specs.append((name, shape, np.dtype(symbolic.dtype)))
    return specs


def _output_names(model, count: int) -> list:
    names = getattr(model, "output_names", None)
    return ["output"] if count == 1 and not names else list(names) if names else [f"output_{i}" for i in range(count)]


def export_onnx(model, path, input_shape=None, opset: int = OPSET) -> None:
    """Write ``model`` as an ONNX file whose inputs are (batch, *shape) in ranvier's layout (NHWC): "input"
    for a Sequential or subclassed model, each Input's name for a functional one (outputs likewise: "output",
    or the functional model's output names)."""
    onnx = _onnx()
    specs = _input_specs(model, input_shape)
    g = _Graph()
    xs = [
        Tensor(to_device(np.zeros((_SAMPLE_BATCH,) + shape, dtype), model.device, "export"))
        for _, shape, dtype in specs
    ]
    for (name, _, _), x in zip(specs, xs):
        g.bind(x, name)
    was_training = model.training
    model.eval()
    try:
        with no_grad(), _Trace(g):
            y = model(xs if len(xs) > 1 else xs[0])
    finally:
        model.train(was_training)
    from ranvier.layers.symbolic import flatten

    outputs = flatten(y)
    if len(outputs) > 1 and not hasattr(model, "output_names"):
        raise ValueError(f"[export] {_label(model)} returns several outputs; ONNX export takes models with one")
    names = _output_names(model, len(outputs))
    for name, out in zip(names, outputs):
        g.nodes.append(onnx.helper.make_node("Identity", [g.name_of(out, f"the output of {_label(model)}")], [name]))
    graph = onnx.helper.make_graph(
        g.nodes,
        model.name,
        [
            onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(dtype), ["batch", *shape])
            for name, shape, dtype in specs
        ],
        [
            onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, ["batch", *out.shape[1:]])
            for name, out in zip(names, outputs)
        ],
        g.initializers,
    )
    proto = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)], producer_name="ranvier")
    onnx.checker.check_model(proto)
    _write_atomic(proto.SerializeToString(), os.fspath(path))


def _write_atomic(data: bytes, path: str) -> None:
    """As saving.py: a temporary file beside the target, replaced over it when complete."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
