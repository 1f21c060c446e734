"""Keras' image-file helpers: ``load_img`` (a PIL image) and ``img_to_array`` (HWC array).

    img = load_img("cat.png", target_size=(32, 32))   # PIL image, RGB, 32x32
    x = img_to_array(img)                              # float32 (32, 32, 3), values 0..255

Pillow is the optional extra ``ranvier[image]``; nothing else in ranvier needs it.
"""

from __future__ import annotations

import io
import os

import numpy as np

COLOR_MODES = {"rgb": "RGB", "rgba": "RGBA", "grayscale": "L"}
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def _pil_image():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("ranvier.image needs Pillow: pip install ranvier[image]  (or: pip install Pillow)") from None
    return Image


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """Read an image file as a PIL image, as ``keras.utils.load_img``.

    path: a file name or a binary file object. color_mode: "rgb", "rgba" or
    "grayscale" (16- and 32-bit grey images stay as they are). target_size:
    ``(height, width)`` to resize to, or None. interpolation: one of
    ``INTERPOLATIONS``. keep_aspect_ratio: crop the centre to the target's
    aspect ratio before resizing, instead of stretching.
    """
    Image = _pil_image()
    if color_mode not in COLOR_MODES:
        raise ValueError(f"[load_img] color_mode must be one of {', '.join(COLOR_MODES)}, got {color_mode!r}")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"[load_img] interpolation must be one of {', '.join(INTERPOLATIONS)}, got {interpolation!r}")
    if isinstance(path, (str, bytes, os.PathLike)):
        with open(path, "rb") as f:  # read it all now: the file is closed when load_img returns
            img = Image.open(io.BytesIO(f.read()))
    else:
        img = Image.open(path)
    mode = COLOR_MODES[color_mode]
    if img.mode != mode and not (color_mode == "grayscale" and img.mode in ("I;16", "I")):
        img = img.convert(mode)
    if target_size is not None:
        height, width = target_size
        if img.size != (width, height):
            if keep_aspect_ratio:
                img = img.crop(_centre_box(img.size, (width, height)))
            resample = getattr(Image, "Resampling", Image)  # Pillow >= 9.1 moved the constants
            img = img.resize((width, height), getattr(resample, interpolation.upper()))
    return img


def _centre_box(size, target):
    """The largest centred (left, upper, right, lower) box of ``size`` with ``target``'s aspect ratio."""
    (width, height), (target_width, target_height) = size, target
    crop_width = min(width, height * target_width // target_height)
    crop_height = min(height, width * target_height // target_width)
    left, upper = (width - crop_width) // 2, (height - crop_height) // 2
    return left, upper, left + crop_width, upper + crop_height


def img_to_array(img, data_format=None, dtype="float32") -> np.ndarray:
    """A PIL image as an array: (H, W, C) (``data_format="channels_first"``: (C, H, W)).

    Grey images get a channel axis of 1, as in ``keras.utils.img_to_array``.
    """
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"[img_to_array] data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    x = np.array(img, dtype=dtype)  # a copy: writable, whatever the image's buffer
    if x.ndim == 2:
        x = x[:, :, None]
    elif x.ndim != 3:
        raise ValueError(f"[img_to_array] expected an image of rank 2 or 3, got shape {x.shape}")
    return np.ascontiguousarray(x.transpose(2, 0, 1)) if data_format == "channels_first" else x
