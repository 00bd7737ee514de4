"""Bytes of an upload -> a Pillow image, with bounded work whatever the bytes are.

An upload is hostile until decoded: a 60 kB PNG can declare 30000x30000 pixels, a GIF a
65535x65535 screen, a progressive JPEG a coefficient buffer of gigabytes. So:
  - only the formats the README promises are tried (``FORMATS``);
  - the declared size is checked against a limit before any pixel is decoded;
  - JPEG photos are decoded at reduced scale (libjpeg's DCT scaling), which is why they
    may declare more pixels than other formats;
  - a JPEG's marker segments and scans are counted before Pillow reads it: each scan of a
    progressive JPEG is another pass over every block, and nothing else limits them;
  - anything larger than a digit needs is reduced before the rest of the work.
Every failure becomes one of the errors below; nothing else escapes.
"""

from __future__ import annotations

import io
import re
import struct

import pyspng
from PIL import Image, ImageOps

from serve.core.errors import ImageTooLarge, NotAnImage
from serve.settings import Settings

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")
# Phones' JPEGs that carry a second, preview image open as MPO.
PHOTO_FORMATS = ("JPEG", "MPO")
# A digit needs no more than this many pixels a side; larger images are reduced first.
WORK_SIDE = 1024
# libjpeg's progressive JPEGs have 10 scans (6 in grey), jpegtran's and mozjpeg's about as
# many, and cameras write baseline JPEGs (1 scan a component). Each scan is another pass
# over every block: a scan of every component's DC costs about 0.6 ms per megapixel (15 ms
# on a 25 MP photo), and repeating it is legal enough for libjpeg, which only warns. So the
# work is bounded as scans x pixels: 250 M is 150 ms of the costliest scans, and lets a
# 25 MP photo have libjpeg's 10; smaller images may have more, up to 32 (3x any encoder).
MAX_JPEG_SCANS = 32
MAX_JPEG_SCAN_PIXELS = 250_000_000
# Pillow reads the segments before the first scan one by one in Python (about 5 µs each,
# 6 s for the million empty comments that fit under the body limit); a real JPEG has a few
# dozen (APPn, tables, a table and a header per scan), or some more for a large ICC profile
# or XMP packet split into 64 kB pieces.
MAX_JPEG_SEGMENTS = 1000
# Inside a scan's entropy-coded data a 0xFF byte is followed by 0x00 (a stuffed 0xFF), a
# restart marker (0xD0-0xD7) or more 0xFF (fill): any other byte is the next marker.
NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
FILL = re.compile(rb"\xff+")  # any number of 0xFF may come before a marker
# Markers that stand alone, without a length: TEM and the restart markers.
STANDALONE = frozenset([0x01, *range(0xD0, 0xD8)])
SOS, EOI = 0xDA, 0xD9


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
    scans = 0
    if data.startswith(b"\xff\xd8"):  # SOI: a JPEG (or MPO), whatever it claims later
        scans = check_jpeg_structure(data)
    image = open_image(data)
    check_size(image, max_photo_pixels if image.format in PHOTO_FORMATS else max_pixels)
    check_scan_work(image, scans)
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


def check_jpeg_structure(data: bytes) -> int:
    """Before Pillow reads any of it: few enough segments and scans. Returns the scans."""
    scans, segments = count_jpeg_scans(data, MAX_JPEG_SCANS, MAX_JPEG_SEGMENTS)
    if segments > MAX_JPEG_SEGMENTS:
        raise ImageTooLarge(
            f"the JPEG has more than {MAX_JPEG_SEGMENTS:,} marker segments; the limit is "
            f"{MAX_JPEG_SEGMENTS:,} (a photo has a few dozen)"
        )
    if scans > MAX_JPEG_SCANS:
        raise ImageTooLarge(
            f"the JPEG has more than {MAX_JPEG_SCANS} scans, each a pass over all its "
            f"pixels; the limit is {MAX_JPEG_SCANS} (encoders write at most about 10)"
        )
    return scans


def check_scan_work(image: Image.Image, scans: int) -> None:
    """After the declared size passed: scans x pixels, the passes libjpeg would make."""
    width, height = image.size
    if scans * width * height > MAX_JPEG_SCAN_PIXELS:
        raise ImageTooLarge(
            f"the JPEG has {scans} scans of {width}x{height} pixels; the limit is "
            f"{MAX_JPEG_SCAN_PIXELS:,} pixels in all scans together (10 scans of 25 MP)"
        )


def count_jpeg_scans(data: bytes, max_scans: int, max_segments: int) -> tuple[int, int]:
    """How many scans (SOS markers) and marker segments the first image of a JPEG has, by
    walking its segments: a segment's length is skipped whole (an EXIF thumbnail holds
    scans of its own), and a scan's data runs to the next true marker. Counting stops
    past either limit. A damaged file is counted as far as it can be read; libjpeg will
    say what is wrong with it.
    """
    scans, segments, at = 0, 0, 2  # after SOI
    while at + 1 < len(data) and scans <= max_scans and segments <= max_segments:
        if data[at] != 0xFF:
            break
        marker = data[at + 1]
        if marker == 0xFF:  # fill bytes before a marker
            at = FILL.match(data, at).end() - 1
            continue
        if marker == EOI:
            break
        segments += 1
        if marker in STANDALONE:
            at += 2
            continue
        if at + 4 > len(data):
            break
        at += 2 + struct.unpack_from(">H", data, at + 2)[0]
        if marker == SOS:
            scans += 1
            found = NEXT_MARKER.search(data, at)
            if found is None:
                break
            at = found.start()
    return scans, segments


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
