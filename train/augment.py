"""Augmentation: each training batch is re-inked, moved, turned, scaled and sometimes
blurred at random.

Handwriting varies by a few degrees, a couple of pixels and a little in size, and people
draw with thin and thick pens and send small blurred scans; MNIST's digits are centred,
their strokes all about the same width and scanned sharp. ``augment`` gives every digit a
random stroke width, then a random affine transform, then, for some digits, the blur of a
low resolution. Digits are never mirrored (a flipped 2 or 7 is not a digit).

Every draw is stateless and has its own seed, split from the batch's seed, so no two
draws are the same numbers (a thick stroke is not always drawn with the largest turn).
"""

import math

import keras
import tensorflow as tf

from serve.core.contract import SIDE

# Degrees, relative size and pixels.
MAX_ROTATION, MAX_ZOOM, MAX_SHIFT = 12.0, 0.12, 2.5
# Stroke width, from full erosion (-1) to full dilation (+1) with a 3x3 window.
STROKE_RANGE = (-1.0, 1.0)
# The share of digits seen as a small scan, and how many pixels tall that scan is.
LOW_RES_SHARE, LOW_RES_SIDES = 0.1, (9, 16)


def augment(images, seed):
    """``images`` float32 (N, 28, 28, 1); ``seed`` an int [2] for stateless draws."""
    stroke, move, blur = split(seed, 3)
    return low_resolution(random_affine(vary_stroke_width(images, stroke), move), blur)


def split(seed, count: int):
    """``count`` new seeds from one, for draws independent of each other."""
    return tf.unstack(tf.random.experimental.stateless_split(seed, count))


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


def random_affine(images, seed):
    """Rotate, scale and shift each digit by a random amount, in one resampling pass."""
    n = tf.shape(images)[0]
    angle, scale, shift = split(seed, 3)
    transforms = affine_transforms(
        uniform([n], -MAX_ROTATION, MAX_ROTATION, angle),
        uniform([n], 1 - MAX_ZOOM, 1 + MAX_ZOOM, scale),
        uniform([n, 2], -MAX_SHIFT, MAX_SHIFT, shift),
    )
    return keras.ops.image.affine_transform(images, transforms, fill_mode="constant")


def affine_transforms(angle_degrees, scale, shift, side=SIDE):
    """(N, 8) transforms for keras.ops.image.affine_transform: rotate by ``angle_degrees``
    and scale by ``scale`` about the image centre, then move by ``shift`` (x, y) pixels.

    The transform maps each output pixel back to where it comes from in the input:
    input = R(-angle) / scale * (output - centre) + centre - shift.
    """
    angle = tf.convert_to_tensor(angle_degrees, tf.float32) * (math.pi / 180)
    scale = tf.convert_to_tensor(scale, tf.float32)
    shift = tf.convert_to_tensor(shift, tf.float32)
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    centre = (side - 1) / 2
    zeros = tf.zeros_like(cos)
    return tf.stack(
        [
            cos,
            -sin,
            centre - cos * centre + sin * centre - shift[:, 0],
            sin,
            cos,
            centre - sin * centre - cos * centre - shift[:, 1],
            zeros,
            zeros,
        ],
        axis=1,
    )


def low_resolution(images, seed):
    """Some digits as a small scan sends them: shrunk to a few pixels and scaled back up."""
    pick, size = split(seed, 2)
    side = tf.random.stateless_uniform([], size, *LOW_RES_SIDES, dtype=tf.int32)
    small = tf.image.resize(images, [side, side], method="area")
    blurred = tf.image.resize(small, [SIDE, SIDE], method="bilinear")
    chosen = uniform([tf.shape(images)[0], 1, 1, 1], 0, 1, pick) < LOW_RES_SHARE
    return tf.where(chosen, blurred, images)
