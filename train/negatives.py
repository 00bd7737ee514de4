"""Images that are not one digit, for teaching the model to say so and for measuring it.

Each kind is drawn the way a person would on the page's pad (white ink on black, a pen of
random width), then put through the server's own preprocessing (crop to the ink, fit 20
px, centre by mass), so the model learns from exactly what it will be shown:

  scribble  a zigzag or a random walk of the pen
  zigzag    a saw or a spring of six to twelve strokes
  hatching  parallel strokes, sometimes crossed
  shape     squares, triangles, stars, hashes, spirals, filled blobs (no circles: a
            circle is a 0)
  doodle    three or four long strokes, straight or curved, thrown together
  pair      two MNIST digits side by side, apart, touching or overlapping a little ("42"
            sent as a digit, or two digits of a number read as one blob)
  speck     a nearly blank pad: one or a few stray dots
  letter    handwritten-looking letters that look like no digit: the single-stroke
            Hershey fonts (sans, script, roman), drawn with a wobbling pen
  printed   letters of a printed (outline) font, turned and sheared a little
  symbol    Greek letters drawn with a wobbling pen
  sign      signs of mathematics and astronomy drawn with a wobbling pen (± % √ ∞ → ♂ ...)
  fashion   Fashion-MNIST clothing (Debian's dataset-fashion-mnist): real photographs,
            trained on its training images, measured on its test images, as MNIST's
            digits are

Some kinds are kept out of training entirely (``HELD_OUT``) and only measured, as the
honest test of whether "not a digit" generalises.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from HersheyFonts import HersheyFonts
from PIL import Image, ImageDraw, ImageFont

from serve.core.errors import BlankImage
from serve.core.preprocess import preprocess_array
from train.drawn import on_canvas

PAD = 112  # drawing size; the preprocessing scales every drawing to 20x20 anyway
FASHION = Path("/usr/share/datasets/fashion-mnist")
# Letters no one would read as a digit (no O, I, l, S, Z, B, G, b, g, q ...).
LETTERS = "ACEFHKMNPRUVWXYacefhkmnprtuvwxy"
# Hands, not type: a serif font's letters (Hershey's timesr) taught the model that a stroke
# with feet, or a closed triangle like an A's, is no digit, and it refused closed 4s and
# serif 1s by other writers.
HAND_FONTS = ("futural", "scripts", "cursive", "rowmans")
# In Hershey's Greek font these keys give letters unlike any digit (alpha, beta, chi,
# epsilon, phi, gamma, eta, kappa, mu, nu, pi, omega, xi, psi; Delta, Phi, Gamma, Lambda,
# Pi, Sigma, Psi...).
GREEK_KEYS = "abcefghkmnpwxyDFGLPRSY"
# Signs unlike any digit from Hershey's mathematical and astrological fonts: no O, |,
# brackets, integral or partial signs, no parallel strokes (as hatching's), and none of the
# Greek letters these fonts also hold ("symbol" has those).
SIGNS = {"mathupp": "!#$%*+.<>^_bdefghiknwx~", "astrology": "#$%&'@[]`{|}"}
HELD_OUT = ("printed", "symbol", "sign", "zigzag", "hatching")


def pen(rng: np.random.Generator) -> int:
    return int(rng.integers(3, 14))


def canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (PAD, PAD), 0)
    return image, ImageDraw.Draw(image)


def points(rng: np.random.Generator, count: int, margin: int = 10) -> list[tuple]:
    return [tuple(rng.uniform(margin, PAD - margin, 2)) for _ in range(count)]


def scribble(rng: np.random.Generator) -> Image.Image:
    image, draw = canvas()
    if rng.random() < 0.5:  # a zigzag across the pad
        path = points(rng, int(rng.integers(5, 14)))
    else:  # a wandering pen
        steps = rng.normal(0, 9, (int(rng.integers(20, 60)), 2)).cumsum(axis=0)
        path = [tuple(p) for p in (steps - steps.mean(axis=0) + PAD / 2)]
    draw.line(path, fill=255, width=pen(rng), joint="curve")
    return image


def zigzag(rng: np.random.Generator) -> Image.Image:
    """A saw or a spring: six to twelve strokes back and forth, going down or across.
    (Four or five may fairly be a Z or a pointed 3; more turns than that are no digit.)"""
    image, draw = canvas()
    strokes = int(rng.integers(6, 13))
    along = np.linspace(15, PAD - 15, strokes + 1) + rng.normal(0, 2, strokes + 1)
    reach = rng.uniform(15, 45)
    across = PAD / 2 + reach * np.where(np.arange(strokes + 1) % 2, 1, -1)
    across = across + rng.normal(0, reach * 0.15, strokes + 1)
    path = np.column_stack([across, along] if rng.random() < 0.6 else [along, across])
    draw.line([tuple(p) for p in wobble(path, rng, 1.5)], fill=255, width=pen(rng), joint="curve")
    return image.rotate(rng.uniform(-20, 20), resample=Image.Resampling.BILINEAR)


def hatching(rng: np.random.Generator) -> Image.Image:
    """Three to eight parallel strokes, sometimes crossed by a second set."""
    image, draw = canvas()
    width = pen(rng)
    for _ in range(1 if rng.random() < 0.6 else 2):
        turn = rng.uniform(0, math.pi)
        lines = int(rng.integers(3, 9))
        half, spacing = rng.uniform(25, 45), rng.uniform(7, 14)
        direction = np.array([math.cos(turn), math.sin(turn)])
        normal = np.array([-direction[1], direction[0]])
        for k in np.arange(lines) - (lines - 1) / 2:
            middle = PAD / 2 + k * spacing * normal
            draw.line(
                [tuple(middle - half * direction), tuple(middle + half * direction)], 255, width
            )
    return image


def polygon(rng: np.random.Generator, corners: int, star: bool = False) -> list[tuple]:
    centre, radius = PAD / 2, rng.uniform(25, 45)
    turn = rng.uniform(0, 2 * math.pi)
    out = []
    for i in range(corners * (2 if star else 1)):
        r = radius * (0.45 if star and i % 2 else 1.0)
        angle = turn + 2 * math.pi * i / (corners * (2 if star else 1))
        out.append((centre + r * math.cos(angle), centre + r * math.sin(angle)))
    return out


def shape(rng: np.random.Generator) -> Image.Image:
    image, draw = canvas()
    width, kind = pen(rng), int(rng.integers(6))
    if kind == 0:
        draw.polygon(polygon(rng, 4), outline=255, width=width)
    elif kind == 1:
        draw.polygon(polygon(rng, 3), outline=255, width=width)
    elif kind == 2:
        draw.polygon(polygon(rng, int(rng.integers(5, 8)), star=True), outline=255, width=width)
    elif kind == 3:  # a hash sign
        for offset in (-15, 15):
            draw.line([(PAD / 2 + offset, 20), (PAD / 2 + offset, PAD - 20)], 255, width)
            draw.line([(20, PAD / 2 + offset), (PAD - 20, PAD / 2 + offset)], 255, width)
    elif kind == 4:  # a spiral
        turns = rng.uniform(2, 4)
        t = np.linspace(0, turns * 2 * math.pi, 200)
        r = 4 + 40 * t / t[-1]
        draw.line(
            list(zip(PAD / 2 + r * np.cos(t), PAD / 2 + r * np.sin(t), strict=True)),
            fill=255,
            width=width,
        )
    else:  # a filled blob
        draw.polygon(polygon(rng, int(rng.integers(5, 9))), fill=255)
    return image.rotate(rng.uniform(-30, 30), resample=Image.Resampling.BILINEAR)


def pair(rng: np.random.Generator, digits: np.ndarray) -> Image.Image:
    """Two MNIST digits side by side as a number's digits are written: apart, touching, or
    overlapping a little (so that two digits read as one blob do not pass for one)."""
    first, second = (digits[int(i)] for i in rng.integers(len(digits), size=2))
    # The digits' ink lies about 4 px inside their 28 px fields, so the ink's gap is
    # gap + 8: from 4 px of overlap to 13 px apart.
    gap = int(rng.integers(-12, 6))
    width = 56 + gap
    out = np.zeros((28, max(width, 28)), np.uint8)
    out[:, :28] = first
    out[:, 28 + gap : 56 + gap] = np.maximum(out[:, 28 + gap : 56 + gap], second)
    return Image.fromarray(out)


def doodle(rng: np.random.Generator) -> Image.Image:
    """Three or four long strokes thrown together, straight or curved. (One stroke alone,
    or a small ring, would be a 1 or a 0.)"""
    image, draw = canvas()
    for _ in range(int(rng.integers(3, 5))):
        (x0, y0), (x1, y1) = points(rng, 2)
        while math.dist((x0, y0), (x1, y1)) < 40:
            ((x1, y1),) = points(rng, 1)
        if rng.random() < 0.5:
            draw.line([(x0, y0), (x1, y1)], fill=255, width=pen(rng))
        else:
            box = [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
            start = rng.uniform(0, 360)
            draw.arc(box, start, start + rng.uniform(90, 240), fill=255, width=pen(rng))
    return image


def speck(rng: np.random.Generator) -> Image.Image:
    image, draw = canvas()
    for x, y in points(rng, int(rng.integers(1, 4))):
        r = rng.uniform(1.5, 5)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=255)
    return image


def printed(rng: np.random.Generator) -> Image.Image:
    image, draw = canvas()
    font = ImageFont.load_default(size=int(rng.integers(60, 90)))
    draw.text(
        (PAD / 2, PAD / 2),
        str(rng.choice(list(LETTERS))),
        fill=255,
        font=font,
        anchor="mm",
        stroke_width=int(rng.integers(0, 3)),
        stroke_fill=255,
    )
    shear = rng.uniform(-0.3, 0.3)
    image = image.transform(
        image.size,
        Image.Transform.AFFINE,
        (1, shear, -shear * PAD / 2, 0, 1, 0),
        Image.Resampling.BILINEAR,
    )
    return image.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BILINEAR)


@functools.cache
def hershey(font_name: str) -> HersheyFonts:
    font = HersheyFonts()
    font.load_default_font(font_name)
    return font


def wobble(stroke: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """A stroke as a hand draws it: resampled densely, then bent by slow random drift."""
    lengths = np.r_[0, np.cumsum(np.hypot(*np.diff(stroke, axis=0).T))]
    if lengths[-1] == 0:
        return stroke
    t = np.linspace(0, lengths[-1], max(2, int(lengths[-1] / 2)))
    dense = np.column_stack([np.interp(t, lengths, stroke[:, i]) for i in (0, 1)])
    # The drift is smooth: random offsets at a few places along the stroke, joined up.
    knots = np.linspace(0, lengths[-1], 5)
    offsets = rng.normal(0, amount, (5, 2))
    return dense + np.column_stack([np.interp(t, knots, offsets[:, i]) for i in (0, 1)])


def pen_glyph(rng: np.random.Generator, font_name: str, key: str) -> Image.Image:
    """One glyph of a Hershey stroke font, slanted, stretched and drawn by a shaky pen."""
    strokes = [np.array(s, float) for s in hershey(font_name).strokes_for_text(key)]
    strokes = [s for s in strokes if len(s) > 1]
    every = np.concatenate(strokes)
    low, high = every.min(axis=0), every.max(axis=0)
    slant, stretch = rng.uniform(-0.35, 0.35), rng.uniform(0.75, 1.3)
    scale = rng.uniform(55, 85) / max(1.0, (high - low).max())
    image, draw = canvas()
    width = pen(rng)
    for stroke in strokes:
        x, y = (stroke - (low + high) / 2).T * scale
        x = (x + slant * y) * stretch
        line = wobble(np.column_stack([x, y]) + PAD / 2, rng, rng.uniform(1, 4))
        draw.line([tuple(p) for p in line], fill=255, width=width, joint="curve")
    return image.rotate(rng.uniform(-12, 12), resample=Image.Resampling.BILINEAR)


def letter(rng: np.random.Generator) -> Image.Image:
    return pen_glyph(rng, str(rng.choice(HAND_FONTS)), str(rng.choice(list(LETTERS))))


def symbol(rng: np.random.Generator) -> Image.Image:
    return pen_glyph(rng, "greek", str(rng.choice(list(GREEK_KEYS))))


def sign(rng: np.random.Generator) -> Image.Image:
    font = str(rng.choice(list(SIGNS)))
    return pen_glyph(rng, font, str(rng.choice(list(SIGNS[font]))))


def fashion_images(part: str = "test") -> np.ndarray | None:
    """Fashion-MNIST's 60,000 training images (``part`` "train") or its 10,000 test
    images ("test"), if Debian's package is installed."""
    from train.data import IDX_FILES, MNISTDataError, find_idx, read_idx

    try:
        return read_idx(find_idx(FASHION, IDX_FILES[f"x_{part}"]))
    except (OSError, MNISTDataError):
        return None


DRAWN: dict[str, Callable] = {
    "scribble": scribble,
    "zigzag": zigzag,
    "hatching": hatching,
    "shape": shape,
    "doodle": doodle,
    "speck": speck,
    "letter": letter,
    "printed": printed,
    "symbol": symbol,
    "sign": sign,
}


KINDS = (*DRAWN, "pair", "fashion")
TRAINED = tuple(kind for kind in KINDS if kind not in HELD_OUT)


ONE_LEAN = 35  # degrees from upright that a 1 may lean
ONE_STRETCH = 9  # ...its ink at least this many times as spread along as across


def looks_like_a_one(digit: np.ndarray) -> bool:
    """A tall, thin mark, or one long stroke leaning not far from upright however thick
    the pen: that is how a 1 looks, whatever stroke made it."""
    rows, columns = np.nonzero(digit > 64)
    width, height = np.ptp(columns) + 1, np.ptp(rows) + 1
    if height > width and width <= 8:
        return True
    # The ink's spread along its main axis and across it, and where that axis points.
    spread, axes = np.linalg.eigh(np.cov(np.stack([columns, rows]).astype(float)))
    across, along = spread
    lean = math.degrees(math.atan2(abs(axes[0, 1]), abs(axes[1, 1])))
    return along >= ONE_STRETCH * across and lean <= ONE_LEAN


def to_model_digit(image: Image.Image) -> np.ndarray | None:
    """uint8 28x28 as the server would feed it to the model, or None if it is blank."""
    try:
        model_input = preprocess_array(np.asarray(image, np.float32) / 255.0)
    except BlankImage:
        return None
    return np.round(model_input[0, :, :, 0] * 255).astype(np.uint8)


def usable(kind: str, image: Image.Image) -> np.ndarray | None:
    """The model input of one drawn non-digit, or None when it is blank or a drawn mark
    that looks like a 1: a random stroke that happens to look like a 1 would teach the
    model that 1s are not digits."""
    digit = to_model_digit(image)
    if digit is None or (kind in DRAWN and looks_like_a_one(digit)):
        return None
    return digit


def make_negatives(
    kind: str, count: int, seed: int = 0, digits: np.ndarray | None = None, part: str = "test"
) -> np.ndarray:
    """``count`` uint8 (28, 28) images of one kind, preprocessed like an upload; clothes
    from Fashion-MNIST's ``part`` ("train" or "test")."""
    rng = np.random.default_rng(seed)
    if kind == "fashion":
        clothes = fashion_images(part)
        if clothes is None:
            raise FileNotFoundError(
                f"Fashion-MNIST not found under {FASHION}: apt-get install dataset-fashion-mnist"
            )
        sources = (
            Image.fromarray(clothes[int(i)])
            for i in rng.choice(len(clothes), size=count * 2, replace=False)
        )
    elif kind == "pair":
        if digits is None:
            raise ValueError("'pair' needs MNIST digits to put side by side")
        sources = (pair(rng, digits) for _ in range(count * 2))
    else:
        sources = (DRAWN[kind](rng) for _ in range(count * 2))
    out = []
    for image in sources:
        digit = usable(kind, image)
        if digit is not None:
            out.append(digit)
        if len(out) == count:
            return np.stack(out)
    raise RuntimeError(f"too many blank '{kind}' images")


def on_pad(kind: str, count: int, seed: int) -> list[Image.Image]:
    """``count`` non-digits of one kind (not "pair": two digits are a number), each drawn
    large at a random spot of the pad, as the page sends it (train/drawn.py: on_canvas);
    none when Fashion-MNIST is asked for and not installed. Those training would leave out
    are left out (``usable``): a mark that looks like a 1 is a 1."""
    rng = np.random.default_rng(seed)
    if kind == "fashion":
        clothes = fashion_images()
        if clothes is None:
            return []
        sources = (Image.fromarray(clothes[int(i)]) for i in rng.choice(len(clothes), 4 * count))
    else:
        sources = (DRAWN[kind](rng) for _ in range(4 * count))
    out = []
    for image in sources:
        if usable(kind, image) is None:
            continue
        side = int(rng.integers(150, 261))
        ink = np.asarray(image.resize((side, side), Image.Resampling.BILINEAR))
        pad = np.zeros((280, 280), np.uint8)
        top, left = (int(rng.integers(0, 280 - side + 1)) for _ in range(2))
        pad[top : top + side, left : left + side] = ink
        out.append(on_canvas(pad))
        if len(out) == count:
            break
    return out
