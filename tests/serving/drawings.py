"""MNIST digits re-drawn as people's screens and scanners send them (test data).

A 28x28 MNIST digit is scaled up to a random size, re-inked with a thinner or thicker pen,
anti-aliased like a canvas, and placed at a random spot of a 280x280 canvas; then encoded
as a browser would (black ink on transparent PNG), on white, or light-on-dark.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "mnist_test_sample.npz"
STYLES = ("transparent", "white", "dark")


def mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """2,000 MNIST test digits (white on black, uint8) and their labels."""
    with np.load(SAMPLE) as data:
        return data["images"], data["labels"]


def pen_mask(digit: np.ndarray, size: int, pen: float) -> np.ndarray:
    """Ink strength (0-255) of ``digit`` drawn ``size`` px tall with a pen of relative
    width ``pen`` (0 thin ... 1 thick)."""
    big = Image.fromarray(digit).resize((size, size), Image.Resampling.BICUBIC)
    # The bright core of an MNIST stroke is a thin line, its faint halo a thick one.
    threshold = int(np.interp(pen, [0, 1], [210, 40]))
    mask = Image.fromarray(((np.asarray(big) > threshold) * 255).astype(np.uint8))
    grow = int(round(np.interp(pen, [0, 1], [0, size / 28 * 1.2])))
    if grow >= 1:
        mask = mask.filter(ImageFilter.MaxFilter(2 * (grow // 2) + 1))
    # Canvas strokes are anti-aliased along their edges.
    return np.asarray(mask.filter(ImageFilter.GaussianBlur(1.0)))


def redraw(digit: np.ndarray, rng: np.random.Generator, style: str = "transparent",
           canvas: int = 280) -> Image.Image:
    size = int(rng.integers(100, 261))
    ink = pen_mask(digit, size, float(rng.random()))
    top, left = (int(rng.integers(0, canvas - size + 1)) for _ in range(2))
    alpha = np.zeros((canvas, canvas), np.uint8)
    alpha[top:top + size, left:left + size] = ink
    if style == "transparent":  # what canvas.toBlob() sends: black, alpha = ink
        rgba = np.zeros((canvas, canvas, 4), np.uint8)
        rgba[..., 3] = alpha
        return Image.fromarray(rgba, "RGBA")
    if style == "white":  # dark ink on white paper
        return Image.fromarray(255 - alpha, "L").convert("RGB")
    if style == "dark":  # light chalk on a dark board, MNIST's own polarity
        grey = (30 + alpha.astype(np.float32) * (225 / 255)).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    raise ValueError(style)


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def scan(digit: np.ndarray, rng: np.random.Generator, size: int = 160) -> Image.Image:
    """Dark ink on grey, grainy paper, as a flatbed scanner or phone photo gives it."""
    ink = redraw(digit, rng, "transparent", canvas=size + 120).getchannel("A")
    ink = np.asarray(ink.resize((size, size), Image.Resampling.BILINEAR), np.float32) / 255
    paper = rng.normal(rng.uniform(150, 200), 8, (size, size))
    pen = rng.uniform(20, 60)
    grey = paper * (1 - ink) + pen * ink
    return Image.fromarray(grey.clip(0, 255).astype(np.uint8), "L").convert("RGB")


def jpeg_bytes(image: Image.Image, quality: int = 75) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
