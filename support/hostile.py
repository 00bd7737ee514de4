"""Uploads a hostile user would send, for the hostile-upload tests, the robustness
benchmark and the soak.

``costly_uploads()`` are the most expensive images the server still accepts: the largest
declared size of each format, under the body limit. ``bombs()`` declare far more pixels
(or passes over them: JPEG scans) than the limits allow, in a few bytes to kilobytes.
"""

from __future__ import annotations

import functools
import re
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw

from support.drawings import encode


def drawn_seven(mode: str, size: tuple[int, int], background, ink) -> Image.Image:
    image = Image.new(mode, size, background)
    width, height = size
    ImageDraw.Draw(image).line(
        [(width * 0.3, height * 0.2), (width * 0.7, height * 0.2), (width * 0.45, height * 0.8)],
        fill=ink,
        width=max(2, width // 40),
    )
    return image


def costly_uploads() -> dict[str, bytes]:
    """Accepted uploads that cost the most work per byte: each near its format's limit."""
    side, photo = 2000, 5000  # 4 MP in full; 25 MP for JPEG, decoded at reduced scale
    white, black = (255, 255, 255), (0, 0, 0)
    return {
        "PNG RGBA 2000x2000": encode(
            drawn_seven("RGBA", (side, side), (0, 0, 0, 0), (0, 0, 0, 255))
        ),
        "PNG 16-bit 2000x2000": encode(drawn_seven("I;16", (side, side), 65535, 0)),
        "WebP lossy 2000x2000": encode(drawn_seven("RGB", (side, side), white, black), "WEBP"),
        "WebP lossless 2000x2000": encode(
            drawn_seven("RGBA", (side, side), white + (255,), black + (255,)), "WEBP", lossless=True
        ),
        "TIFF RGBA LZW 2000x2000": encode(
            drawn_seven("RGBA", (side, side), white + (255,), black + (255,)),
            "TIFF",
            compression="tiff_lzw",
        ),
        "GIF 2000x2000": encode(drawn_seven("L", (side, side), 255, 0), "GIF"),
        "progressive JPEG 5000x5000": encode(
            drawn_seven("RGB", (photo, photo), white, black), "JPEG", progressive=True, quality=95
        ),
        "CMYK JPEG 5000x5000": encode(
            drawn_seven("CMYK", (photo, photo), (0, 0, 0, 0), (0, 0, 0, 255)), "JPEG", quality=95
        ),
        # 32 scans x 7.8 MP: the most scans x pixels accepted
        "progressive JPEG 2795x2795, 32 scans": many_scans(32, 2795),
    }


def nth_scan(data: bytes, n: int) -> tuple[int, int]:
    """Where scan ``n`` (from 0) of a JPEG, with the tables written just before it, begins
    and ends (a plain walk: Pillow's files have no fill bytes and no restart markers)."""
    at, tables, seen = 2, None, 0
    while True:
        marker, length = data[at + 1], struct.unpack_from(">H", data, at + 2)[0]
        if marker != 0xC4:  # DHT: libjpeg writes a scan's tables just before it
            tables = None
        elif tables is None:
            tables = at
        at += 2 + length
        if marker == 0xDA:  # SOS: its data runs to the next marker
            end = re.compile(rb"\xff[^\x00]").search(data, at).start()
            if seen == n:
                return at - 2 - length if tables is None else tables, end
            seen, at = seen + 1, end


@functools.cache
def progressive_seven(side: int) -> bytes:
    """libjpeg's progressive JPEG (10 scans) of a 7, side x side: slow to make at 25 MP."""
    image = drawn_seven("RGB", (side, side), (255, 255, 255), (0, 0, 0))
    return encode(image, "JPEG", progressive=True, quality=95)


def many_scans(scans: int, side: int = 5000, repeat: int = 0) -> bytes:
    """A progressive JPEG of a 7, side x side, with ``scans`` scans: libjpeg's 10, with
    scan ``repeat`` repeated: 0 is the DC of every component, the costliest; 2 is the first
    pass of Cr's AC, a few bytes on a white page. Each repeat is a pass over every block of
    its components and writes the same values again (all come before any refinement), so
    the picture is unchanged; libjpeg only warns."""
    data = progressive_seven(side)
    start, end = nth_scan(data, repeat)
    return data[:end] + data[start:end] * (scans - 10) + data[end:]


def png_header_only(width: int, height: int, bit_depth: int = 1, colour_type: int = 0) -> bytes:
    """A PNG that declares width x height pixels and carries one tiny compressed row: the
    header is all a bomb needs (its pixels would compress to a few hundred kB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def gif_huge_screen() -> bytes:
    """A GIF whose logical screen is 65535x65535, with a 1x1 frame."""
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", 65535, 65535, 0x80, 0, 0)
        + b"\0\0\0\xff\xff\xff"
        + b","
        + struct.pack("<HHHHB", 0, 0, 1, 1, 0)
        + b"\x02\x02\x44\x01\x00;"
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is rewritten to declare width x height."""
    data = bytearray(encode(Image.new("L", (16, 16), 255), "JPEG"))
    at = data.index(b"\xff\xc0") + 5
    data[at : at + 4] = struct.pack(">HH", height, width)
    return bytes(data)


def webp_declaring(width: int, height: int) -> bytes:
    """A small lossy WebP whose VP8 frame header is rewritten to declare width x height."""
    data = bytearray(encode(Image.new("L", (16, 16), 255), "WEBP"))
    at = data.index(b"\x9d\x01\x2a") + 3
    data[at : at + 4] = struct.pack("<HH", width & 0x3FFF, height & 0x3FFF)
    return bytes(data)


def tiff_declaring(width: int, height: int) -> bytes:
    """A small TIFF whose ImageWidth and ImageLength tags are rewritten."""
    data = bytearray(encode(Image.new("L", (16, 16), 255), "TIFF"))
    assert data[:2] == b"II"
    ifd = struct.unpack_from("<I", data, 4)[0]
    for i in range(struct.unpack_from("<H", data, ifd)[0]):
        entry = ifd + 2 + 12 * i
        tag, kind = struct.unpack_from("<HH", data, entry)
        if tag in (256, 257):
            value = width if tag == 256 else height
            struct.pack_into("<I" if kind == 4 else "<H", data, entry + 8, value)
    return bytes(data)


def bombs() -> dict[str, bytes]:
    """Images that declare more pixels than the limits allow, in a few bytes to kilobytes."""
    return {
        "PNG 1-bit 30000x30000": png_header_only(30000, 30000, 1, 0),
        "PNG 8-bit 20000x20000": png_header_only(20000, 20000, 8, 0),
        "PNG RGBA 12000x12000": png_header_only(12000, 12000, 8, 6),
        "PNG 6000x6000 (over 4 MP)": encode(Image.new("L", (6000, 6000), 255)),
        "GIF 65535x65535 screen": gif_huge_screen(),
        "TIFF 40000x40000": tiff_declaring(40000, 40000),
        "TIFF 3000x3000": tiff_declaring(3000, 3000),
        "JPEG 12000x12000": jpeg_declaring(12000, 12000),
        "JPEG 65000x65000": jpeg_declaring(65000, 65000),
        "WebP 16383x16383": webp_declaring(16383, 16383),
        "progressive JPEG 5000x5000, 16 scans": many_scans(16),  # 400 M scans x pixels
        "progressive JPEG 5000x5000, 100 scans": many_scans(100, repeat=2),
        "progressive JPEG 5000x5000, 300 scans": many_scans(300, repeat=2),
        "progressive JPEG 1000x1000, 1000 scans": many_scans(1000, 1000),
    }


def noise_png(side: int, seed: int = 0) -> bytes:
    """Incompressible pixels: the most bytes per pixel a PNG can carry."""
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=np.uint8)
    return encode(Image.fromarray(pixels))
