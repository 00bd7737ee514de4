"""Flagged 1s and crossed 7s: drawn as they are named, shaped by the server's preprocessing."""

import numpy as np

from train.negatives import to_model_digit
from train.styles import FLAGS, crossed_seven, flagged_one, styled_digits


def flag_reach(digit: np.ndarray) -> float:
    """How far left of the stem (its middle, low down) the ink at the top reaches."""
    stem = np.median(np.nonzero(digit[18:24] > 128)[1])
    return float(stem - np.nonzero(digit[:10] > 128)[1].min())


def test_styled_digits_are_half_ones_and_half_sevens_as_the_model_sees_them():
    images, labels = styled_digits(60, seed=1)
    assert images.shape == (60, 28, 28) and images.dtype == np.uint8
    assert sorted(set(labels.tolist())) == [1, 7] and (labels == 1).sum() == 30
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
