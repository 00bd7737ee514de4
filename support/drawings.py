"""Drawings as the page and other clients send them: canvases, redrawn MNIST test digits,
scans; encoded as PNG or JPEG bytes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from train.drawn import redraw

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_MODEL = ROOT / "models" / "mnist.onnx"


def canvas_png(
    draw, size=280, mode="RGBA", background=(0, 0, 0, 0), ink=(0, 0, 0, 255), width=18
) -> bytes:
    """A PNG like the page's canvas sends; ``draw(d, ink, width)`` puts strokes on it."""
    image = Image.new(mode, (size, size), background)
    draw(ImageDraw.Draw(image), ink, width)
    return encode(image)


def encode(image: Image.Image, fmt="PNG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def seven(d, ink, width):
    d.line([(70, 60), (210, 60), (120, 230)], fill=ink, width=width, joint="curve")


def one(d, ink, width):
    d.line([(140, 40), (140, 240)], fill=ink, width=width)


def zero(d, ink, width):
    d.ellipse([(85, 40), (195, 240)], outline=ink, width=width)


def scribble(d, ink, width):
    """A pen scrubbed back and forth over the pad: no digit."""
    d.line([(40 + 200 * (i % 2), 40 + 14 * i) for i in range(15)], fill=ink, width=width)
    d.line([(50 + 13 * i, 240 - 200 * (i % 2)) for i in range(14)], fill=ink, width=width)


def letter_a(d, ink, width):
    d.line([(60, 240), (140, 40), (220, 240)], fill=ink, width=width, joint="curve")
    d.line([(95, 160), (185, 160)], fill=ink, width=width)


def plus_in_a_ring(d, ink, width):
    """A plus drawn apart inside a ring: two marks, and no digit among them."""
    d.ellipse([40, 40, 240, 240], outline=ink, width=width)
    d.line([(110, 140), (170, 140)], fill=ink, width=width)
    d.line([(140, 110), (140, 170)], fill=ink, width=width)


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(digit.shape)
    return (rows * digit).sum() / digit.sum(), (cols * digit).sum() / digit.sum()


# --- MNIST digits re-drawn as people's screens and scanners send them -------------------
# A 28x28 MNIST digit is scaled up to a random size, re-inked with a thinner or thicker
# pen, anti-aliased like a canvas, and placed at a random spot of a 280x280 canvas; then
# encoded as a browser would (black ink on transparent PNG), on white, or light-on-dark.

SAMPLE = Path(__file__).resolve().parent / "data" / "mnist_test_sample.npz"
STYLES = ("transparent", "white", "dark")


def mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """2,000 MNIST test digits (white on black, uint8) and their labels."""
    with np.load(SAMPLE) as data:
        return data["images"], data["labels"]


def png_bytes(image: Image.Image) -> bytes:
    return encode(image)


def scan(digit: np.ndarray, rng: np.random.Generator, size: int = 160) -> Image.Image:
    """Dark ink on grey, grainy paper, as a flatbed scanner or phone photo gives it."""
    ink = redraw(digit, rng, "transparent", canvas=size + 120).getchannel("A")
    ink = np.asarray(ink.resize((size, size), Image.Resampling.BILINEAR), np.float32) / 255
    paper = rng.normal(rng.uniform(150, 200), 8, (size, size))
    pen = rng.uniform(20, 60)
    grey = paper * (1 - ink) + pen * ink
    return Image.fromarray(grey.clip(0, 255).astype(np.uint8), "L").convert("RGB")


def jpeg_bytes(image: Image.Image, quality: int = 75) -> bytes:
    return encode(image, "JPEG", quality=quality)
