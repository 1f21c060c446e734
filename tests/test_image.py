"""load_img and img_to_array on small images written here (skipped without Pillow, the ranvier[image] extra;
the message for a missing Pillow is tested either way)."""

import builtins
import io

import numpy as np
import pytest

from ranvier import image


@pytest.fixture
def Image():
    return pytest.importorskip("PIL.Image")


@pytest.fixture
def rgb_png(Image, tmp_path, rng):
    pixels = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)  # height 6, width 8
    path = tmp_path / "picture.png"
    Image.fromarray(pixels).save(path)
    return path, pixels


def test_rgb_round_trip(rgb_png):
    path, pixels = rgb_png
    for source in (path, str(path), io.BytesIO(path.read_bytes())):
        img = image.load_img(source)
        assert img.mode == "RGB" and img.size == (8, 6)
        x = image.img_to_array(img)
        assert x.dtype == np.float32 and x.shape == (6, 8, 3) and x.flags.writeable
        np.testing.assert_array_equal(x, pixels)


def test_color_modes(Image, rgb_png):
    path, pixels = rgb_png
    grey = image.img_to_array(image.load_img(path, color_mode="grayscale"), dtype="uint8")
    assert grey.shape == (6, 8, 1) and grey.dtype == np.uint8
    np.testing.assert_array_equal(grey[..., 0], np.asarray(Image.fromarray(pixels).convert("L")))
    rgba = image.img_to_array(image.load_img(path, color_mode="rgba"))
    assert rgba.shape == (6, 8, 4)
    np.testing.assert_array_equal(rgba[..., :3], pixels)
    np.testing.assert_array_equal(rgba[..., 3], 255)


def test_grey_file_loads_as_rgb(Image, tmp_path):
    Image.fromarray(np.full((3, 4), 77, np.uint8)).save(tmp_path / "grey.png")
    x = image.img_to_array(image.load_img(tmp_path / "grey.png"))
    assert x.shape == (3, 4, 3)
    np.testing.assert_array_equal(x, 77)


def test_sixteen_bit_grey_stays_sixteen_bit(Image, tmp_path):
    Image.fromarray(np.full((3, 4), 40000, np.uint16)).save(tmp_path / "deep.png")
    x = image.img_to_array(image.load_img(tmp_path / "deep.png", color_mode="grayscale"))
    np.testing.assert_array_equal(x, 40000)


def test_target_size_and_interpolation(Image, rgb_png):
    path, pixels = rgb_png
    img = image.load_img(path, target_size=(3, 4))  # (height, width)
    assert img.size == (4, 3)
    np.testing.assert_array_equal(image.img_to_array(img), np.asarray(Image.fromarray(pixels).resize((4, 3), 0)))
    smooth = image.img_to_array(image.load_img(path, target_size=(12, 16), interpolation="bilinear"))
    assert smooth.shape == (12, 16, 3)
    assert image.load_img(path, target_size=(6, 8)).size == (8, 6)


def test_keep_aspect_ratio_crops_the_centre(Image, tmp_path):
    pixels = np.zeros((4, 8, 3), np.uint8)
    pixels[:, 2:6] = 200  # a square centre block of a 2:1 image
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    x = image.img_to_array(image.load_img(tmp_path / "wide.png", target_size=(4, 4), keep_aspect_ratio=True))
    np.testing.assert_array_equal(x, 200)


def test_channels_first(Image):
    img = Image.fromarray(np.arange(24, dtype=np.uint8).reshape(2, 4, 3))
    x = image.img_to_array(img, data_format="channels_first")
    assert x.shape == (3, 2, 4) and x.flags.c_contiguous
    np.testing.assert_array_equal(x, np.arange(24).reshape(2, 4, 3).transpose(2, 0, 1))


def test_bad_arguments_are_named(rgb_png):
    path, _ = rgb_png
    with pytest.raises(ValueError, match="color_mode"):
        image.load_img(path, color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation"):
        image.load_img(path, interpolation="cubic")
    with pytest.raises(ValueError, match="data_format"):
        image.img_to_array(image.load_img(path), data_format="nchw")


def test_missing_pillow_says_how_to_install(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("No module named 'PIL'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pil)
    with pytest.raises(ImportError, match=r"pip install ranvier\[image\]"):
        image.load_img(tmp_path / "any.png")
