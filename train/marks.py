"""Numbers written with marks as people write them on the pad: a decimal point, a minus
sign, a thousands comma; and digits with marks that are no part of a number: a plus
between them, a ring round one, a line under them. Training never reads them: they
measure the number reader (export/honesty.py, the tests).

``write(text, rng, mnist)`` draws a string of digits and marks ("3.14", "-52", "1,000",
"2+2") with MNIST digits (``mnist``: images and labels, white on black) and pen strokes of
the digits' own thickness, on a canvas as the page sends it; ``around`` draws a ring round
it or a line under it; ``marked_numbers`` makes a set of each kind, with what a right
reading gives.
"""

from __future__ import annotations

import itertools

import numpy as np
from PIL import Image, ImageDraw

from serve.core.segment import pen_width
from train.drawn import ink_only, on_canvas, pen_mask

MARKS = ".,-+"


def digit_inks(
    rng: np.random.Generator, digits: str, mnist: tuple, size: int, pen: float
) -> list[np.ndarray]:
    """An MNIST digit for each character of ``digits``, drawn about ``size`` px tall."""
    images, labels = mnist
    inks = []
    for char in digits:
        choices = np.flatnonzero(labels == int(char))
        digit = images[int(rng.choice(choices))]
        inks.append(ink_only(pen_mask(digit, int(size * rng.uniform(0.9, 1.05) * 28 / 20), pen)))
    return inks


def stroke_width(ink: np.ndarray) -> int:
    """The pen's width in a drawn digit, as the reader measures it."""
    return max(3, round(pen_width(ink > 128)))


def mark_ink(mark: str, size: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A mark drawn with a pen ``width`` px wide, for digits ``size`` px tall, in its own
    box (the box's height says where it sits: see ``place``)."""
    jitter = lambda: rng.uniform(-0.04, 0.04) * size  # noqa: E731
    if mark == ".":
        side = min(max(width + 2, int(width * rng.uniform(1.0, 1.6))), int(0.3 * size))
        image = Image.new("L", (side + 4, side + 4), 0)
        ImageDraw.Draw(image).ellipse([2, 2, side + 1, side + 1], fill=255)
    elif mark == ",":
        # A blob with a tail curling down and to the left.
        length = min(max(int(size * rng.uniform(0.2, 0.32)), int(2.5 * width)), int(0.4 * size))
        image = Image.new("L", (length + width * 2, length + width * 2), 0)
        draw = ImageDraw.Draw(image)
        x, y = width + length * rng.uniform(0.3, 0.5), width
        draw.ellipse([x - width * 0.7, y - width * 0.2, x + width * 0.7, y + width * 1.2], fill=255)
        tail = [
            (x, y + width * 0.5),
            (x - length * 0.1, y + length * 0.6),
            (x - length * 0.3, y + length),
        ]
        draw.line(tail, fill=255, width=max(3, int(width * rng.uniform(0.6, 1.0))), joint="curve")
    elif mark in "-+":
        span = int(size * rng.uniform(0.4, 0.7))
        image = Image.new("L", (span + 2 * width, span + 2 * width), 0)
        draw = ImageDraw.Draw(image)
        middle = (span + 2 * width) / 2
        draw.line(
            [(width, middle + jitter()), (span + width, middle + jitter())], fill=255, width=width
        )
        if mark == "+":
            draw.line(
                [(middle + jitter(), width), (middle + jitter(), span + width)],
                fill=255,
                width=width,
            )
    else:
        raise ValueError(mark)
    return ink_only(np.asarray(image))


def place(mark: str, ink: np.ndarray, top: int, size: int) -> int:
    """Where a mark's top goes, for digits whose tops are at ``top`` and ``size`` px tall:
    points and commas on the baseline, signs at mid-height."""
    if mark == ".":
        return top + size - ink.shape[0]
    if mark == ",":
        return top + size - ink.shape[0] // 3
    return top + size // 2 - ink.shape[0] // 2


def write(
    text: str, rng: np.random.Generator, mnist: tuple, gaps: tuple[float, float] = (0.05, 0.35)
) -> Image.Image:
    """``text`` (digits and the MARKS) written on one canvas, left to right, with one pen."""
    size = int(rng.integers(90, 170))
    pen = float(rng.random())
    digits = [c for c in text if c.isdigit()]
    inks = iter(digit_inks(rng, "".join(digits), mnist, size, pen))
    drawn = [next(inks) if c.isdigit() else None for c in text]
    width = int(np.median([stroke_width(d) for d in drawn if d is not None]))
    drawn = [
        d if d is not None else mark_ink(c, size, width, rng)
        for c, d in zip(text, drawn, strict=True)
    ]
    margin = 30
    tops = []
    for c, ink in zip(text, drawn, strict=True):
        base = margin + int(size * rng.uniform(-0.05, 0.05))
        tops.append(base + (size - ink.shape[0]) if c.isdigit() else place(c, ink, base, size))
    # A mark is drawn a little apart from its digits: closer, it would join one of them.
    spaces = [
        int(size * rng.uniform(max(gaps[0], 0.1) if mark else gaps[0], gaps[1]))
        for mark in (not (a.isdigit() and b.isdigit()) for a, b in itertools.pairwise(text))
    ]
    canvas_w = sum(ink.shape[1] for ink in drawn) + sum(spaces) + 2 * margin
    canvas_h = max(top + ink.shape[0] for top, ink in zip(tops, drawn, strict=True)) + margin
    canvas = np.zeros((max(canvas_h, 280), canvas_w), np.uint8)
    x = margin
    for ink, top, space in zip(drawn, tops, [0, *spaces], strict=True):
        x += space
        top = max(top, 0)
        region = canvas[top : top + ink.shape[0], x : x + ink.shape[1]]
        np.maximum(region, ink[: region.shape[0], : region.shape[1]], out=region)
        x += ink.shape[1]
    return on_canvas(canvas)


def around(drawing: Image.Image, rng: np.random.Generator, how: str) -> Image.Image:
    """A drawing (as ``write`` makes it) with a ring round its ink, or a line under it."""
    alpha = np.asarray(drawing.getchannel("A"))
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1], cols[0], cols[-1]
    height = bottom - top
    width = stroke_width(alpha)
    pad = int(height * 0.35)
    canvas = Image.new("L", (alpha.shape[1] + 2 * pad, alpha.shape[0] + 2 * pad), 0)
    canvas.paste(Image.fromarray(alpha), (pad, pad))
    draw = ImageDraw.Draw(canvas)
    top, bottom, left, right = top + pad, bottom + pad, left + pad, right + pad
    if how == "ring":
        grow = height * rng.uniform(0.15, 0.3)
        box = [left - grow, top - grow, right + grow, bottom + grow]
        draw.ellipse(box, outline=255, width=width)
    elif how == "underline":
        y = bottom + height * rng.uniform(0.08, 0.2)
        reach = (right - left) * rng.uniform(0.0, 0.1)
        draw.line(
            [(left - reach, y), (right + reach, y + rng.uniform(-0.05, 0.05) * height)],
            fill=255,
            width=width,
        )
    else:
        raise ValueError(how)
    return on_canvas(np.asarray(canvas))


def random_number(rng: np.random.Generator, digits: tuple[int, int]) -> str:
    """Between ``digits[0]`` and ``digits[1]`` digits, the first not a 0 unless alone."""
    count = int(rng.integers(digits[0], digits[1] + 1))
    first = str(rng.integers(1, 10)) if count > 1 else str(rng.integers(0, 10))
    return first + "".join(str(d) for d in rng.integers(0, 10, count - 1))


# What a right reading of each kind gives: the text written (a comma may be left out), or
# no number (None), or under a line the digits alone.
MARKED = {
    "decimal point": "read exactly",
    "leading minus": "read exactly",
    "thousands comma": "the value kept",
    "plus between digits": "no number",
    "ring round a digit": "no number",
    "line under digits": "the digits alone, or no number",
}


def marked_numbers(kind: str, count: int, rng: np.random.Generator, mnist: tuple):
    """``count`` drawings of one of MARKED's kinds: (drawing, the set of right readings)."""
    for _ in range(count):
        if kind == "decimal point":
            text = random_number(rng, (1, 2)) + "." + random_number(rng, (1, 2))
            yield write(text, rng, mnist), {text}
        elif kind == "leading minus":
            text = "-" + random_number(rng, (1, 3))
            yield write(text, rng, mnist), {text}
        elif kind == "thousands comma":
            text = random_number(rng, (1, 2)) + "," + "".join(map(str, rng.integers(0, 10, 3)))
            yield write(text, rng, mnist), {text, text.replace(",", "")}
        elif kind == "plus between digits":
            text = random_number(rng, (1, 1)) + "+" + random_number(rng, (1, 1))
            yield write(text, rng, mnist), {None}
        elif kind == "ring round a digit":
            yield around(write(random_number(rng, (1, 1)), rng, mnist), rng, "ring"), {None}
        elif kind == "line under digits":
            text = random_number(rng, (1, 3))
            yield around(write(text, rng, mnist), rng, "underline"), {None, text}
        else:
            raise ValueError(kind)
