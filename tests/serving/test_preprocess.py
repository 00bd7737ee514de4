"""preprocess_image: any reasonable image of a digit -> the MNIST-style (1, 28, 28, 1) input."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from serve.core.decode import decode_image
from serve.core.errors import BlankImage, ImageTooLarge, NotAnImage
from serve.core.preprocess import preprocess_image, stroke_thickness, thin_thick_strokes
from support.drawings import canvas_png, centre_of_mass, encode, mnist_sample, one, seven, zero


def digit_of(array):
    return array[0, :, :, 0]


def shifted_difference(a, b):
    """Mean |a - b| allowing a one-pixel shift (centring moves whole pixels, and a centre
    of mass that falls halfway between two pixels may round either way)."""
    a, b = np.squeeze(a), np.squeeze(b)
    return min(
        np.abs(np.roll(a, (dy, dx), axis=(0, 1)) - b).mean()
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


def ink_box(digit, level=0.05):
    rows = np.flatnonzero(digit.max(axis=1) > level)
    cols = np.flatnonzero(digit.max(axis=0) > level)
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_canvas_png_becomes_white_ink_on_black_in_mnist_layout():
    out = preprocess_image(canvas_png(seven))
    assert out.shape == (1, 28, 28, 1) and out.dtype == np.float32
    digit = digit_of(out)
    assert digit.min() == 0.0 and digit.max() == pytest.approx(1.0)
    assert digit[0].max() == 0 and digit[:, 0].max() == 0  # empty border, as in MNIST
    assert max(ink_box(digit)) == 20  # longer side fit to 20 px
    row, col = centre_of_mass(digit)
    assert abs(row - 13.5) <= 1.0 and abs(col - 13.5) <= 1.0


def test_aspect_ratio_is_kept():
    digit = digit_of(preprocess_image(canvas_png(one)))
    height, width = ink_box(digit)
    assert height == 20 and width <= 4  # a bar stays a bar, not a square


def test_transparent_white_and_dark_backgrounds_agree():
    transparent = preprocess_image(canvas_png(zero))
    white = preprocess_image(canvas_png(zero, mode="RGB", background="white", ink="black"))
    dark = preprocess_image(
        canvas_png(zero, mode="RGB", background=(20, 20, 20), ink=(240, 240, 240))
    )
    np.testing.assert_allclose(transparent, white, atol=0.02)
    np.testing.assert_allclose(transparent, dark, atol=0.05)


def test_white_ink_on_transparent_is_found_too():
    light = preprocess_image(canvas_png(zero, ink=(255, 255, 255, 255)))
    np.testing.assert_allclose(light, preprocess_image(canvas_png(zero)), atol=0.02)


def test_position_and_size_on_the_canvas_do_not_matter():
    def small_corner_seven(d, ink, width):
        d.line([(10, 10), (80, 10), (35, 95)], fill=ink, width=width // 2, joint="curve")

    big = preprocess_image(canvas_png(seven))
    small = preprocess_image(canvas_png(small_corner_seven))
    assert shifted_difference(big, small) < 0.03


def test_mnist_digits_come_out_nearly_unchanged():
    images, _ = mnist_sample()
    unmoved = 0
    for image in images[:40]:
        out = digit_of(preprocess_image(Image.fromarray(image)))
        assert shifted_difference(out, image / 255.0) < 0.03
        unmoved += np.abs(out - image / 255.0).mean() < 0.03
    assert unmoved >= 30  # most land exactly where MNIST put them


@pytest.mark.parametrize("mode", ["L", "RGB", "P", "1", "CMYK", "LA", "I;16", "I", "F"])
def test_every_pillow_mode_gives_the_same_digit(mode):
    reference = Image.new("L", (120, 120), 255)
    ImageDraw.Draw(reference).ellipse([(30, 15), (90, 105)], outline=0, width=12)
    expected = preprocess_image(reference)
    if mode in ("I;16", "I"):
        image = Image.fromarray((np.asarray(reference, np.uint16) * 257).astype(np.uint16))
        image = image.convert("I") if mode == "I" else image
    elif mode == "F":
        image = Image.fromarray(np.asarray(reference, np.float32) / 255.0, mode="F")
    else:
        image = reference.convert(mode)
    np.testing.assert_allclose(preprocess_image(image), expected, atol=0.05)


@pytest.mark.parametrize("fmt", ["JPEG", "GIF", "BMP", "WEBP", "TIFF"])
def test_common_file_formats(fmt):
    reference = Image.new("RGB", (200, 200), "white")
    ImageDraw.Draw(reference).line([(60, 40), (150, 40), (90, 170)], fill="black", width=14)
    out = preprocess_image(encode(reference, fmt))
    np.testing.assert_allclose(out, preprocess_image(reference), atol=0.08)


def test_16_bit_png_file():
    grey = np.full((100, 100), 65535, np.uint16)
    grey[20:80, 45:55] = 0
    out = digit_of(preprocess_image(encode(Image.fromarray(grey))))
    assert ink_box(out)[0] == 20


def test_first_frame_of_an_animated_gif():
    first = Image.new("L", (100, 100), 255)
    ImageDraw.Draw(first).line([(50, 10), (50, 90)], fill=0, width=8)  # a 1
    second = Image.new("L", (100, 100), 255)
    ImageDraw.Draw(second).ellipse([(20, 10), (80, 90)], outline=0, width=8)  # a 0
    gif = encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    np.testing.assert_allclose(preprocess_image(gif), preprocess_image(first), atol=0.02)


def test_exif_orientation_is_applied():
    upright = Image.new("RGB", (160, 100), "white")
    ImageDraw.Draw(upright).line([(20, 50), (140, 50)], fill="black", width=10)  # lying bar
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    out = digit_of(preprocess_image(encode(upright, "JPEG", exif=exif.tobytes())))
    height, width = ink_box(out, 0.3)
    assert height == 20 and width <= 5  # displayed upright: a standing bar


def test_noisy_scan_on_grey_paper():
    rng = np.random.default_rng(1)
    paper = rng.normal(170, 12, (300, 300)).clip(0, 255).astype(np.uint8)
    scan = Image.fromarray(paper)
    ImageDraw.Draw(scan).ellipse([(90, 50), (210, 250)], outline=40, width=22)
    clean = Image.new("L", (300, 300), 255)
    ImageDraw.Draw(clean).ellipse([(90, 50), (210, 250)], outline=0, width=22)
    out = preprocess_image(encode(scan, "JPEG", quality=70))
    assert shifted_difference(out, preprocess_image(clean)) < 0.03


@pytest.mark.parametrize(
    "image",
    [
        Image.new("RGBA", (280, 280), (0, 0, 0, 0)),  # the empty canvas
        Image.new("RGB", (280, 280), "white"),
        Image.new("L", (28, 28), 0),
        Image.new("L", (50, 50), 128),
    ],
)
def test_blank_images_are_refused(image):
    with pytest.raises(BlankImage, match="draw a digit"):
        preprocess_image(encode(image))


@pytest.mark.parametrize("data", [b"", b"hello, world", b"\x89PNG\r\n\x1a\n" + b"\0" * 40])
def test_non_images_are_refused(data):
    with pytest.raises(NotAnImage):
        preprocess_image(data)


def test_truncated_image_is_refused():
    data = canvas_png(seven)
    with pytest.raises(NotAnImage):
        preprocess_image(data[: len(data) // 2])


def test_decompression_bomb_is_refused_before_decoding():
    huge = encode(Image.new("1", (8000, 8000), 1))  # a few kB of PNG, 64 M pixels
    assert len(huge) < 100_000
    with pytest.raises(ImageTooLarge):
        decode_image(huge, max_pixels=40_000_000)


def test_palette_image_with_a_transparent_index():
    reference = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(reference).line([(50, 10), (50, 90)], fill=(0, 0, 0, 255), width=8)
    palette = Image.new("P", (100, 100), 0)
    palette.putpalette([0, 0, 0, 0, 0, 0])  # index 0 (transparent) and 1 are both black
    ImageDraw.Draw(palette).line([(50, 10), (50, 90)], fill=1, width=8)
    data = encode(palette, transparency=0)
    assert "transparency" in Image.open(io.BytesIO(data)).info
    np.testing.assert_allclose(preprocess_image(data), preprocess_image(reference), atol=0.02)


@pytest.mark.parametrize(
    "mode, params",
    [
        ("RGBA", {}),
        ("RGB", {}),
        ("L", {}),
        ("RGB", {"transparency": (255, 255, 255)}),
        ("LA", {}),
        ("P", {}),
    ],
)
def test_png_decoding_gives_exactly_what_pillow_gives(mode, params):
    # Plain PNGs take libspng's faster path; the rest go to Pillow. Either way the pixels
    # and the mode must be Pillow's own.
    rgba = np.random.default_rng(1).integers(0, 256, (37, 53, 4), dtype=np.uint8)
    data = encode(Image.fromarray(rgba).convert(mode), **params)
    decoded = decode_image(data)
    reference = Image.open(io.BytesIO(data))
    assert decoded.mode == reference.mode and decoded.size == reference.size
    np.testing.assert_array_equal(np.asarray(decoded), np.asarray(reference))
    if "transparency" in params:
        assert decoded.info.get("transparency") == (255, 255, 255)


def test_first_frame_of_an_animated_png():
    first = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(first).line([(50, 10), (50, 90)], fill=(0, 0, 0, 255), width=8)  # a 1
    second = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(second).ellipse([(20, 10), (80, 90)], outline=(0, 0, 0, 255), width=8)
    apng = encode(first, save_all=True, append_images=[second], duration=100, loop=0)
    np.testing.assert_allclose(preprocess_image(apng), preprocess_image(first), atol=0.02)


def test_damaged_png_data_is_refused():
    data = bytearray(canvas_png(seven))
    data[len(data) // 2 : len(data) // 2 + 40] = b"\xff" * 40  # corrupt the compressed pixels
    with pytest.raises(NotAnImage):
        preprocess_image(bytes(data))


def ring(pen: int) -> np.ndarray:
    """A 0 drawn 200 px tall with a pen ``pen`` px wide, as ink in [0, 1]."""
    image = Image.new("L", (160, 200), 0)
    ImageDraw.Draw(image).ellipse([(5, 5), (155, 195)], outline=255, width=pen)
    return np.asarray(image, np.float32) / 255


def test_a_fat_pen_is_thinned_back_and_the_loop_stays_open():
    # A 60 px pen on a 200 px 0 nearly fills it; MNIST's strokes are about a tenth of
    # the digit's size.
    fat = ring(60)
    thinned = thin_thick_strokes(fat)
    assert stroke_thickness(fat) / 200 > 0.2
    assert 0.09 < stroke_thickness(thinned) / max(thinned.shape) < 0.17
    assert thinned[thinned.shape[0] // 2, thinned.shape[1] // 2] == 0  # the hole


def test_ordinary_strokes_and_mnist_sized_digits_are_not_thinned():
    ordinary = ring(20)
    assert thin_thick_strokes(ordinary) is ordinary
    images, _ = mnist_sample()
    for image in images[:100]:  # 20 px digits, some with strokes a fifth as wide
        digit = image.astype(np.float32) / 255
        assert thin_thick_strokes(digit) is digit
