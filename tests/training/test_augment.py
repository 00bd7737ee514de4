"""The training augmentation moves, turns, scales, blurs and re-inks digits the way it
claims."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from train.augment import (  # noqa: E402
    LOW_RES_SHARE,
    affine_transforms,
    augment,
    low_resolution,
    random_affine,
    vary_stroke_width,
)

SEED = np.array([7, 11], np.int32)


def bar(horizontal=True):
    """A 28x28 image with a 2-pixel bar through the centre."""
    image = np.zeros((1, 28, 28, 1), np.float32)
    if horizontal:
        image[0, 13:15, 6:22] = 1.0
    else:
        image[0, 6:22, 13:15] = 1.0
    return image


def centre_of_mass(image):
    ink = image[0, :, :, 0]
    rows, cols = np.indices(ink.shape)
    return (rows * ink).sum() / ink.sum(), (cols * ink).sum() / ink.sum()


def transform(image, angle=0.0, scale=1.0, shift=(0.0, 0.0)):
    matrix = affine_transforms([angle], [scale], [list(shift)])
    return keras.ops.convert_to_numpy(keras.ops.image.affine_transform(image, matrix))


def test_no_change_is_the_identity():
    image = np.random.default_rng(0).random((1, 28, 28, 1), dtype=np.float32)
    np.testing.assert_allclose(transform(image), image, atol=1e-6)


def test_shift_moves_the_digit_by_that_many_pixels():
    row, col = centre_of_mass(bar())
    moved_row, moved_col = centre_of_mass(transform(bar(), shift=(2.0, -1.0)))
    assert moved_col == pytest.approx(col + 2.0, abs=0.05)
    assert moved_row == pytest.approx(row - 1.0, abs=0.05)


def test_quarter_turn_makes_a_horizontal_bar_vertical():
    turned = transform(bar(horizontal=True), angle=90.0)
    np.testing.assert_allclose(turned, bar(horizontal=False), atol=1e-4)


def test_zoom_grows_the_digit_about_the_centre():
    grown = transform(bar(), scale=1.25)
    assert (grown > 0.5).sum() == pytest.approx(1.25 * (bar() > 0.5).sum(), rel=0.15)
    assert centre_of_mass(grown) == pytest.approx(centre_of_mass(bar()), abs=0.05)


def test_stroke_width_varies_within_dilation_and_erosion():
    images = np.repeat(bar(), 64, axis=0)
    varied = keras.ops.convert_to_numpy(vary_stroke_width(images, SEED))
    ink = varied.sum(axis=(1, 2, 3))
    original = bar().sum()
    assert ink.min() < 0.7 * original and ink.max() > 1.3 * original  # thinner and thicker
    assert ink.max() <= 4 * 18 + 1e-3  # a full 3x3 dilation of the 2x16 bar is 4x18


def test_augment_keeps_shape_and_range():
    digits = np.repeat(bar(), 32, axis=0)
    out = keras.ops.convert_to_numpy(augment(digits, SEED))
    assert out.shape == digits.shape
    assert out.min() >= 0.0 and out.max() <= 1.0 + 1e-6
    assert not np.allclose(out, digits)


def test_low_resolution_blurs_some_digits_and_leaves_the_rest():
    images = np.repeat(bar(), 400, axis=0)
    out = keras.ops.convert_to_numpy(low_resolution(images, SEED))
    changed = np.abs(out - images).max(axis=(1, 2, 3)) > 1e-3
    assert 0.5 * LOW_RES_SHARE < changed.mean() < 1.5 * LOW_RES_SHARE
    assert out[changed].sum(axis=(1, 2, 3)) == pytest.approx(bar().sum(), rel=0.1)  # ink kept


def test_each_draw_has_its_own_numbers():
    """Stroke width and scale are drawn independently of each other."""
    images = np.repeat(bar(horizontal=False), 512, axis=0)
    thick = keras.ops.convert_to_numpy(vary_stroke_width(images, SEED)).sum(axis=(1, 2, 3))
    moved = keras.ops.convert_to_numpy(random_affine(images, SEED))
    ink = moved.sum(axis=(1, 2, 3))  # grows with the scale drawn
    assert abs(np.corrcoef(thick, ink)[0, 1]) < 0.2
