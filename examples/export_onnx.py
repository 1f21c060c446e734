"""A ranvier model running in onnxruntime: the MNIST CNN trained on ranvier's
digits, exported with `model.export("model.onnx", format="onnx")` and run by
onnxruntime on the test set (`pip install ranvier[onnx]`). The input stays
NHWC, as in ranvier.

    python examples/export_onnx.py [--epochs N] [--output mnist_cnn.onnx]
"""

import argparse
import os
import tempfile

import numpy as np
from _data import load_images
from mnist_cnn import build_model

import ranvier


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--output", default=None, help="where to keep the .onnx file (default: a temporary one)")
    args = parser.parse_args(argv)
    import onnxruntime

    ranvier.utils.set_seed(0)
    (x_train, y_train), (x_test, y_test) = load_images("digits")
    model = build_model()
    model.compile(
        optimizer=ranvier.optimizers.SGD(learning_rate=0.01, momentum=0.9), loss="sparse_categorical_crossentropy"
    )
    model.fit(x_train[: args.limit], y_train[: args.limit], batch_size=32, epochs=args.epochs, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.output or os.path.join(tmp, "mnist_cnn.onnx")
        model.export(path, format="onnx")
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        onnx_probs = session.run(None, {"input": x_test})[0]
    difference = float(np.max(np.abs(onnx_probs - model.predict(x_test))))
    accuracy = float(np.mean(onnx_probs.argmax(axis=1) == y_test))
    print(f"onnxruntime vs ranvier: max difference {difference:.2e}")
    print(f"onnxruntime test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
