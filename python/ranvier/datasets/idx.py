"""The IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed.

    bytes 0-1  zero
    byte  2    item type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3    number of dimensions, ndim
    then       ndim sizes, uint32 big-endian
    then       prod(sizes) items, big-endian, row-major

Gzip is recognised by the file's first two bytes, not its name. Anything that
does not match its header exactly (truncated, trailing bytes, not IDX) raises
``ValueError`` naming the file.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib

import numpy as np

ITEM_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path) -> np.ndarray:
    """The array stored in the IDX file ``path`` (gzip or plain), in native byte order."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError; truncation raises EOFError
            raise ValueError(f"{path}: not a readable gzip file ({e})") from None
    return parse_idx(data, str(path))


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array stored in the uncompressed IDX bytes ``data``; ``name`` is used in error messages."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in ITEM_TYPES:
        raise ValueError(
            f"{name}: not an IDX file (magic number {data[:4].hex() or 'missing'}; expected "
            f"0000 then a type code among {', '.join(f'{t:02x}' for t in ITEM_TYPES)} and the rank)"
        )
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{name}: truncated IDX header: {ndim} dimensions need {header} bytes, the file has {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(ITEM_TYPES[data[2]])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "trailing bytes after the data"
        raise ValueError(
            f"{name}: {what}: the IDX header says {dtype.name} {shape}, {expected} bytes in all; "
            f"the file has {len(data)}"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
