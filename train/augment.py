"""Augmentation: each training batch is re-inked, warped and sometimes blurred at random.

MNIST's writers are few and alike: their digits are upright, centred, drawn with one kind
of pen and scanned sharp. People draw with thin and thick pens, lean their writing either
way, bend their strokes their own way and send small blurred scans. ``augment`` gives
every digit a random stroke width, then one warp (turn, scale and shift; for half of them
a slant and an elastic bend too: Simard, Steinkraus and Platt, 2003), then, for some
digits, the blur of a low resolution. Digits are never mirrored (a flipped 2 or 7 is not a digit).

Every draw is stateless and has its own seed, split from the batch's seed, so no two
draws are the same numbers.
"""

import tensorflow as tf

from serve.core.contract import SIDE

# Degrees, relative size, horizontal pixels per pixel of height, and pixels.
MAX_ROTATION, MAX_ZOOM, MAX_SLANT, MAX_SHIFT = 12.0, 0.12, 0.3, 2.5
# Stroke width, from full erosion (-1) to full dilation (+1) with a 3x3 window.
STROKE_RANGE = (-1.0, 1.0)
# The share of digits given a slant and a bend; the others keep MNIST's upright hand, so
# the model still reads it as well as it did.
STRONG_SHARE = 0.5
# The elastic bend: a random displacement on a coarse grid, smoothed up to full size.
# A 4x4 grid bends a stroke once or twice along a digit's height, as a hand does.
BEND_GRID, BEND_PIXELS = 4, 1.0
# The share of digits seen as a small scan, and how many pixels tall that scan is.
LOW_RES_SHARE, LOW_RES_SIDES = 0.1, (9, 16)


def augment(images, seed):
    """``images`` float32 (N, 28, 28, 1); ``seed`` an int [2] for stateless draws."""
    stroke, warp_seed, blur = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    return low_resolution(warp(vary_stroke_width(images, stroke), warp_seed), blur)


def uniform(shape, low, high, seed):
    return tf.random.stateless_uniform(shape, seed, low, high)


def vary_stroke_width(images, seed):
    """Thin or thicken each digit's strokes by a random amount (grey erosion / dilation).

    Full erosion also breaks the faintest strokes, as a thin pen drawn fast does.
    """
    dilated = tf.nn.max_pool2d(images, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    amount = uniform([tf.shape(images)[0], 1, 1, 1], *STROKE_RANGE, seed)
    return tf.where(
        amount > 0, images + amount * (dilated - images), images - amount * (eroded - images)
    )


def warp(images, seed):
    """Turn, scale, slant, shift and bend each digit by a random amount."""
    n = tf.shape(images)[0]
    angle, scale, slant, shift, bend, strong = tf.unstack(
        tf.random.experimental.stateless_split(seed, 6)
    )
    strong = tf.cast(uniform([n], 0, 1, strong) < STRONG_SHARE, tf.float32)
    return transform(
        images,
        uniform([n], -MAX_ROTATION, MAX_ROTATION, angle),
        uniform([n], 1 - MAX_ZOOM, 1 + MAX_ZOOM, scale),
        uniform([n], -MAX_SLANT, MAX_SLANT, slant) * strong,
        uniform([n, 2], -MAX_SHIFT, MAX_SHIFT, shift),
        bend_field(n, bend) * strong[:, None, None, None],
    )


def transform(images, angle_degrees, scale, slant, shift, bends=None):
    """Each digit turned by ``angle_degrees``, scaled by ``scale`` and slanted by ``slant``
    about the centre, moved by ``shift`` (x, y) pixels and bent by ``bends`` (N, 28, 28, 2),
    in one resampling pass: every output pixel reads the input where they send it."""
    matrices = affine_matrices(
        tf.convert_to_tensor(angle_degrees, tf.float32),
        tf.convert_to_tensor(scale, tf.float32),
        tf.convert_to_tensor(slant, tf.float32),
    )
    rows, columns = sample_points(matrices, tf.convert_to_tensor(shift, tf.float32))
    if bends is not None:
        rows, columns = rows + bends[..., 0], columns + bends[..., 1]
    return bilinear(images, rows, columns)


def bilinear(images, rows, columns):
    """``images`` (N, H, W, 1) read at (N, H, W) fractional ``rows`` and ``columns``,
    bilinearly, as paper (0) outside the image. What keras.ops.image.map_coordinates
    computes for these points (the tests compare them), in four gathers instead of its
    sixteen, which made it the slowest step of an epoch."""
    side_rows, side_columns = images.shape[1], images.shape[2]
    flat = tf.reshape(images, [-1])
    first = tf.range(tf.shape(images)[0]) * side_rows * side_columns
    top, left = tf.floor(rows), tf.floor(columns)
    out = 0.0
    for row, row_weight in ((top, 1 - (rows - top)), (top + 1, rows - top)):
        for column, column_weight in ((left, 1 - (columns - left)), (left + 1, columns - left)):
            inside = (row >= 0) & (row < side_rows) & (column >= 0) & (column < side_columns)
            r = tf.cast(tf.clip_by_value(row, 0, side_rows - 1), tf.int32)
            c = tf.cast(tf.clip_by_value(column, 0, side_columns - 1), tf.int32)
            ink = tf.gather(flat, first[:, None, None] + r * side_columns + c)
            out += tf.where(inside, ink * row_weight * column_weight, 0.0)
    return out[..., None]


def affine_matrices(angle_degrees, scale, slant):
    """(N, 2, 2) maps from an output pixel's offset from the centre (row, column) to the
    input's: the inverse of scaling, turning by ``angle_degrees`` and slanting (a
    positive slant leans the tops of strokes to the right, as most right hands do)."""
    angle = angle_degrees * (3.141592653589793 / 180)
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    # Inverse rotation, then undo the slant (column += slant * height above the centre).
    return tf.stack(
        [tf.stack([cos, sin], -1), tf.stack([-sin + slant * cos, cos + slant * sin], -1)], 1
    )


def sample_points(matrices, shift, side=SIDE):
    """(N, side, side) rows and columns of the input that each output pixel reads."""
    centre = (side - 1) / 2
    grid_rows, grid_columns = tf.meshgrid(
        tf.range(side, dtype=tf.float32) - centre,
        tf.range(side, dtype=tf.float32) - centre,
        indexing="ij",
    )
    offsets = tf.stack([grid_rows, grid_columns], -1)  # (side, side, 2)
    points = tf.einsum("nij,hwj->nhwi", matrices, offsets) + centre
    return points[..., 0] - shift[:, None, None, 1], points[..., 1] - shift[:, None, None, 0]


def bend_field(n, seed, side=SIDE):
    """(N, side, side, 2) smooth random displacements, BEND_PIXELS apart on average."""
    coarse = tf.random.stateless_normal([n, BEND_GRID, BEND_GRID, 2], seed, stddev=BEND_PIXELS)
    return tf.image.resize(coarse, [side, side], method="bicubic")


def low_resolution(images, seed):
    """Some digits as a small scan sends them: shrunk to a few pixels and scaled back up."""
    pick, size = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    side = tf.random.stateless_uniform([], size, *LOW_RES_SIDES, dtype=tf.int32)
    small = tf.image.resize(images, [side, side], method="area")
    blurred = tf.image.resize(small, [SIDE, SIDE], method="bilinear")
    chosen = uniform([tf.shape(images)[0], 1, 1, 1], 0, 1, pick) < LOW_RES_SHARE
    return tf.where(chosen, blurred, images)
