"""Turn the model's outputs into the answer people read."""

from __future__ import annotations

import numpy as np

from serve.core.contract import DIGITS
from serve.core.verdict import Thresholds, verdict

DECIMALS = 6


def postprocess(probs, is_digit: float, thresholds: Thresholds) -> dict:
    """One image's (10,) probabilities and is_digit -> {digit, prob, probs, top3,
    is_digit, verdict} with plain floats.

    Rounded Python floats keep the JSON free of float32 noise (0.9950000047683716); the
    ten are renormalised after rounding so they still sum to 1 within rounding.
    """
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    if p.shape != (DIGITS,):
        raise ValueError(f"expected {DIGITS} probabilities, got shape {np.shape(probs)}")
    p = p / p.sum()
    rounded = [round(float(v), DECIMALS) for v in p]
    order = np.argsort(-p, kind="stable")
    digit = int(order[0])
    return {
        "digit": digit,
        "prob": rounded[digit],
        "probs": rounded,
        "top3": [{"digit": int(d), "prob": rounded[int(d)]} for d in order[:3]],
        "is_digit": round(float(is_digit), DECIMALS),
        "verdict": verdict(p[digit], float(is_digit), thresholds),
    }
