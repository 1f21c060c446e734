"""A Transformer encoder classifier: token embedding + sinusoidal positional
encoding -> multi-head self-attention block -> average -> softmax.
Task, in the spirit of Keras' text-classification-with-Transformer example:
each "review" is a sequence of word ids, half of the vocabulary positive and
half negative; is the review positive overall?

    python examples/transformer_encoder.py [--epochs N]
"""

import argparse

import numpy as np

import ranvier
from ranvier.layers import Dense, Embedding, GlobalAveragePooling1D, PositionalEncoding, TransformerEncoder

VOCAB, LENGTH = 16, 13  # an odd length: no review is a tie


def make_sequences(n: int, seed: int = 0):
    """Word ids 1..7 are positive words, 8..15 negative; the label says which kind is in the majority."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, VOCAB, (n, LENGTH))
    y = (np.sum(x < 8, axis=1) * 2 > LENGTH).astype(np.int64)
    return x, y


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args(argv)
    ranvier.utils.set_seed(0)
    x_train, y_train = make_sequences(args.samples, seed=1)
    x_test, y_test = make_sequences(500, seed=2)
    model = ranvier.Sequential(
        [
            Embedding(VOCAB, 32, input_shape=(LENGTH,)),
            PositionalEncoding(),
            TransformerEncoder(num_heads=4, intermediate_dim=64),
            GlobalAveragePooling1D(),
            Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=ranvier.optimizers.Adam(learning_rate=2e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
