"""Bytes of an upload -> a Pillow image, with bounded work whatever the bytes are.

An upload is hostile until decoded: a 60 kB PNG can declare 30000x30000 pixels, a GIF a
65535x65535 screen, a progressive JPEG a coefficient buffer of gigabytes. So:
  - only the formats the README promises are tried (``FORMATS``);
  - the declared size is checked against a limit before any pixel is decoded;
  - JPEG photos are decoded at reduced scale (libjpeg's DCT scaling), which is why they
    may declare more pixels than other formats;
  - anything larger than a digit needs is reduced before the rest of the work.
Every failure becomes one of the errors below; nothing else escapes.
"""

from __future__ import annotations

import io

import pyspng
from PIL import Image, ImageOps

from serve.core.errors import ImageTooLarge, NotAnImage
from serve.settings import Settings

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
# Phones' JPEGs that carry a second, preview image open as MPO.
PHOTO_FORMATS = ("JPEG", "MPO")
# A digit needs no more than this many pixels a side; larger images are reduced first.
WORK_SIDE = 1024


def decode_image(
    data: bytes,
    max_pixels: int = Settings.max_image_pixels,
    max_photo_pixels: int = Settings.max_photo_pixels,
) -> Image.Image:
    """Decode the first frame, EXIF orientation applied, longer side <= WORK_SIDE.

    ``image.info["scale"]`` is how many of the file's pixels one pixel of the result spans
    (more than 1 when the image was decoded or reduced at a smaller scale).
    """
    if not data:
        raise NotAnImage("the file is empty")
    image = open_image(data)
    check_size(image, max_photo_pixels if image.format in PHOTO_FORMATS else max_pixels)
    declared = max(image.size)  # before draft() changes it
    decoded = read_pixels(image, data)
    decoded.info["scale"] = declared / max(decoded.size)
    return decoded


def read_pixels(image: Image.Image, data: bytes) -> Image.Image:
    """The pixels of the first frame, reduced to WORK_SIDE."""
    if image.format == "PNG":
        plain = decode_plain_png(image, data)
        if plain is not None:
            return shrink(plain)
    if image.format in PHOTO_FORMATS:
        # DCT scaling (1/2 to 1/8) and colour to grey, inside libjpeg.
        image.draft("L", (WORK_SIDE // 2, WORK_SIDE // 2))
    try:
        image.seek(0)  # the first frame of an animation
        image.load()
        if "exif" in image.info or image.format == "TIFF":  # only these can be rotated
            image = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as error:
        raise ImageTooLarge(f"the image is far too large: {error}") from None
    except Exception as error:  # Pillow's decoders raise many kinds on damaged data
        raise NotAnImage(f"the image is damaged or truncated: {error}") from None
    return shrink(image)


def open_image(data: bytes) -> Image.Image:
    """Read the header only."""
    try:
        return Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError as error:  # over twice Pillow's own limit
        raise ImageTooLarge(f"the image is far too large: {error}") from None
    except Image.UnidentifiedImageError:
        raise NotAnImage(
            "not an image that can be read: send PNG, JPEG, GIF, BMP, WebP or TIFF"
        ) from None
    except Exception as error:
        raise NotAnImage(f"the image could not be read: {error}") from None


def check_size(image: Image.Image, max_pixels: int) -> None:
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"the image is {width}x{height} pixels; the limit for "
            f"{image.format} is {max_pixels:,} pixels"
        )
    if width == 0 or height == 0:
        raise NotAnImage("the image has no pixels")


def decode_plain_png(image: Image.Image, data: bytes) -> Image.Image | None:
    """A plain PNG, as a canvas's toBlob() makes (8-bit grey or colour, one frame, no EXIF,
    no palette, no transparent colour key), decoded by libspng in about two thirds of the
    time Pillow's decoder takes, which on a 280x280 canvas is as long as all the rest of a
    prediction. None when Pillow must do it.
    """
    if (
        image.mode not in ("RGBA", "RGB", "L")
        or getattr(image, "is_animated", False)
        or "exif" in image.info
        or "transparency" in image.info
    ):
        return None
    try:
        return Image.fromarray(pyspng.load(data, image.mode))
    except RuntimeError:  # damaged: Pillow's decoder explains what is wrong
        return None


def shrink(image: Image.Image) -> Image.Image:
    """Reduce by a whole factor (block averages, in C) so the longer side is <= WORK_SIDE."""
    factor = -(-max(image.size) // WORK_SIDE)
    if factor == 1:
        return image
    if image.mode == "P":  # reduce() refuses palettes, bilevel and 16-bit modes
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode.startswith("I;16"):
        image = image.convert("I")
    return image.reduce(factor)
