"""The verdict rule and where its thresholds come from."""

import numpy as np
import pytest

from serve.core.verdict import FALLBACK, Thresholds, thresholds_for, verdict, verdicts

RULE = Thresholds(not_a_digit_below=0.3, sure_from=0.8)


@pytest.mark.parametrize(
    ("prob", "is_digit", "expected"),
    [
        (0.99, 0.99, "digit"),
        (0.81, 0.99, "digit"),  # 0.8019: just sure enough
        (0.80, 0.99, "unsure"),  # 0.792: just not
        (0.55, 1.00, "unsure"),  # two digits close: "3 or 8?"
        (0.99, 0.50, "unsure"),  # maybe not a digit at all
        (0.99, 0.29, "not_a_digit"),
        (0.10, 0.00, "not_a_digit"),
    ],
)
def test_the_rule(prob, is_digit, expected):
    assert verdict(prob, is_digit, RULE) == expected


def test_the_rule_for_many_at_once_agrees_with_one_at_a_time():
    rng = np.random.default_rng(0)
    prob, is_digit = rng.random(500), rng.random(500)
    many = verdicts(prob, is_digit, RULE)
    assert list(many) == [verdict(p, d, RULE) for p, d in zip(prob, is_digit, strict=True)]
    assert set(many) == {"digit", "unsure", "not_a_digit"}


def test_thresholds_come_from_the_model_unless_overridden():
    meta = {"calibration": {"thresholds": {"not_a_digit_below": 0.2, "sure_from": 0.7}}}
    assert thresholds_for(meta) == Thresholds(0.2, 0.7)
    assert thresholds_for(meta, sure_from=0.95) == Thresholds(0.2, 0.95)
    assert thresholds_for(meta, not_a_digit_below=0.0) == Thresholds(0.0, 0.7)
    assert thresholds_for({}) == FALLBACK
