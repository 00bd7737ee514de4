"""Digits in styles MNIST's writers rarely used, drawn by a shaky pen, to train and measure on.

  flagged one   a 1 with a flag (short, middling or long) and sometimes a foot, as much of
                Europe writes it; MNIST's 1s are mostly a bare stroke, so a long flag reads 7
  crossed seven a 7 with a flat top, often a bar across its stem,
                so that teaching flagged 1s does not teach that a 7 is a 1
  closed four   a 4 whose slanted stroke meets the top of its stem, a triangle with the
                bar reaching past the stem, sometimes a foot: as print has it and many
                write it; MNIST's 4s are mostly open, and a closed 4 is near an "A", a
                letter training teaches is no digit

Each is drawn the way train/negatives.py draws its marks (white ink on a 112 px pad, a pen
of random width, strokes bent by a wobbling hand) and put through the server's
preprocessing. Training draws them with seeds near its own; the model card measures them
with another seed.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from train.negatives import PAD, canvas, pen, to_model_digit, wobble

# A flag's length, as a share of the stem's height.
FLAGS = {"short": (0.12, 0.25), "middling": (0.25, 0.45), "long": (0.45, 0.7)}
TOP, BOTTOM = 14, PAD - 14


def strokes_image(rng: np.random.Generator, strokes: list[np.ndarray]) -> Image.Image:
    image, draw = canvas()
    width = pen(rng)
    for stroke in strokes:
        line = wobble(stroke, rng, rng.uniform(0.5, 2.5))
        draw.line([tuple(p) for p in line], fill=255, width=width, joint="curve")
    return image.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BILINEAR)


def flagged_one(rng: np.random.Generator, flag: str | None = None) -> Image.Image:
    """A stem leaning a little either way, a flag down-left from its top, sometimes a foot."""
    low, high = FLAGS[flag or str(rng.choice(list(FLAGS)))]
    height = BOTTOM - TOP
    top = np.array([PAD / 2 + rng.uniform(-0.05, 0.12) * height, TOP])
    bottom = np.array([PAD / 2 - rng.uniform(-0.05, 0.12) * height, BOTTOM])
    length = rng.uniform(low, high) * height
    drop = math.radians(rng.uniform(25, 60))  # below the horizontal: a 7's top is flat
    tip = top + length * np.array([-math.cos(drop), math.sin(drop)])
    strokes = [np.array([tip, top, bottom])]  # one stroke, as the pen goes
    if rng.random() < 0.4:
        half = rng.uniform(0.15, 0.3) * height
        strokes.append(np.array([bottom - [half, 0], bottom + [half, 0]]))
    return strokes_image(rng, strokes)


def crossed_seven(rng: np.random.Generator) -> Image.Image:
    """A flat top, a stem down-left from its right end, often a bar across the stem."""
    height = BOTTOM - TOP
    width = rng.uniform(0.45, 0.75) * height
    left = np.array([PAD / 2 - width / 2, TOP + rng.uniform(-4, 4)])
    right = np.array([PAD / 2 + width / 2, TOP + rng.uniform(-4, 4)])
    foot = np.array([PAD / 2 - rng.uniform(-0.1, 0.25) * height, BOTTOM])
    # No hook down from the top's left end: a hooked 7 is close to an open 9, and MNIST
    # has enough of them.
    strokes = [np.array([left, right, foot])]
    if rng.random() < 0.6:  # a bar across the stem, halfway down
        middle = (right + foot) / 2 + [0, rng.uniform(-8, 8)]
        half = rng.uniform(0.15, 0.3) * height
        strokes.append(np.array([middle - [half, 0], middle + [half, 0]]))
    return strokes_image(rng, strokes)


def closed_four(rng: np.random.Generator) -> Image.Image:
    """A stem, a stroke from its top down-left to a bar that reaches past the stem;
    sometimes a foot across the stem's end."""
    height = BOTTOM - TOP
    stem_x = PAD / 2 + rng.uniform(0.05, 0.2) * height
    top = np.array([stem_x + rng.uniform(-0.05, 0.05) * height, TOP])
    bottom = np.array([stem_x, BOTTOM])
    bar_y = TOP + rng.uniform(0.55, 0.75) * height
    left = np.array([stem_x - rng.uniform(0.35, 0.6) * height, bar_y])
    right = np.array([stem_x + rng.uniform(0.1, 0.25) * height, bar_y + rng.uniform(-3, 3)])
    strokes = [np.array([top, left, right]), np.array([top, bottom])]  # two strokes, as written
    if rng.random() < 0.4:
        half = rng.uniform(0.1, 0.2) * height
        strokes.append(np.array([bottom - [half, 0], bottom + [half, 0]]))
    return strokes_image(rng, strokes)


STYLES = ((flagged_one, 1), (crossed_seven, 7), (closed_four, 4))


def styled_digits(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` uint8 (28, 28) digits, a third of each style, preprocessed like an
    upload, with their labels."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for i in range(count):
        draw, label = STYLES[i % len(STYLES)]
        digit = to_model_digit(draw(rng))
        if digit is not None:
            images.append(digit)
            labels.append(label)
    return np.stack(images), np.array(labels, np.int32)
