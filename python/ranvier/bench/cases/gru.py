"""GRU over a whole sequence, forward+backward (BPTT), against torch.nn.GRU.
FLOPs: the gate GEMMs, 2 T B (F + U) 3U forward, three times that with the
backward. torch's GRU is Keras' with reset_after=True (its gate blocks in
the order r, z, n): the same function, so the same work; the values agree
once the weights are mapped (tests/test_rnn.py). NumPy has no meaningful
version (a Python loop over time steps)."""

from __future__ import annotations

from ranvier import ops
from ranvier.bench.cases.lstm import recurrent_case


def cases(quick: bool):
    return [recurrent_case("gru", 3, lambda units: (2, units * 3), ops.gru, ops.gru_backward, "GRU")]
