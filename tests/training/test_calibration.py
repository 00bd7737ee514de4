"""Calibration measures on cases whose answers are known by construction."""

import numpy as np
import pytest

from train.calibration import (
    auroc,
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
