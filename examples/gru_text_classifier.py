"""A GRU text classifier on synthetic token sequences: Embedding -> Bidirectional(GRU 32)
-> Dense1 sigmoid. Task: does the token pair "not good" (ids 3 then 7) occur, in that
order, anywhere in the sentence? The words are random, so only the order tells.

    python examples/gru_text_classifier.py [--epochs N] [--unidirectional]
"""

import argparse

import numpy as np

import ranvier
from ranvier.layers import GRU, Bidirectional, Dense, Embedding

VOCAB, LENGTH, NOT, GOOD = 20, 16, 3, 7


def make_sentences(n: int, seed: int = 0):
    """Token ids (n, LENGTH) and labels: 1 where NOT is directly followed by GOOD."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, VOCAB, (n, LENGTH))
    y = rng.integers(0, 2, n)
    for i in range(n):
        row = x[i]
        row[:-1][(row[:-1] == NOT) & (row[1:] == GOOD)] = 0  # no accidental pair
        if y[i]:
            at = rng.integers(0, LENGTH - 1)
            row[at], row[at + 1] = NOT, GOOD
        elif rng.random() < 0.5:  # the same two words in the other order: a negative
            at = rng.integers(0, LENGTH - 1)
            row[at], row[at + 1] = GOOD, NOT
    return x, y.astype(np.float32)


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--unidirectional", action="store_true", help="a plain GRU instead of Bidirectional")
    args = parser.parse_args(argv)
    ranvier.utils.set_seed(0)
    x_train, y_train = make_sentences(args.samples, seed=1)
    x_test, y_test = make_sentences(500, seed=2)
    recurrent = GRU(32, dropout=0.1)
    model = ranvier.Sequential(
        [
            Embedding(VOCAB, 16, input_shape=(LENGTH,)),
            recurrent if args.unidirectional else Bidirectional(recurrent),
            Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
