"""Digits by other writers: the digits of Hershey's stroke fonts drawn as people draw them
on the page — the development set that is not MNIST.

MNIST's writers share a hand: upright, print-like, written with one kind of pen and
scanned at one resolution. A model can read MNIST almost perfectly and still misread
digits slanted the other way, written in a cursive hand, with a hairline pen or scanned
small. Here each digit is a glyph of one of six stroke fonts (plain and bold, sans, serif
and italic), drawn as a writer would: slanted either way, stretched, turned, by a shaky
pen (train/negatives.wobble), the whole glyph bent, the pen thin or thick, a stroke now
and then broken where a fast pen skipped; at any size and place on the page's 280x280
pad, sent as the page sends it (black ink, alpha = ink). The same drawings come as small
scans too (the ink 8-14 px tall, scaled back up: dark, blurred ink on white paper), and
as numbers of a few digits written side by side by one writer.

These drawings are used only to measure (the model card, the benchmarks, the tests),
never to train: a set the model has never been fitted to, nor tuned on, is the only
honest measure of how it reads hands unlike MNIST's.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from train.drawn import on_canvas
from train.negatives import hershey, wobble

PAD = 280  # the page's pad
MARGIN = 8  # ink is kept this far inside the pad
# One font for each distinct set of digit shapes in Hershey's fonts (the others repeat
# these: cursive, greek and rowmans have futural's digits, rowmand futuram's, timesi and
# scriptc scripts', timesrb rowmant's). The gothic fonts' blackletter digits and the
# Japanese font's numerals are left out: no one writes digits like them. The value is the
# font's "nib": its bold strokes are two or three lines this many font units apart, which
# a pen at least that wide joins into one thick stroke, as a broad pen draws it.
FONTS = {
    "futural": 0,  # plain sans, one line
    "futuram": 1,  # sans, bold
    "timesr": 1,  # serif
    "rowmant": 2,  # serif, bold
    "scripts": 1,  # italic
    "timesib": 2,  # italic, bold
}
HEIGHT = 21  # font units from the top to the foot of a Hershey digit


@dataclass(frozen=True)
class Hand:
    """What stays the same in every digit one writer draws."""

    font: str
    pen: float  # px
    slant: float  # x moves by slant * y, y growing downwards: below 0 the digit leans right
    stretch: float  # width against the font's

    @classmethod
    def of(cls, rng: np.random.Generator) -> Hand:
        return cls(
            font=str(rng.choice(list(FONTS))),
            # Pens on the page run from 3 to about 30 px; thin ones are the more common.
            pen=float(np.exp(rng.uniform(math.log(3), math.log(30)))),
            slant=float(rng.uniform(-0.45, 0.45)),
            stretch=float(rng.uniform(0.75, 1.3)),
        )

    def pen_for(self, height: float) -> float:
        """The pen at a digit ``height`` px tall: wide enough to join the font's bold
        strokes, and no wider than a legible digit allows."""
        nib = FONTS[self.font] * height / HEIGHT + 2
        return min(max(self.pen, nib), max(3.0, 0.16 * height))


def bend(rng: np.random.Generator, size: float):
    """A smooth elastic bend of the whole glyph: each point moved by a slow wave across the
    glyph, so strokes curve together instead of each jittering on its own."""
    amplitude = rng.uniform(0, 0.06 * size, 2)
    turn = rng.uniform(0, 2 * math.pi, 2)
    waves = np.column_stack([np.cos(turn), np.sin(turn)]) * 2 * math.pi / (size * 1.5)
    phase = rng.uniform(0, 2 * math.pi, 2)
    return lambda points: points + amplitude * np.sin(points @ waves.T + phase)


def skip(strokes: list[np.ndarray], rng: np.random.Generator, pen: float) -> list[np.ndarray]:
    """A fast pen: one long stroke broken by a small gap."""
    longest = max(range(len(strokes)), key=lambda i: len(strokes[i]))
    stroke = strokes[longest]
    # The strokes are points 2 px apart (wobble), so the gap is in points: the pen's round
    # ends close in from both sides, so the gap must be wider than the pen to show.
    gap = int((pen + rng.uniform(3, 10)) / 2)
    if len(stroke) < gap + 8:
        return strokes
    start = int(rng.integers(4, len(stroke) - gap - 3))
    parts = [stroke[:start], stroke[start + gap :]]
    return strokes[:longest] + parts + strokes[longest + 1 :]


def glyph(digit: int, hand: Hand, height: float, rng: np.random.Generator) -> list[np.ndarray]:
    """The strokes of ``digit`` as ``hand`` draws it ``height`` px tall, in px around the
    glyph's centre."""
    strokes = [np.array(s, float) for s in hershey(hand.font).strokes_for_text(str(digit))]
    strokes = [s for s in strokes if len(s) > 1]
    every = np.concatenate(strokes)
    centre = (every.min(axis=0) + every.max(axis=0)) / 2
    angle = math.radians(rng.uniform(-12, 12))
    turn = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    shape = np.array([[hand.stretch, hand.slant], [0, 1]]) * height / HEIGHT
    # Each stroke shakes on its own, so the lines of a bold font shake less, or they
    # would part; the bend moves them all together.
    shaky = rng.uniform(0.005, 0.025) * height / (1 + FONTS[hand.font])
    bent = bend(rng, height)
    return [bent(wobble((s - centre) @ shape.T @ turn.T, rng, shaky)) for s in strokes]


def ink(strokes: list[np.ndarray], pen: float, shape: tuple[int, int]) -> np.ndarray:
    """The strokes drawn with a round pen (as the page's canvas draws them), anti-aliased:
    ink strength 0-255, ``shape`` (rows, columns)."""
    image = Image.new("L", shape[::-1], 0)
    draw = ImageDraw.Draw(image)
    width, r = max(1, round(pen)), pen / 2
    for stroke in strokes:
        draw.line([tuple(p) for p in stroke], fill=255, width=width, joint="curve")
        for x, y in (stroke[0], stroke[-1]):  # round ends
            draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    return np.asarray(image.filter(ImageFilter.GaussianBlur(1.0)))


def span(strokes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    every = np.concatenate(strokes)
    return every.min(axis=0), every.max(axis=0)


def drawn_digit(digit: int, rng: np.random.Generator) -> Image.Image:
    """One digit by a writer of its own, at a random size and place on the pad."""
    hand = Hand.of(rng)
    height = rng.uniform(80, 230)
    pen = hand.pen_for(height)
    strokes = glyph(digit, hand, height, rng)
    if rng.random() < 0.25:
        strokes = skip(strokes, rng, pen)
    low, high = span(strokes)
    # A wide, slanted glyph may not fit the pad: shrink it to fit, pen and all.
    fit = min(1.0, (PAD - 2 * MARGIN - pen) / (high - low).max())
    strokes = [(s - low) * fit for s in strokes]
    room = PAD - 2 * MARGIN - pen - (high - low) * fit
    place = MARGIN + pen / 2 + rng.uniform(0, 1, 2) * room
    return on_canvas(ink([s + place for s in strokes], pen * fit, (PAD, PAD)))


def balanced_labels(count: int, rng: np.random.Generator) -> np.ndarray:
    """Each digit equally often (within one), in random order."""
    return rng.permutation(np.arange(count) % 10)


def small_scan(drawing: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The drawing reduced until its ink is 8-14 px tall and scaled back up: the blur of a
    small scan. Dark ink on white paper (RGB)."""
    alpha = drawing.getchannel("A")
    top, bottom = alpha.getbbox()[1::2]
    scale = rng.uniform(8, 14) / (bottom - top)
    side = max(1, round(drawing.width * scale))
    small = np.asarray(alpha.resize((side, side), Image.Resampling.BOX), np.float32)
    # A scanner's levels make the darkest ink black, however thin the pen was.
    small = Image.fromarray((small * (255 / max(small.max(), 1))).astype(np.uint8))
    blurred = small.resize(drawing.size, Image.Resampling.BILINEAR)
    return Image.fromarray(255 - np.asarray(blurred), "L").convert("RGB")


def drawings(
    count: int, seed: int, small: bool = False
) -> tuple[Iterator[Image.Image], np.ndarray]:
    """``count`` digits by other writers, as the page sends them (RGBA 280x280) or, if
    ``small``, as small blurred scans (RGB), and their labels. The drawings are made as
    they are taken: two thousand at once would hold 600 MB."""
    rng = np.random.default_rng(seed)
    labels = balanced_labels(count, rng)
    made = (drawn_digit(int(d), rng) for d in labels)
    if small:
        scanner = np.random.default_rng([seed, 1])
        made = (small_scan(drawing, scanner) for drawing in made)
    return made, labels


def written_number(digits: list[int], rng: np.random.Generator) -> Image.Image:
    """Digits side by side by one writer (one font, one pen, one slant), each a little
    larger or smaller than the last, its baseline wandering, the gaps uneven (as
    train/drawn.draw_number writes MNIST's digits)."""
    hand = Hand.of(rng)
    size = rng.uniform(110, 190)  # the writer's digit height
    pen = hand.pen_for(size)
    strokes, x = [], MARGIN + pen / 2
    for digit in digits:
        shapes = glyph(digit, hand, size * rng.uniform(0.85, 1.1), rng)
        low, high = span(shapes)
        wander = size * rng.uniform(-0.08, 0.08)
        strokes += [s - low + (x, wander - (high - low)[1] / 2) for s in shapes]
        # The gap is between the inks' boxes, the pen's width included.
        x += (high - low)[0] + pen + size * rng.uniform(-0.05, 0.45)
    low, high = span(strokes)
    rows = max(PAD, math.ceil(high[1] - low[1] + pen + 2 * MARGIN))
    columns = math.ceil(high[0] + pen / 2 + MARGIN)
    middle = rows / 2 - (low[1] + high[1]) / 2
    return on_canvas(ink([s + (0, middle) for s in strokes], pen, (rows, columns)))


def numbers(
    count: int, seed: int, lengths: tuple[int, ...] = (2, 3)
) -> Iterator[tuple[Image.Image, str]]:
    """``count`` numbers of ``lengths`` digits by other writers, as the page sends them,
    each with its text; made as they are taken."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        digits = [int(d) for d in rng.integers(0, 10, int(rng.choice(lengths)))]
        yield written_number(digits, rng), "".join(map(str, digits))
