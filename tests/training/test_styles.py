"""Flagged 1s, crossed 7s and closed 4s: drawn as they are named, shaped by the server's
preprocessing."""

import numpy as np
from PIL import Image, ImageDraw

from train.negatives import to_model_digit
from train.styles import FLAGS, closed_four, crossed_seven, flagged_one, styled_digits


def flag_reach(digit: np.ndarray) -> float:
    """How far left of the stem (its middle, low down) the ink at the top reaches."""
    stem = np.median(np.nonzero(digit[18:24] > 128)[1])
    return float(stem - np.nonzero(digit[:10] > 128)[1].min())


def test_styled_digits_are_a_third_of_each_style_as_the_model_sees_them():
    images, labels = styled_digits(60, seed=1)
    assert images.shape == (60, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=10)[[1, 4, 7]].tolist() == [20, 20, 20]
    assert (images.max(axis=(1, 2)) == 255).all()
    again, _ = styled_digits(60, seed=1)
    np.testing.assert_array_equal(images, again)


def test_a_longer_flag_reaches_further_left():
    rng = np.random.default_rng(2)
    reach = {
        flag: np.mean([flag_reach(to_model_digit(flagged_one(rng, flag))) for _ in range(40)])
        for flag in FLAGS
    }
    assert reach["short"] < reach["middling"] < reach["long"]


def top_width(digit: np.ndarray) -> int:
    """How many columns the ink spans in its top four rows: a 7's flat top spans most."""
    top = np.flatnonzero((digit > 128).any(axis=1))[0]
    return int((digit[top : top + 4] > 128).any(axis=0).sum())


def test_a_crossed_seven_is_wider_at_the_top_than_a_flagged_one():
    rng = np.random.default_rng(3)
    sevens = [top_width(to_model_digit(crossed_seven(rng))) for _ in range(40)]
    ones = [top_width(to_model_digit(flagged_one(rng, "short"))) for _ in range(40)]
    assert np.mean(sevens) > 2 * np.mean(ones)


def enclosed(digit: np.ndarray) -> int:
    """How many pixels of paper the ink closes in: those a fill from the border misses."""
    # A copy: an image made from an array shares its memory, which floodfill cannot write.
    paper = Image.fromarray(np.pad(np.where(digit > 64, 255, 0).astype(np.uint8), 1)).copy()
    ImageDraw.floodfill(paper, (0, 0), 128)
    return int((np.asarray(paper) == 0).sum())


def test_a_closed_four_closes_in_paper_as_a_flagged_one_does_not():
    rng = np.random.default_rng(4)
    fours = [enclosed(to_model_digit(closed_four(rng))) for _ in range(40)]
    ones = [enclosed(to_model_digit(flagged_one(rng))) for _ in range(40)]
    assert np.mean(np.array(fours) >= 4) > 0.9
    assert np.mean(np.array(ones) >= 4) < 0.1
