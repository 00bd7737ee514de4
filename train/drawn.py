"""Digits as people draw them on the page: MNIST digits re-drawn as canvas strokes.

The page's canvas sends black ink on transparent pixels, at any size and place on a
280x280 pad, drawn with a thin or thick pen and anti-aliased. ``redraw`` makes such a
drawing from an MNIST digit, so the tests, the benchmarks and the model card can measure
the model on drawings whose true digit is known.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

# The gaps between the digits of a number, in the digits' height: from overlapping a
# little to well apart.
GAPS = (-0.05, 0.45)


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


def on_canvas(ink: np.ndarray) -> Image.Image:
    """Ink strength (0-255) as canvas.toBlob() sends it: black, with alpha = ink."""
    rgba = np.zeros((*ink.shape, 4), np.uint8)
    rgba[..., 3] = ink
    return Image.fromarray(rgba, "RGBA")


def redraw(
    digit: np.ndarray, rng: np.random.Generator, style: str = "transparent", canvas: int = 280
) -> Image.Image:
    size = int(rng.integers(100, 261))
    ink = pen_mask(digit, size, float(rng.random()))
    top, left = (int(rng.integers(0, canvas - size + 1)) for _ in range(2))
    alpha = np.zeros((canvas, canvas), np.uint8)
    alpha[top : top + size, left : left + size] = ink
    if style == "transparent":
        return on_canvas(alpha)
    if style == "white":  # dark ink on white paper
        return Image.fromarray(255 - alpha, "L").convert("RGB")
    if style == "dark":  # light chalk on a dark board, MNIST's own polarity
        grey = (30 + alpha.astype(np.float32) * (225 / 255)).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    raise ValueError(style)


def ink_only(mask: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def draw_number(
    digits: np.ndarray,
    rng: np.random.Generator,
    height: int = 280,
    margin: int = 20,
    gaps: tuple[float, float] = GAPS,
) -> Image.Image:
    """MNIST digits written side by side on one canvas, as a number is written on the pad:
    one pen for the whole number, each digit a little larger or smaller than the last,
    its baseline wandering, the gaps uneven: between ``gaps`` of the digits' height
    (below 0, the boxes overlap)."""
    size = int(rng.integers(110, 190))  # the writer's digit height
    pen = float(rng.random())
    inks = [
        ink_only(pen_mask(d, int(size * rng.uniform(0.85, 1.1) * 28 / 20), pen)) for d in digits
    ]
    spaces = [int(size * rng.uniform(*gaps)) for _ in inks[1:]]
    width = sum(ink.shape[1] for ink in inks) + sum(spaces) + 2 * margin
    tallest = max(ink.shape[0] for ink in inks)
    canvas = np.zeros((max(height, tallest + 2 * margin), max(width, 2 * margin + 1)), np.uint8)
    x = margin
    for ink, space in zip(inks, [0, *spaces], strict=True):
        x += space
        wander = int(size * rng.uniform(-0.08, 0.08))
        top = min(
            max((canvas.shape[0] - ink.shape[0]) // 2 + wander, 0), canvas.shape[0] - ink.shape[0]
        )
        left = max(x, 0)
        region = canvas[top : top + ink.shape[0], left : left + ink.shape[1]]
        np.maximum(region, ink[:, : region.shape[1]], out=region)
        x = left + ink.shape[1]
    return on_canvas(canvas)


def numbers(
    images: np.ndarray,
    labels: np.ndarray,
    count: int,
    seed: int,
    lengths: tuple[int, ...] = (2, 3, 4),
    gaps: tuple[float, float] = GAPS,
):
    """``count`` numbers of ``lengths`` of the digits ``images`` (labelled ``labels``),
    each written with ``draw_number``: (drawing, the number written) pairs."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        picked = rng.integers(0, len(images), int(rng.choice(lengths)))
        yield draw_number(images[picked], rng, gaps=gaps), "".join(map(str, labels[picked]))
