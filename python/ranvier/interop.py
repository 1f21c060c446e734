"""Weights from PyTorch and Keras: a torch ``state_dict`` or a Keras 3 ``.weights.h5`` copied into a ranvier model.

Keras (``load_keras_weights``) already has ranvier's layouts and gate order:
its weights are copied as they are, layer by layer, checked first. PyTorch's:

Pairs each ranvier layer that owns weights with the torch module that holds
its parameters: by name when the model is a ``ranvier.nn.Module`` whose
attribute paths (``fc1``, ``features.0``) are torch's module names, otherwise
by order (the layers with weights in model order against the torch modules
with parameters in ``state_dict`` order). Conversions:

    Linear.weight (out, in)               -> Dense kernel (in, out)
    Conv2d.weight (out, in, kh, kw)       -> Conv2D kernel (kh, kw, in, out)
    Conv1d.weight (out, in, k)            -> Conv1D kernel (k, in, out)
    ConvTranspose2d.weight (in, out, kh, kw) -> Conv2DTranspose kernel (kh, kw, out, in)
    PReLU.weight (1,) or (C,)             -> alpha, broadcast to its shape (C: ranvier's last, channel axis)
    LSTM/RNN weight_ih_lK (G*U, F)        -> kernel (F, G*U); weight_hh_lK -> recurrent_kernel (U, G*U);
                                             bias_ih_lK + bias_hh_lK -> bias (gate order i, f, g, o is Keras')
    GRU weight_ih_lK, weight_hh_lK (3U, .) -> kernel, recurrent_kernel with the gate blocks (r, z, n) put in
                                             Keras' order (z, r, h); [bias_ih_lK; bias_hh_lK] -> bias (2, 3U)
                                             (a ranvier GRU with reset_after=True: torch's GRU is that one)
    BatchNorm weight, bias, running_*     -> gamma, beta, moving_mean, moving_variance
    LayerNorm weight, bias                -> gamma, beta;   Embedding.weight -> embeddings
    LSTM/GRU/RNN(bidirectional=True)      -> Bidirectional: the _lK keys to forward_layer, _lK_reverse to
                                             backward_layer (one torch layer; torch concatenates: merge "concat")
    TimeDistributed(layer)                -> the torch module of its inner layer (torch's Linear and Conv2d
                                             already map over leading axes)
    MultiheadAttention in_proj (3E, E)    -> query/key/value kernels (E, heads, E / heads); out_proj likewise

A state dict records no hyperparameters: strides, padding, epsilon,
activations and MultiheadAttention's head count must be set alike by hand.
``num_batches_tracked`` has no ranvier counterpart and is skipped.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping

import numpy as np

from ranvier import layers, nn
from ranvier.device import array_module
from ranvier.state import IncompatibleKeys, _named_children, _require_built

WHERE = "[load_torch_state_dict]"
KERAS_WHERE = "[load_keras_weights]"


def load_torch_state_dict(model, state_dict, strict: bool = True) -> IncompatibleKeys:
    """Copy PyTorch's ``state_dict`` into ``model`` (a built ranvier layer or model), converting layouts.

    Every value is converted and checked (floating, the weight's shape) before
    any is copied; a layer paired with a torch module of another kind is refused,
    naming both. Matching by name, ``strict`` refuses ranvier layers and torch
    modules without a partner; ``strict=False`` returns them (module names,
    not keys) as ``(missing_keys, unexpected_keys)``. Matching by order needs
    the same number on both sides.
    """
    if not isinstance(state_dict, Mapping):
        hint = " (pass module.state_dict())" if hasattr(state_dict, "state_dict") else ""
        raise TypeError(
            f"{WHERE} state_dict must be a mapping of names to tensors, got {type(state_dict).__name__}{hint}"
        )
    _require_built(model, "load_torch_state_dict")
    modules = _torch_modules(state_dict)
    units = []
    _collect_units(model, "", units)
    pairs, missing, unexpected = _pair(model, units, modules, strict)
    copies = []
    for (_, layer), (module, params) in pairs:
        where = f"{WHERE} ranvier {type(layer).__name__} '{layer.name}' against torch module '{module}'"
        copies += _CONVERTERS[_converter_type(layer)](layer, params, _Side(where, module, params))
    for weight, value in copies:
        weight.data[...] = array_module(weight.data).asarray(value, dtype=weight.dtype)
    return IncompatibleKeys(missing, unexpected)


def _torch_modules(state_dict) -> dict:
    """Module name -> {parameter name: NumPy array}, in state_dict order; out_proj joins its attention."""
    modules: dict = collections.OrderedDict()
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"{WHERE} state_dict keys must be strings, got {key!r}")
        module, _, param = key.rpartition(".")
        if param == "num_batches_tracked":
            continue
        modules.setdefault(module, {})[param] = _to_numpy(key, value)
    for name in list(modules):
        out_proj = f"{name}.out_proj" if name else "out_proj"
        if name in modules and ({"in_proj_weight", "q_proj_weight"} & set(modules[name])) and out_proj in modules:
            modules[name].update({f"out_proj.{k}": v for k, v in modules.pop(out_proj).items()})
    return modules


def _to_numpy(key: str, value) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor: off the graph and onto the host
        value = value.detach().cpu()
        value = value.float() if str(value.dtype) in ("torch.bfloat16", "torch.float16") else value
        value = value.numpy()
    array = np.asarray(value)
    if array.dtype.kind != "f":
        raise TypeError(f"{WHERE} '{key}' must be a floating tensor, got {array.dtype}")
    return array


def _collect_units(layer, path: str, out: list) -> None:
    """(dotted path, layer) for every layer a converter handles, in model order."""
    if isinstance(layer, layers.TimeDistributed) and not layer.layer.weights:
        return  # TimeDistributed(Flatten()) and the like: no torch module
    if _converter_type(layer) is not None:
        out.append((path, layer))
        return
    if layer._weights:
        raise ValueError(
            f"{WHERE} ranvier {type(layer).__name__} '{layer.name}' owns weights that have no PyTorch counterpart "
            f"here (known: {', '.join(t.__name__ for t in _CONVERTERS)})"
        )
    for child_name, child in _named_children(layer):
        _collect_units(child, f"{path}.{child_name}" if path else child_name.replace("/", "."), out)


def _converter_type(layer):
    return next((t for t in _CONVERTERS if isinstance(layer, t)), None)


def _pair(model, units: list, modules: dict, strict: bool):
    names = [path.replace("/", ".") for path, _ in units]
    if isinstance(model, nn.Module) and set(names) & set(modules):
        missing = [n for n in names if n not in modules]
        unexpected = [m for m in modules if m not in names]
        if strict and (missing or unexpected):
            raise ValueError(
                f"{WHERE} by name: ranvier layers without a torch module {missing}, torch modules without a "
                f"ranvier layer {unexpected} (pass strict=False to load those that match)"
            )
        pairs = [(unit, (n, modules[n])) for unit, n in zip(units, names) if n in modules]
        return pairs, missing, unexpected
    if len(units) != len(modules):
        ours = ", ".join(f"{type(layer).__name__} '{layer.name}'" for _, layer in units)
        theirs = ", ".join(f"'{m}' ({', '.join(p)})" for m, p in modules.items())
        raise ValueError(
            f"{WHERE} by order: ranvier has {len(units)} layers with weights [{ours}], torch {len(modules)} modules "
            f"with parameters [{theirs}]"
        )
    return list(zip(units, modules.items())), [], []


class _Side:
    """One pairing's checks, each message naming the ranvier layer and the torch module."""

    def __init__(self, where: str, module: str, params: dict):
        self.where, self.module, self.params = where, module, params

    def expect(self, required: list, optional: tuple = ()) -> None:
        have = set(self.params)
        if not set(required) <= have or not have <= set(required) | set(optional):
            raise ValueError(
                f"{self.where}: torch has {sorted(have)}, this layer takes {sorted(required)}"
                + (f" (optionally {sorted(optional)})" if optional else "")
                + ": the two are different kinds of layer or configured differently (bias, affine)"
            )

    def fit(self, weight, value: np.ndarray, key: str):
        if tuple(value.shape) != weight.shape:
            raise ValueError(
                f"{self.where}: torch '{key}' {tuple(self.params[key].shape)} converts to {tuple(value.shape)}, "
                f"the ranvier weight is {weight.shape}"
            )
        return weight, value


def _bias_keys(use_bias: bool, *keys) -> list:
    return list(keys) if use_bias else []


def _dense(layer, p, side):
    side.expect(["weight"] + _bias_keys(layer.use_bias, "bias"))
    out = [side.fit(layer.kernel, p["weight"].T, "weight")]
    return out + ([side.fit(layer.bias, p["bias"], "bias")] if layer.use_bias else [])


def _conv(layer, p, side):
    side.expect(["weight"] + _bias_keys(layer.use_bias, "bias"))
    out = [side.fit(layer.kernel, p["weight"].transpose(2, 3, 1, 0), "weight")]
    return out + ([side.fit(layer.bias, p["bias"], "bias")] if layer.use_bias else [])


def _conv1d(layer, p, side):
    side.expect(["weight"] + _bias_keys(layer.use_bias, "bias"))
    out = [side.fit(layer.kernel, p["weight"].transpose(2, 1, 0), "weight")]
    return out + ([side.fit(layer.bias, p["bias"], "bias")] if layer.use_bias else [])


def _conv_transpose(layer, p, side):
    side.expect(["weight"] + _bias_keys(layer.use_bias, "bias"))
    out = [side.fit(layer.kernel, p["weight"].transpose(2, 3, 1, 0), "weight")]
    return out + ([side.fit(layer.bias, p["bias"], "bias")] if layer.use_bias else [])


def _prelu(layer, p, side):
    """torch's one slope, or one per channel (its axis 1 is ranvier's last axis), spread over alpha's shape."""
    side.expect(["weight"])
    w, shape = p["weight"], layer.alpha.shape
    if w.ndim == 1 and (w.size == 1 or (shape and w.size == shape[-1])):
        w = np.broadcast_to(w, shape)
    return [side.fit(layer.alpha, w, "weight")]


def _batch_norm(layer, p, side):
    side.expect(["running_mean", "running_var"] + _bias_keys(layer.scale, "weight") + _bias_keys(layer.center, "bias"))
    out = [side.fit(layer.moving_mean, p["running_mean"], "running_mean")]
    out.append(side.fit(layer.moving_variance, p["running_var"], "running_var"))
    out += [side.fit(layer.gamma, p["weight"], "weight")] if layer.scale else []
    return out + ([side.fit(layer.beta, p["bias"], "bias")] if layer.center else [])


def _layer_norm(layer, p, side):
    side.expect(["weight", "bias"])
    return [side.fit(layer.gamma, p["weight"], "weight"), side.fit(layer.beta, p["bias"], "bias")]


def _embedding(layer, p, side):
    side.expect(["weight"])
    return [side.fit(layer.embeddings, p["weight"], "weight")]


def _recurrent_layers(layer, p, side, cells: list, suffixes=None):
    """Torch's layers l0, l1, ... (or the given key suffixes) into ranvier's recurrent layers, one each."""
    suffixes = suffixes or [f"l{i}" for i in range(len(cells))]
    keys = [f"{w}_{s}" for s in suffixes for w in ("weight_ih", "weight_hh")]
    biases = [f"{b}_{s}" for s in suffixes for b in ("bias_ih", "bias_hh")]
    side.expect(keys, optional=tuple(biases))
    if set(biases) & set(p) and not set(biases) <= set(p):
        side.expect(keys + biases)
    out = []
    for suffix, cell in zip(suffixes, cells):
        gru = isinstance(cell, layers.GRU)
        if gru and not cell.reset_after:
            raise ValueError(
                f"{side.where}: ranvier GRU '{cell.name}' has reset_after=False; torch's GRU is reset_after=True"
            )
        # torch's GRU gate blocks (r, z, n) in Keras' order (z, r, h); other cells share Keras' order
        order = _torch_gru_order if gru else (lambda w: w)
        ih, hh, b_ih, b_hh = (f"{w}_{suffix}" for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        out.append(side.fit(cell.kernel, order(p[ih]).T, ih))
        out.append(side.fit(cell.recurrent_kernel, order(p[hh]).T, hh))
        if cell.bias is None:
            if b_ih in p:
                raise ValueError(f"{side.where}: torch has '{b_ih}', ranvier '{cell.name}' has use_bias=False")
            continue
        if b_ih not in p:
            bias = np.zeros(cell.bias.shape)
        elif gru:
            bias = np.stack([order(p[b_ih]), order(p[b_hh])])
        else:
            bias = p[b_ih] + p[b_hh]
        out.append(side.fit(cell.bias, bias, b_ih if b_ih in p else ih))
    return out


def _torch_gru_order(w: np.ndarray) -> np.ndarray:
    """w (3U, ...) with its gate blocks (r, z, n) reordered to (z, r, n)."""
    r, z, n = np.split(w, 3)
    return np.concatenate([z, r, n])


def _recurrent(layer, p, side):
    return _recurrent_layers(layer, p, side, [layer])


def _recurrent_stack(layer, p, side):
    return _recurrent_layers(layer, p, side, layer.layers)


def _bidirectional(layer, p, side):
    if layer.merge_mode != "concat" or layer.forward_layer.go_backwards:
        raise ValueError(
            f"{side.where}: torch's bidirectional layer concatenates forward then backward outputs; "
            f"this Bidirectional has merge_mode={layer.merge_mode!r}"
            + (" and a forward layer with go_backwards=True" if layer.forward_layer.go_backwards else "")
        )
    return _recurrent_layers(layer, p, side, [layer.forward_layer, layer.backward_layer], ["l0", "l0_reverse"])


def _time_distributed(layer, p, side):
    inner = _converter_type(layer.layer)
    if inner is None:
        raise ValueError(
            f"{side.where}: the inner {type(layer.layer).__name__} '{layer.layer.name}' has no PyTorch counterpart here"
        )
    return _CONVERTERS[inner](layer.layer, p, side)


def _attention(layer, p, side):
    bias = _bias_keys(layer.use_bias, "in_proj_bias", "out_proj.bias")
    packed = "in_proj_weight" in p
    side.expect(
        (["in_proj_weight"] if packed else ["q_proj_weight", "k_proj_weight", "v_proj_weight"])
        + ["out_proj.weight"]
        + bias
    )
    if packed:
        wq, wk, wv = np.split(p["in_proj_weight"], 3)
        weights = {"q": (wq, "in_proj_weight"), "k": (wk, "in_proj_weight"), "v": (wv, "in_proj_weight")}
    else:
        weights = {n: (p[f"{n}_proj_weight"], f"{n}_proj_weight") for n in "qkv"}
    heads = layer.num_heads
    if p["out_proj.weight"].shape[1] % heads:
        raise ValueError(
            f"{side.where}: torch's embed_dim {p['out_proj.weight'].shape[1]} does not split into the ranvier "
            f"layer's {heads} heads"
        )
    out = []
    for n, kernel in (("q", layer.query_kernel), ("k", layer.key_kernel), ("v", layer.value_kernel)):
        w, key = weights[n]
        out.append(side.fit(kernel, w.T.reshape(w.shape[1], heads, -1), key))
    wo = p["out_proj.weight"]
    out.append(side.fit(layer.output_kernel, wo.T.reshape(heads, -1, wo.shape[0]), "out_proj.weight"))
    if layer.use_bias:
        bq, bk, bv = np.split(p["in_proj_bias"], 3)
        for b, target in ((bq, layer.query_bias), (bk, layer.key_bias), (bv, layer.value_bias)):
            out.append(side.fit(target, b.reshape(heads, -1), "in_proj_bias"))
        out.append(side.fit(layer.output_bias, p["out_proj.bias"], "out_proj.bias"))
    return out


# The most specific class first: ranvier.nn.LSTM and GRU hold ranvier LSTM and GRU layers.
_CONVERTERS = {
    nn.LSTM: _recurrent_stack,
    nn.GRU: _recurrent_stack,
    layers.Bidirectional: _bidirectional,
    layers.TimeDistributed: _time_distributed,
    layers.LSTM: _recurrent,
    layers.GRU: _recurrent,
    layers.SimpleRNN: _recurrent,
    layers.Dense: _dense,
    layers.Conv2D: _conv,
    layers.Conv1D: _conv1d,
    layers.Conv2DTranspose: _conv_transpose,
    layers.PReLU: _prelu,
    layers.BatchNormalization: _batch_norm,
    layers.LayerNormalization: _layer_norm,
    layers.Embedding: _embedding,
    layers.MultiHeadAttention: _attention,
}


# Keras' group name stem for each layer class (snake case of its class name), and the weights in the
# order its ``vars`` lists them; a weight that a layer's options drop (bias, gamma) is absent from both.
_KERAS_LAYERS = {
    layers.LSTM: ("lstm", ("kernel", "recurrent_kernel", "bias")),
    layers.GRU: ("gru", ("kernel", "recurrent_kernel", "bias")),
    layers.SimpleRNN: ("simple_rnn", ("kernel", "recurrent_kernel", "bias")),
    layers.Dense: ("dense", ("kernel", "bias")),
    layers.Conv2D: ("conv2d", ("kernel", "bias")),
    layers.Conv1D: ("conv1d", ("kernel", "bias")),
    layers.Conv2DTranspose: ("conv2d_transpose", ("kernel", "bias")),
    layers.PReLU: ("p_re_lu", ("alpha",)),
    layers.Bidirectional: ("bidirectional", ()),  # its forward_layer's weights, then its backward_layer's
    layers.TimeDistributed: ("time_distributed", ()),  # its inner layer's
    layers.BatchNormalization: ("batch_normalization", ("gamma", "beta", "moving_mean", "moving_variance")),
    layers.LayerNormalization: ("layer_normalization", ("gamma", "beta")),
    layers.Embedding: ("embedding", ("embeddings",)),
}


def load_keras_weights(model, path) -> None:
    """Copy a Keras 3 ``model.save_weights("x.weights.h5")`` file into ``model`` (a built ranvier layer or model).

    The file names each layer group by Keras class and rank (``layers/dense``,
    ``layers/dense_1``): the k-th ranvier Dense in model order reads
    ``dense_k``, and so on for Conv2D, BatchNormalization, LayerNormalization,
    Embedding, LSTM, GRU, SimpleRNN, Conv1D, Conv2DTranspose, PReLU,
    Bidirectional (its ``forward_layer``'s cell, then its ``backward_layer``'s)
    and TimeDistributed (its inner ``layer``; a recurrent layer's weights are
    in its ``cell``). Every group with weights must have its ranvier layer and the
    reverse; every array must be floating and of the weight's shape; all is
    checked before any copy, each error naming the ranvier layer and the group.
    Hyperparameters (padding, epsilon, activations) are not in the file: set them alike.
    """
    try:
        import h5py
    except ImportError as e:
        raise ImportError(f"{KERAS_WHERE} needs h5py (pip install 'ranvier[h5]')") from e
    _require_built(model, "load_keras_weights")
    units = []
    _collect_keras_units(model, units)
    with h5py.File(path, "r") as file:
        groups = _keras_groups(file, path)
        copies, taken = [], set()
        counts: dict = collections.Counter()
        for layer in units:
            stem, _ = _KERAS_LAYERS[_keras_type(layer)]
            group = f"layers/{stem}" + (f"_{counts[stem]}" if counts[stem] else "")
            counts[stem] += 1
            where = f"{KERAS_WHERE} ranvier {type(layer).__name__} '{layer.name}' against the file's group '{group}'"
            if group not in groups:
                raise ValueError(
                    f"{where}: the file has no such group (its groups with weights: {sorted(groups)}); "
                    "the two models differ"
                )
            taken.add(group)
            copies += _keras_copies(_keras_weights(layer), groups[group], where)
        left = sorted(set(groups) - taken)
        if left:
            raise ValueError(
                f"{KERAS_WHERE} the file's groups {left} have no ranvier layer (ranvier has "
                f"{', '.join(f'{type(u).__name__} {u.name!r}' for u in units) or 'none'}); the two models differ"
            )
    for weight, value in copies:
        weight.data[...] = array_module(weight.data).asarray(value, dtype=weight.dtype)


def _keras_type(layer):
    return next((t for t in _KERAS_LAYERS if isinstance(layer, t)), None)


def _keras_weights(layer) -> list:
    """(name, weight) in the order Keras writes them; a weight the layer's options dropped is left out."""
    if isinstance(layer, layers.Bidirectional):
        pairs = [(side, getattr(layer, side)) for side in ("forward_layer", "backward_layer")]
    elif isinstance(layer, layers.TimeDistributed):
        pairs = [("layer", layer.layer)]
    else:
        names = _KERAS_LAYERS[_keras_type(layer)][1]
        return [(n, getattr(layer, n)) for n in names if getattr(layer, n, None) is not None]
    return [(f"{side}.{n}", w) for side, inner in pairs for n, w in _keras_weights(inner)]


def _collect_keras_units(layer, out: list) -> None:
    """The layers with a Keras counterpart, in model order; any other layer with weights is refused."""
    if isinstance(layer, layers.TimeDistributed) and not layer.layer.weights:
        return  # TimeDistributed(Flatten()) and the like: nothing in the file
    if isinstance(layer, layers.TimeDistributed) and _keras_type(layer.layer) is None:
        raise ValueError(
            f"{KERAS_WHERE} ranvier TimeDistributed '{layer.name}' wraps {type(layer.layer).__name__} "
            f"'{layer.layer.name}', whose weights have no Keras counterpart here"
        )
    if _keras_type(layer) is not None:
        out.append(layer)
        return
    if layer._weights:
        raise ValueError(
            f"{KERAS_WHERE} ranvier {type(layer).__name__} '{layer.name}' owns weights that have no Keras "
            f"counterpart here (known: {', '.join(t.__name__ for t in _KERAS_LAYERS)})"
        )
    for _, child in _named_children(layer):
        _collect_keras_units(child, out)


def _keras_groups(file, path) -> dict:
    """'layers/<name>' -> [(dataset path, NumPy array)] in ``vars`` order, for each top-level group with weights."""
    if "layers" not in file:
        raise ValueError(f"{KERAS_WHERE} '{path}' has no 'layers' group: not a Keras 3 .weights.h5 file")
    groups = {}
    for name, group in file["layers"].items():
        if "layers" in group:
            raise ValueError(
                f"{KERAS_WHERE} the file's group 'layers/{name}' is a nested Keras model; only flat models load"
            )
        for holders in _KERAS_HOLDERS:
            arrays = []
            for holder in (f"layers/{name}/{h}" for h in holders):
                if holder in file:
                    arrays += [(f"{holder}/{i}", file[holder][str(i)][()]) for i in range(len(file[holder]))]
            if arrays:
                groups[f"layers/{name}"] = arrays
                break
    return groups


# where a layer group keeps its arrays: its own, a recurrent layer's cell, a Bidirectional's two layers
# (forward first), a TimeDistributed's inner layer
_KERAS_HOLDERS = (
    ("vars",),
    ("cell/vars",),
    ("forward_layer/cell/vars", "backward_layer/cell/vars"),
    ("layer/vars",),
    ("layer/cell/vars",),
)


def _keras_copies(weights: list, arrays: list, where: str) -> list:
    if len(weights) != len(arrays):
        raise ValueError(
            f"{where}: the file holds {len(arrays)} arrays {[tuple(a.shape) for _, a in arrays]}, this layer "
            f"{len(weights)} ({', '.join(n for n, _ in weights)}): configured differently (use_bias, center, scale)"
        )
    out = []
    for (name, weight), (key, value) in zip(weights, arrays):
        if value.dtype.kind != "f":
            raise TypeError(f"{where}: '{key}' must be floating for {name}, got {value.dtype}")
        if tuple(value.shape) != weight.shape:
            raise ValueError(f"{where}: '{key}' is {tuple(value.shape)}, the ranvier {name} is {weight.shape}")
        out.append((weight, value))
    return out
