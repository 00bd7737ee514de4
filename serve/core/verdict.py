"""The verdict people read: one digit, unsure, or not a digit.

The model gives two calibrated numbers per image: ``is_digit``, the probability that it
shows one digit, and ``prob``, the probability of the likeliest digit if it is one. Their
product is the probability that the image is that digit. The two thresholds are chosen on
validation data at training time (train/calibration.py) and shipped in the model's
metadata; the server's settings can override them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from serve.core.contract import NOT_A_DIGIT_BELOW, SURE_FROM

VERDICTS = ("digit", "unsure", "not_a_digit")


@dataclass(frozen=True)
class Thresholds:
    not_a_digit_below: float  # is_digit under this: "not_a_digit"
    sure_from: float  # is_digit x prob at least this: "digit"; between the two: "unsure"


# For a model whose metadata carries no thresholds of its own (one exported by hand).
FALLBACK = Thresholds(not_a_digit_below=NOT_A_DIGIT_BELOW, sure_from=SURE_FROM)


def thresholds_for(
    metadata: dict, not_a_digit_below: float | None = None, sure_from: float | None = None
) -> Thresholds:
    """The model's own thresholds (mnist.json: calibration.thresholds), unless overridden."""
    fitted = metadata.get("calibration", {}).get("thresholds", {})
    return Thresholds(
        not_a_digit_below=first_set(
            not_a_digit_below, fitted.get("not_a_digit_below"), FALLBACK.not_a_digit_below
        ),
        sure_from=first_set(sure_from, fitted.get("sure_from"), FALLBACK.sure_from),
    )


def first_set(*values):
    return float(next(value for value in values if value is not None))


def verdicts(prob: np.ndarray, is_digit: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    """The verdict for each image, from its top digit probability and its is_digit."""
    prob, is_digit = np.asarray(prob, np.float64), np.asarray(is_digit, np.float64)
    return np.where(
        is_digit < thresholds.not_a_digit_below,
        "not_a_digit",
        np.where(is_digit * prob >= thresholds.sure_from, "digit", "unsure"),
    )


def verdict(prob: float, is_digit: float, thresholds: Thresholds) -> str:
    return str(verdicts(prob, is_digit, thresholds))
