"""CIFAR-10's binary format, read from the official tarball or a folder of .bin files.

    record: 1 label byte (0..9), then 3072 pixel bytes: the 32x32 red plane,
            then green, then blue, each row-major (CHW)
    files:  data_batch_1.bin .. data_batch_5.bin (training), test_batch.bin;
            10,000 records each, inside cifar-10-batches-bin/ in the tarball

Images come back NHWC uint8 (N, 32, 32, 3), labels uint8 (N,). The tarball's
members are read in memory, never extracted to disk. The Python version of
CIFAR (pickled batches) is deliberately not supported: unpickling a file can
run arbitrary code.
"""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path

import numpy as np

SIDE, CHANNELS, NUM_CLASSES = 32, 3, 10
RECORD_BYTES = 1 + CHANNELS * SIDE * SIDE
TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_BATCH = "test_batch.bin"
TARBALL = "cifar-10-binary.tar.gz"
TARBALL_FOLDER = "cifar-10-batches-bin"


def parse_batch(data: bytes, name: str = "<bytes>"):
    """Binary records -> (images uint8 (N, 32, 32, 3), labels uint8 (N,)); ``name`` is used in error messages."""
    if not data or len(data) % RECORD_BYTES:
        raise ValueError(
            f"{name}: not a CIFAR-10 binary batch: {len(data)} bytes is not a positive whole number "
            f"of {RECORD_BYTES}-byte records (1 label byte + 3x32x32 pixels)"
        )
    records = np.frombuffer(data, np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].copy()
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        raise ValueError(
            f"{name}: not a CIFAR-10 binary batch: record {bad[0]} has label {labels[bad[0]]}, "
            f"labels must be 0..{NUM_CLASSES - 1}"
        )
    images = records[:, 1:].reshape(-1, CHANNELS, SIDE, SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def load_batches(path, names) -> dict:
    """``{name: (images, labels)}`` for the batch files ``names``, read from ``path``.

    ``path`` is the tarball, or a folder holding either the .bin files (directly
    or in cifar-10-batches-bin/, as extracting the tarball leaves them) or the tarball.
    """
    path = Path(path)
    if not path.is_dir():
        return _from_tarball(path, names)
    for folder in (path, path / TARBALL_FOLDER):
        if all((folder / n).is_file() for n in names):
            return {n: parse_batch((folder / n).read_bytes(), str(folder / n)) for n in names}
    if (path / TARBALL).is_file():
        return _from_tarball(path / TARBALL, names)
    raise FileNotFoundError(
        f"{path}: found neither {TARBALL} nor all of {', '.join(names)} (in the folder itself or in {TARBALL_FOLDER}/)"
    )


def _from_tarball(path: Path, names) -> dict:
    batches = {}
    with open(path, "rb") as f:  # a missing file raises FileNotFoundError, not the ValueError below
        try:
            with tarfile.open(fileobj=f, mode="r:*") as tar:
                for member in tar:
                    base = member.name.rsplit("/", 1)[-1]
                    if member.isfile() and base in names and base not in batches:
                        batches[base] = parse_batch(tar.extractfile(member).read(), f"{path}:{member.name}")
        except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{path}: not a readable CIFAR-10 tarball ({e})") from None
    missing = [n for n in names if n not in batches]
    if missing:
        raise ValueError(f"{path}: the archive lacks {', '.join(missing)}")
    return batches
