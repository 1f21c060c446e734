"""Functional models (Keras 3's functional API): a graph of layer calls from ``Input`` tensors.

    num = ranvier.Input((8,), name="num")
    txt = ranvier.Input((16,), name="txt")
    h = layers.Concatenate()([layers.Dense(32, activation="relu")(num), txt])
    model = ranvier.Model([num, txt], [layers.Dense(1, name="price")(h), layers.Dense(3, name="kind")(h)])

``ranvier.Model(inputs, outputs)`` returns a ``Functional``: it replays the
recorded nodes (layers/symbolic.py) in topological order on real tensors.
A layer called twice shares its weights; a model is itself a layer. With
several outputs, ``compile`` takes a loss, loss weight and metrics per output
(a list, or a dict keyed by output name) and logs them as Keras 3 does.
"""

from __future__ import annotations

import math
import numbers

from ranvier import losses as losses_mod
from ranvier import metrics as metrics_mod
from ranvier.layers.base import ConfigError, Layer, _budget, layer_from_config, layer_to_config, shape_str
from ranvier.layers.core import InputLayer
from ranvier.layers.symbolic import SymbolicTensor, flatten, is_symbolic, map_structure
from ranvier.models import Model, _as_array, _as_targets
from ranvier.tensor import Tensor

_TENSOR = "__keras_tensor__"  # how a config marks a tensor argument, as Keras 3
_MAX_INPUT_VALUES = 2**28  # largest Input a loaded file may declare (values per sample), as saving.MAX_PARAMS


class Functional(Model):
    """``Model(inputs, outputs, name=None)``: inputs and outputs are symbolic tensors, or a list or dict
    of them; ``model(x)`` takes the inputs in the same form (a dict keyed by input name too)."""

    def __init__(self, inputs, outputs, name: str | None = None, trainable: bool = True):
        super().__init__(name=name, trainable=trainable)
        self._input_struct = _checked_structure(inputs, "inputs")
        self._output_struct = _checked_structure(outputs, "outputs")
        if isinstance(self._output_struct, (list, tuple)) and len(self._output_struct) == 1:
            self._output_struct = self._output_struct[0]  # Keras 3: outputs=[out] returns out, not a list of one
        self.inputs = flatten(self._input_struct)
        self.outputs = flatten(self._output_struct)
        for t in self.inputs:
            if not isinstance(t.layer, InputLayer):
                raise TypeError(
                    f"[Model] inputs must come from ranvier.Input(...), got the output of "
                    f"{type(t.layer).__name__} '{t.layer.name}'"
                )
        if len({id(t) for t in self.inputs}) != len(self.inputs):
            raise ValueError("[Model] the same Input appears twice in inputs")
        nodes, self.layers = _walk(self.inputs, self.outputs)
        self._nodes = [node for node in nodes if not isinstance(node.layer, InputLayer)]
        names = [layer.name for layer in self.layers]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"[Model] layer names must be unique in a model; used more than once: {twice}")
        for layer in self.layers:
            self._adopt(layer)
        self.built = True
        self.output_shape = self.outputs[0].shape
        self.build_input_shape = self.inputs[0].shape[1:]
        self._output_losses: list = []  # (output name, loss or None, weight) per output, set by compile
        self._output_metrics: list = []  # (output index, metric name, fn) with several outputs
        self._loss_parts: list = []  # (output name, loss Tensor) of the last compute_loss

    # ---- structure -----------------------------------------------------------------------
    def sublayers(self) -> list:
        return list(self.layers)

    @property
    def input_names(self) -> list:
        keys = self._input_struct.keys() if isinstance(self._input_struct, dict) else None
        return list(keys) if keys is not None else [t.layer.name for t in self.inputs]

    @property
    def output_names(self) -> list:
        """Keras 3's names: the dict keys of dict outputs, else the layers that produce the outputs."""
        if isinstance(self._output_struct, dict):
            return list(self._output_struct)
        return [t.layer.name for t in self.outputs]

    @property
    def input_dtype(self):
        return self.inputs[0].dtype

    def _declared_input_shape(self):
        return self.inputs[0].shape[1:]

    # ---- running ---------------------------------------------------------------------------
    def __call__(self, x, *args, **kwargs):
        if is_symbolic((x, args, kwargs)):
            return Layer.__call__(self, x, *args, **kwargs)  # a nested model: one node in the outer graph
        if args or kwargs:
            raise TypeError(f"[Model '{self.name}'] takes its inputs only, got extra arguments")
        return self.call(x)

    def call(self, x):
        return self._run(self._input_tensors(x), logits=False)

    def forward_logits(self, x):
        return self._run(self._input_tensors(x), logits=True)

    def _run(self, inputs: list, logits: bool):
        """Every node in topological order; with ``logits`` the last one gives its output before the
        softmax/sigmoid (only for a fused loss, where ``_last_layer`` is that node's layer)."""
        values = {id(t): v for t, v in zip(self.inputs, inputs)}
        last = self.outputs[0].node if logits else None
        for node in self._nodes:
            x, args, kwargs = map_structure(
                lambda s: values[id(s)] if isinstance(s, SymbolicTensor) else s, node.call_args
            )
            out = node.layer.call_logits(x) if node is last else node.layer(x, *args, **kwargs)
            for symbolic, value in zip(node.outputs, flatten(out)):
                values[id(symbolic)] = value
        return map_structure(lambda s: values[id(s)], self._output_struct)

    def _input_tensors(self, x) -> list:
        """x (one array, a list in inputs order, or a dict keyed by input name) as one Tensor per input,
        in each input's dtype, checked against its shape."""
        label = f"Model '{self.name}'"
        names = self.input_names
        if isinstance(x, dict):
            missing = [n for n in names if n not in x]
            unknown = [k for k in x if k not in names]
            if missing or unknown:
                raise ValueError(
                    f"[{label}] the input dict must have the keys {names}, got {list(x)}"
                    + (f" (missing {missing})" if missing else "")
                    + (f" (unknown {unknown})" if unknown else "")
                )
            given = [x[n] for n in names]
        elif isinstance(x, (list, tuple)):
            given = list(x)
        else:
            given = [x]
        if len(given) != len(self.inputs):
            raise ValueError(f"[{label}] expects {len(self.inputs)} input(s) ({', '.join(names)}), got {len(given)}")
        return [self._input_tensor(v, t, name) for v, t, name in zip(given, self.inputs, names)]

    def _input_tensor(self, value, symbolic: SymbolicTensor, name: str) -> Tensor:
        label = f"Model '{self.name}'"
        if not isinstance(value, Tensor):
            value = _as_array(value, self.device, label, f"input '{name}'")
            if value.dtype != symbolic.dtype and (symbolic.dtype.kind == "f" or value.dtype.kind != "i"):
                value = value.astype(symbolic.dtype)  # as fit converts x; integer ids stay as given
            value = Tensor(value)
        spec = symbolic.shape[1:]
        got = tuple(value.shape[1:])
        if len(got) != len(spec) or any(s is not None and s != g for s, g in zip(spec, got)):
            raise ValueError(
                f"[{label}] input '{name}' expects batches of shape {shape_str(symbolic.shape)}, "
                f"got {shape_str(tuple(value.shape))}"
            )
        return value

    # ---- fused loss ------------------------------------------------------------------------------
    def _last_layer(self):
        """The output's layer when the fused cross-entropy can run on its logits (one output, made by a
        single-input call of a layer with ``call_logits``)."""
        if len(self.outputs) != 1:
            return None
        node = self.outputs[0].node
        x, args, kwargs = node.call_args
        if args or kwargs or not isinstance(x, SymbolicTensor) or not hasattr(node.layer, "call_logits"):
            return None
        return node.layer

    # ---- compile and losses ----------------------------------------------------------------------
    def compile(
        self, optimizer="rmsprop", loss=None, metrics=None, distribute=None, loss_weights=None, jit_compile=False
    ):
        """``loss``: one loss for every output, a list (one per output) or a dict keyed by output name
        (outputs left out have no loss); ``loss_weights`` likewise (default 1); ``metrics``: a list of
        lists or a dict of lists per output (a plain list with one output). The total loss is the
        weighted sum; logs are ``loss``, ``<output>_loss`` and ``<output>_<metric>``, as Keras 3."""
        names = self.output_names
        losses = _per_output(loss, names, "loss", default=None)
        weights = [_weight(w, name) for w, name in zip(_per_output(loss_weights, names, "loss_weights", 1.0), names)]
        per_output_metrics = _metrics_per_output(metrics, names)
        if all(fn is None for fn in losses) and loss is not None:
            raise ValueError(f"[compile] model '{self.name}': loss names none of the outputs {names}")
        single = len(names) == 1
        super().compile(
            optimizer,
            loss=losses[0] if single else None,
            metrics=per_output_metrics[0] if single else None,
            distribute=distribute,
            jit_compile=jit_compile,
        )
        self._output_losses = [
            (name, losses_mod.get(fn) if fn is not None else None, w) for name, fn, w in zip(names, losses, weights)
        ]
        self._output_metrics = []
        if not single:
            losses = [fn for _, fn, _ in self._output_losses]
            self.loss = losses if any(fn is not None for fn in losses) else None  # None: fit asks for a loss
            self._fused_loss = None
            for i, (name, fn, _) in enumerate(self._output_losses):
                loss_name = getattr(fn, "name", "")
                for m in per_output_metrics[i]:
                    metric = metrics_mod.get(m, loss_name)
                    self._output_metrics.append((i, f"{name}_{metric.name}", metric))
            self._metrics = [metric for _, _, metric in self._output_metrics]
            keys = [key for _, key, _ in self._output_metrics]
            if len(set(keys)) != len(keys):
                raise ValueError(f"[compile] model '{self.name}': metric names must be unique per output, got {keys}")
        return self

    def _named_metrics(self) -> dict:
        """Log name -> metric: ``<output>_<metric>`` with several outputs, as Keras 3 names them."""
        if not self._output_metrics:
            return super()._named_metrics()
        return {key: metric for _, key, metric in self._output_metrics}

    def compute_loss(self, x, y, sample_weight=None):
        """(total loss Tensor, predictions) for one batch. x as ``model(x)`` takes it; y one array per
        output (an array for one output, a list in output order, or a dict keyed by output name);
        ``sample_weight`` (one per sample) scales every output's loss. The predictions are the output
        Tensor for one output, else the model's output structure. The total is sum(loss_weight * loss)
        over the outputs that have a loss; each output's own (unweighted) loss is kept for the logs in
        ``_loss_parts``."""
        names = self.output_names
        targets = self._targets(y)
        if len(names) == 1:
            name, _, weight = self._output_losses[0] if self._output_losses else (names[0], None, 1.0)
            if self._fused_loss is not None:
                (logits,) = flatten(self.forward_logits(x))
                loss = self._fused_loss(targets[0], logits, sample_weight)
                preds = self._fused_predictions(logits)
            else:
                (preds,) = flatten(self(x))
                loss = self.loss(targets[0], preds, sample_weight)
            self._loss_parts = [(name, loss)]
            return self._with_penalties(loss * weight if weight != 1.0 else loss), preds
        preds = self(x)
        outputs = flatten(preds)
        total, self._loss_parts = None, []
        for (name, fn, weight), target, pred in zip(self._output_losses, targets, outputs):
            if fn is None:
                continue
            value = fn(target, pred, sample_weight)
            self._loss_parts.append((name, value))
            weighted = value * weight if weight != 1.0 else value
            total = weighted if total is None else total + weighted
        return self._with_penalties(total), preds

    def _targets(self, y) -> list:
        names = self.output_names
        label = f"Model '{self.name}'"
        if isinstance(y, dict):
            unknown = [k for k in y if k not in names]
            if unknown:
                raise ValueError(f"[{label}] y has keys {unknown} that name no output; the outputs: {names}")
            given = [y.get(n) for n in names]
        elif isinstance(y, (list, tuple)) and (len(names) > 1 or (len(y) == 1 and hasattr(y[0], "shape"))):
            given = list(y)
        else:
            given = [y]
        if len(given) != len(names):
            raise ValueError(f"[{label}] y must hold one array per output ({', '.join(names)}), got {len(given)}")
        for (name, fn, _), target in zip(self._output_losses or [(names[0], self.loss, 1.0)], given):
            if fn is not None and target is None:
                raise ValueError(f"[{label}] y has no target for output '{name}', which has a loss")
        return [None if t is None else _as_targets(t, self.device, label) for t in given]

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        """With several outputs: ``<output>_loss`` for each output with a loss (from the last
        compute_loss), then ``<output>_<metric>`` for each metric, as Keras 3 names them."""
        if len(self.outputs) == 1:
            (pred,) = flatten(y_pred)
            return super().compute_metrics(x, self._targets(y)[0], pred, sample_weight)
        logs = {f"{name}_loss": float(value.item()) for name, value in self._loss_parts}
        targets, outputs = self._targets(y), flatten(y_pred)
        for i, key, metric in self._output_metrics:
            metric.update_state(targets[i], outputs[i].data, sample_weight)
            logs[key] = metric.result()
        return logs

    # ---- description --------------------------------------------------------------------------------
    def _layer_nodes(self, layer) -> list:
        """The nodes of ``layer`` in this model's graph, in the order they were made."""
        mine = {id(node) for node in self._nodes}
        return [n for n in getattr(layer, "_inbound_nodes", []) if id(n) in mine]

    def _history(self, tensor: SymbolicTensor) -> list:
        """[layer name, node index among that layer's nodes in this model, output index] (Keras 3)."""
        if isinstance(tensor.layer, InputLayer):
            return [tensor.layer.name, 0, tensor.index]
        return [tensor.layer.name, self._layer_nodes(tensor.layer).index(tensor.node), tensor.index]

    def summary(self, print_fn=print) -> None:
        """Each layer's output shape, parameters and the tensors it is connected to, as Keras prints a
        functional model (``name[node][tensor]``)."""
        rows = []
        for layer in self.layers:
            nodes = self._layer_nodes(layer)
            if isinstance(layer, InputLayer):
                shapes, connected = [layer.output.shape], "-"
            else:
                shapes = [t.shape for n in nodes for t in n.outputs]
                connected = ", ".join("{}[{}][{}]".format(*self._history(t)) for n in nodes for t in n.inbound)
            shape = shape_str(shapes[0]) if len(shapes) == 1 else "[" + ", ".join(map(shape_str, shapes)) + "]"
            rows.append((f"{layer.name} ({type(layer).__name__})", shape, f"{layer.count_params():,}", connected))
        headers = ("Layer (type)", "Output Shape", "Param #", "Connected to")
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
        line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
        rule = "=" * len(line)
        total = self.count_params()
        trainable = int(sum(w.size for w in self.trainable_weights))
        print_fn(f'Model: "{self.name}"')
        for text in (rule, line, rule, *("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows), rule):
            print_fn(text)
        print_fn(f"Total params: {total:,}")
        print_fn(f"Trainable params: {trainable:,}")
        print_fn(f"Non-trainable params: {total - trainable:,}")

    # ---- saving ---------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras 3's layout: every layer with its inbound nodes (tensors as [layer, node, tensor]),
        and input_layers / output_layers in the structure the model was given."""
        history = self._history

        def argument(value):
            if isinstance(value, SymbolicTensor):
                return {"class_name": _TENSOR, "config": {"keras_history": history(value)}}
            if isinstance(value, (list, tuple)):
                return [argument(v) for v in value]
            if isinstance(value, dict):
                return {k: argument(v) for k, v in value.items()}
            if value is None or isinstance(value, (bool, int, float, str)):
                return value
            raise ConfigError(
                f"[save] model '{self.name}': a layer call argument of type {type(value).__name__} cannot be saved"
            )

        layers = []
        for layer in self.layers:
            nodes = self._layer_nodes(layer)
            entry = layer_to_config(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = [
                {
                    "args": [argument(n.call_args[0]), *argument(list(n.call_args[1]))],
                    "kwargs": argument(n.call_args[2]),
                }
                for n in nodes
            ]
            layers.append(entry)
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layers,
            "input_layers": map_structure(history, self._input_struct),
            "output_layers": map_structure(history, self._output_struct),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        """The model ``get_config`` described. Layers come from the closed registry (or custom_objects);
        nodes may reference only layers and nodes of the file, without cycles."""
        return _GraphLoader(config, custom_objects).model(cls)


class _GraphLoader:
    """Rebuilds a Functional from its config, checking every reference before it is followed."""

    def __init__(self, config: dict, custom_objects):
        self.label = f"[load_model] model {config.get('name', '(unnamed)')!r}"
        entries = config.get("layers")
        if not isinstance(entries, list):
            raise ConfigError(f"{self.label}: 'layers' must be a list, got {type(entries).__name__}")
        self.config = config
        self.layers: dict = {}
        self.pending: list = []  # (layer name, node spec), in file order
        self.nodes: dict = {}  # layer name -> the symbolic outputs of each node made so far
        for entry in entries:
            self._add_layer(entry, custom_objects)

    def _add_layer(self, entry, custom_objects) -> None:
        if not (isinstance(entry, dict) and {"class_name", "config", "name", "inbound_nodes"} <= set(entry)):
            raise ConfigError(
                f"{self.label}: a layer must be {{'class_name', 'config', 'name', 'inbound_nodes'}}, "
                f"got {str(entry)[:200]}"
            )
        name, nodes = entry["name"], entry["inbound_nodes"]
        if not isinstance(name, str) or name in self.layers:
            raise ConfigError(f"{self.label}: layer names must be distinct strings, got {name!r} twice or not a string")
        if not isinstance(nodes, list):
            raise ConfigError(f"{self.label}: layer '{name}': inbound_nodes must be a list")
        spec = {"class_name": entry["class_name"], "config": entry["config"]}
        if spec["class_name"] in ("InputLayer", "Input"):
            _check_input_size(spec["config"], self.label, name)
        layer = layer_from_config(spec, custom_objects)
        if layer.name != name:
            raise ConfigError(f"{self.label}: layer '{name}' builds a layer named {layer.name!r}")
        self.layers[name] = layer
        self.nodes[name] = [[layer.output]] if isinstance(layer, InputLayer) else []
        for node in nodes:
            if not (isinstance(node, dict) and set(node) == {"args", "kwargs"}):
                raise ConfigError(
                    f"{self.label}: layer '{name}': a node must be {{'args', 'kwargs'}}, got {str(node)[:200]}"
                )
            if not (isinstance(node["args"], list) and node["args"] and isinstance(node["kwargs"], dict)):
                raise ConfigError(
                    f"{self.label}: layer '{name}': a node's args must be a non-empty list, kwargs a dict"
                )
            self.pending.append((name, node))

    def _tensor(self, reference, strict: bool):
        """The symbolic tensor of [layer, node, tensor]; None when that node is not made yet (strict: refused)."""
        if not (
            isinstance(reference, list)
            and len(reference) == 3
            and isinstance(reference[0], str)
            and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in reference[1:])
        ):
            raise ConfigError(
                f"{self.label}: a tensor reference must be [layer name, node index, tensor index], "
                f"got {reference!r:.200}"
            )
        name, node, index = reference
        if name not in self.layers:
            raise ConfigError(f"{self.label}: a node references layer '{name}', which is not in the model's layers")
        made = self.nodes[name]
        if node >= len(made):
            if strict:
                raise ConfigError(
                    f"{self.label}: tensor {reference} references node {node} of layer '{name}', which does not exist"
                )
            return None
        if index >= len(made[node]):
            raise ConfigError(
                f"{self.label}: tensor {reference}: node {node} of layer '{name}' has {len(made[node])} output(s)"
            )
        return made[node][index]

    def _argument(self, value, strict: bool = False):
        """A node's argument with tensors resolved; raises _NotReady while a referenced node is missing."""
        if isinstance(value, dict) and value.get("class_name") == _TENSOR:
            config = value.get("config")
            reference = config.get("keras_history") if isinstance(config, dict) else None
            tensor = self._tensor(reference, strict)
            if tensor is None:
                raise _NotReady
            return tensor
        if isinstance(value, list):
            return [self._argument(v, strict) for v in value]
        if isinstance(value, dict):
            return {k: self._argument(v, strict) for k, v in value.items()}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise ConfigError(
            f"{self.label}: a node argument must be a tensor, list, dict or plain value, got {value!r:.200}"
        )

    def _make_nodes(self) -> None:
        """Calls each layer once every tensor its node needs exists; what is left references nodes that
        never come (a cycle, or a node that does not exist)."""
        pending = self.pending
        while pending:
            left = []
            for name, node in pending:
                try:
                    args = self._argument(node["args"])
                    kwargs = self._argument(node["kwargs"])
                except _NotReady:
                    left.append((name, node))
                    continue
                out = self.layers[name](args[0], *args[1:], **kwargs)
                self.nodes[name].append(flatten(out))
            if len(left) == len(pending):
                stuck = ", ".join(sorted({name for name, _ in left}))
                raise ConfigError(
                    f"{self.label}: the nodes of {stuck} reference nodes that never exist (a cycle, or a node index "
                    "beyond the file's nodes)"
                )
            pending = left

    def model(self, cls) -> Functional:
        self._make_nodes()
        config = self.config
        for key in ("input_layers", "output_layers"):
            if key not in config:
                raise ConfigError(f"{self.label}: the config has no '{key}'")

        def resolve(structure):
            if isinstance(structure, list) and len(structure) == 3 and isinstance(structure[0], str):
                return self._tensor(structure, strict=True)
            if isinstance(structure, list) and structure:
                return [resolve(s) for s in structure]
            if isinstance(structure, dict) and structure:
                return {k: resolve(s) for k, s in structure.items()}
            raise ConfigError(
                f"{self.label}: input_layers/output_layers hold [layer, node, tensor] references, "
                f"got {structure!r:.200}"
            )

        extra = set(config) - {"name", "trainable", "layers", "input_layers", "output_layers"}
        if extra:
            raise ConfigError(f"{self.label}: unknown config key(s) {sorted(extra)}")
        return cls(
            resolve(config["input_layers"]),
            resolve(config["output_layers"]),
            name=config.get("name"),
            trainable=config.get("trainable", True),
        )


class _NotReady(Exception):
    """A node argument references a node not made yet."""


def _check_input_size(config, label: str, name: str) -> None:
    """An Input declared in a file is run once with a zero sample: refuse one too large to allocate."""
    if _budget.get() is None or not isinstance(config, dict):
        return
    shape = config.get("shape", (config.get("batch_shape") or [None])[1:])
    if isinstance(shape, list) and all(
        isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape if d is not None
    ):
        values = math.prod(1 if d is None else d for d in shape)
        if values > _MAX_INPUT_VALUES:
            raise ConfigError(f"{label}: Input '{name}' of shape {shape} holds more than {_MAX_INPUT_VALUES:,} values")


def _checked_structure(structure, what: str):
    """A symbolic tensor, or a non-empty list/tuple/dict of them (lists keep their order)."""
    if isinstance(structure, SymbolicTensor):
        return structure
    if isinstance(structure, (list, tuple)) and structure and all(isinstance(t, SymbolicTensor) for t in structure):
        return list(structure)
    if (
        isinstance(structure, dict)
        and structure
        and all(isinstance(k, str) and isinstance(t, SymbolicTensor) for k, t in structure.items())
    ):
        return dict(structure)
    raise TypeError(
        f"[Model] {what} must be symbolic tensors (from ranvier.Input(...) and layers called on them): one, "
        f"a non-empty list or a dict keyed by name, got {_describe(structure)}"
    )


def _describe(value) -> str:
    if isinstance(value, (list, tuple)):
        return (
            f"a {type(value).__name__} of " + ", ".join(type(v).__name__ for v in value) if value else "an empty list"
        )
    return type(value).__name__


def _walk(inputs: list, outputs: list) -> tuple:
    """Keras 3's map_graph: (nodes in topological order, the Input nodes included; the model's layers
    by decreasing depth from the outputs, ties in first-visit order of the depth-first walk). The
    same order as Keras, so that ``get_weights``/``set_weights`` lists match a Keras twin's."""
    sources = {id(t) for t in inputs}
    order, first_visit, done, open_ = [], {}, set(), set()

    def enter(tensor):
        node = tensor.node
        if id(node) in done:
            return None
        if isinstance(node.layer, InputLayer) and id(tensor) not in sources:
            raise ValueError(
                f"[Model] graph disconnected: an output needs Input '{node.layer.name}', which is not in inputs "
                f"(inputs: {', '.join(t.layer.name for t in inputs)})"
            )
        first_visit.setdefault(id(node.layer), (len(first_visit), node.layer))
        open_.add(id(node))
        return node

    for out in outputs:
        node = enter(out)
        stack = [] if node is None else [(node, iter(node.inbound))]
        while stack:
            node, pending = stack[-1]
            child = next(pending, None)
            if child is None:
                stack.pop()
                open_.discard(id(node))
                done.add(id(node))
                order.append(node)
            elif (child_node := enter(child)) is not None:
                stack.append((child_node, iter(child_node.inbound)))
    in_graph = {id(node) for node in order}
    node_depth, layer_depth = {}, {}
    for node in reversed(order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        for parent in {id(t.node): t.node for t in node.inbound}.values():
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:  # an Input no output reads is still one of the model's layers
        if id(t.layer) not in layer_depth:
            layer_depth[id(t.layer)] = 0
            first_visit[id(t.layer)] = (-1, t.layer)
    ranked = sorted(first_visit.values(), key=lambda item: (-layer_depth[id(item[1])], item[0]))
    return order, [layer for _, layer in ranked]


def _per_output(value, names: list, what: str, default):
    """One entry per output from a single value (every output), a list (in order) or a dict by name."""
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"[compile] {what} names {unknown}, which are not outputs; the outputs: {names}")
        return [value.get(n, default) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(
                f"[compile] {what} must have one entry per output ({len(names)}: {names}), got {len(value)}"
            )
        return list(value)
    return [default if value is None else value] * len(names)


def _weight(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise TypeError(f"[compile] loss_weights for output '{name}' must be a finite number, got {value!r}")
    return float(value)


def _metrics_per_output(metrics, names: list) -> list:
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        unknown = [k for k in metrics if k not in names]
        if unknown:
            raise ValueError(f"[compile] metrics names {unknown}, which are not outputs; the outputs: {names}")
        return [_as_list(metrics.get(n)) for n in names]
    if not isinstance(metrics, (list, tuple)):
        raise TypeError(
            f"[compile] metrics must be a list or a dict keyed by output name, got {type(metrics).__name__}"
        )
    if len(names) == 1 and not any(isinstance(m, (list, tuple)) for m in metrics):
        return [list(metrics)]
    if len(metrics) != len(names) or not all(m is None or isinstance(m, (list, tuple, str)) for m in metrics):
        raise ValueError(
            f"[compile] with {len(names)} outputs ({names}), metrics must be a list of {len(names)} lists "
            f"(one per output) or a dict keyed by output name, got {metrics!r:.200}"
        )
    return [_as_list(m) for m in metrics]


def _as_list(metrics) -> list:
    if metrics is None:
        return []
    return [metrics] if isinstance(metrics, str) or callable(metrics) else list(metrics)


__all__ = ["Functional"]
