"""Calibration measures on cases whose answers are known by construction."""

import numpy as np
import pytest

from train.calibration import (
    auroc,
    choose_thresholds,
    digit_answers,
    expected_calibration_error,
    fit_temperature,
    reliability_diagram,
    softmax,
)


def test_a_perfectly_calibrated_classifier_has_zero_ece():
    # Confidence 0.8 and right 8 times in 10: calibrated.
    probs = np.tile([0.8, 0.2], (10, 1))
    labels = np.array([0] * 8 + [1] * 2)
    assert expected_calibration_error(probs, labels) == pytest.approx(0.0)


def test_overconfidence_is_the_gap_between_confidence_and_accuracy():
    probs = np.tile([0.99, 0.01], (10, 1))
    labels = np.array([0] * 5 + [1] * 5)  # right half the time
    assert expected_calibration_error(probs, labels) == pytest.approx(0.49)


def test_fitted_temperature_recovers_the_one_that_made_the_labels():
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 4, (20_000, 10))
    true_probs = softmax(logits, 2.5)
    labels = np.array([rng.choice(10, p=p) for p in true_probs])
    temperature = fit_temperature(logits, labels)
    assert temperature == pytest.approx(2.5, rel=0.05)
    assert expected_calibration_error(softmax(logits, temperature), labels) < 0.01
    assert expected_calibration_error(softmax(logits), labels) > 0.1


@pytest.mark.parametrize(
    "pos, neg, expected",
    [
        ([3, 4, 5], [0, 1, 2], 1.0),
        ([0, 1, 2], [3, 4, 5], 0.0),
        ([1, 1], [1, 1], 0.5),
        ([2, 0], [1], 0.5),
    ],
)
def test_auroc_counts_ranked_pairs(pos, neg, expected):
    assert auroc(pos, neg) == pytest.approx(expected)


def test_auroc_agrees_with_counting_every_pair():
    rng = np.random.default_rng(1)
    pos, neg = rng.normal(1, 1, 300).round(1), rng.normal(0, 1, 200).round(1)
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert auroc(pos, neg) == pytest.approx(pairs)


def test_reliability_diagram_is_written(tmp_path):
    rng = np.random.default_rng(2)
    probs = softmax(rng.normal(0, 3, (500, 10)))
    labels = rng.integers(0, 10, 500)
    reliability_diagram({"a": (probs, labels), "b": (probs, labels)}, tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes().startswith(b"\x89PNG")


def test_digit_answers_are_the_eleven_way_softmax_split_in_two():
    logits = np.random.default_rng(1).normal(0, 5, (200, 11))
    full = softmax(logits, 1.7)
    probs, is_digit = digit_answers(logits, 1.7)
    np.testing.assert_allclose(is_digit, full[:, :10].sum(axis=1), rtol=1e-9)
    np.testing.assert_allclose(probs, full[:, :10] / full[:, :10].sum(axis=1, keepdims=True))


def test_digit_answers_stay_finite_when_not_a_digit_dominates():
    logits = np.zeros((1, 11))
    logits[0, 10] = 2000.0  # every digit's share underflows to 0
    probs, is_digit = digit_answers(logits, 1.0)
    assert np.isfinite(probs).all() and probs.sum() == pytest.approx(1.0)
    assert is_digit[0] == 0.0


def test_thresholds_keep_digits_in_and_non_digits_out_of_digit():
    rng = np.random.default_rng(2)
    n = 2000
    labels = np.r_[rng.integers(0, 10, n), np.full(n, 10)]
    is_digit = np.r_[rng.uniform(0.8, 1.0, n), rng.uniform(0.0, 0.9, n)]
    probs = np.full((2 * n, 10), 0.001)
    probs[np.arange(2 * n), labels % 10] = 0.991  # every digit right, confidently
    chosen = choose_thresholds(probs, is_digit, labels)
    # "Not a digit" where that is the likelier answer, whatever the digits' spread.
    assert chosen["not_a_digit_below"] == 0.5
    # 1 % of the non-digits (uniform on 0-0.9, times 0.991) reach 0.883.
    assert chosen["sure_from"] == pytest.approx(0.991 * 0.891, abs=0.005)
