"""Is a probability what it says? Measures and the one-parameter fix (temperature scaling).

numpy only, so the training side, the export and the serving benchmarks can all use it.

  expected_calibration_error  gap between confidence and accuracy, 15 equal-width bins
  fit_temperature             the T that makes softmax(logits / T) fit validation labels
  auroc                       how well a score ranks positives above negatives
  digit_answers               the exported model's two outputs, computed from its logits
  choose_thresholds           the verdict thresholds, from validation digits and non-digits
  reliability_diagram         the picture of the first, for the model card
"""

from __future__ import annotations

import math

import numpy as np

from serve.core.contract import DIGITS, NOT_A_DIGIT, NOT_A_DIGIT_BELOW

BINS = 15


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def reliability(probs: np.ndarray, labels: np.ndarray, bins: int = BINS):
    """Per bin of the top probability: (count, mean confidence, accuracy)."""
    probs = np.asarray(probs, np.float64)
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(labels)
    # Bin i holds confidences in (i/bins, (i+1)/bins]; a confidence of exactly 0 joins bin 0.
    index = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    count = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore"):
        mean_confidence = np.bincount(index, confidence, bins) / count
        accuracy = np.bincount(index, correct, bins) / count
    return count, mean_confidence, accuracy


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = BINS) -> float:
    """Sum over bins of |accuracy - confidence|, weighted by the bin's share of samples."""
    count, confidence, accuracy = reliability(probs, labels, bins)
    filled = count > 0
    return float(
        np.sum(count[filled] * np.abs(accuracy[filled] - confidence[filled])) / count.sum()
    )


def negative_log_likelihood(logits, labels, temperature: float) -> float:
    probs = softmax(logits, temperature)
    return float(-np.mean(np.log(probs[np.arange(len(labels)), labels] + 1e-12)))


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the validation NLL (golden-section
    search on log T: the NLL is unimodal in T for a fixed set of logits)."""
    labels = np.asarray(labels)
    low, high = np.log(0.05), np.log(20.0)
    ratio = (math.sqrt(5) - 1) / 2
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa = negative_log_likelihood(logits, labels, math.exp(a))
    fb = negative_log_likelihood(logits, labels, math.exp(b))
    for _ in range(60):
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = negative_log_likelihood(logits, labels, math.exp(a))
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = negative_log_likelihood(logits, labels, math.exp(b))
    return float(math.exp((low + high) / 2))


def auroc(positive_scores, negative_scores) -> float:
    """Probability that a random positive scores above a random negative (ties count
    half): the Mann-Whitney U statistic, from average ranks."""
    pos, neg = np.asarray(positive_scores, np.float64), np.asarray(negative_scores, np.float64)
    scores = np.concatenate([pos, neg])
    order = scores.argsort(kind="stable")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # Average rank within each run of equal scores.
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def digit_answers(logits: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """(N, 11) logits (ten digits, then "not a digit") -> (probs (N, 10), is_digit (N,)).

    ``probs`` are the digits' probabilities given that the image is a digit, and
    ``is_digit`` the probability that it is one: the same numbers the ONNX model answers
    (train/model.py: ``CalibratedAnswers`` builds them into it; a test ties the two).
    """
    z = np.asarray(logits, np.float64) / temperature
    digits = z[:, :DIGITS]
    top = digits.max(axis=1, keepdims=True)
    log_digit_mass = top[:, 0] + np.log(np.exp(digits - top).sum(axis=1))
    # 1 / (1 + exp(x)), written so that a large x gives 0 without an overflow.
    return softmax(digits), np.exp(-np.logaddexp(0, z[:, NOT_A_DIGIT] - log_digit_mass))


def choose_thresholds(
    probs: np.ndarray,
    is_digit: np.ndarray,
    labels: np.ndarray,
    non_digits_accepted: float = 0.01,
    error_rate: float = 0.001,
) -> dict:
    """The verdict thresholds (serve/core/verdict.py), chosen on validation data.

    ``labels`` are 0-9 for digits and NOT_A_DIGIT for non-digits.
      not_a_digit_below: one half (the contract's NOT_A_DIGIT_BELOW). is_digit is a
        calibrated probability, so under it "not a digit" is the likelier answer. (A share
        of the validation digits to reject does not hold still: a quarter of a percent fell
        under 0.85 on one model's validation scans, and under 0.53 or 0.80 when the same
        digits were drawn twice over; that tail is some fifteen digits.)
      sure_from: the lowest is_digit x prob at which no more than ``non_digits_accepted``
        of the non-digits, and no more than ``error_rate`` of the digits called "digit",
        would be wrong ones. Never under one half: "digit" means likelier than not.
    """
    labels = np.asarray(labels)
    digit = labels < DIGITS
    joint = is_digit * probs.max(axis=1)
    candidates = np.unique(np.r_[0.5, joint[joint >= 0.5]])
    right = probs.argmax(axis=1) == labels

    def acceptable(t):
        called = joint >= t
        wrong_digits = np.sum(called & digit & ~right) / max(1, np.sum(called & digit))
        return np.mean(called[~digit]) <= non_digits_accepted and wrong_digits <= error_rate

    sure_from = next((float(t) for t in candidates if acceptable(t)), 1.0)
    return {"not_a_digit_below": NOT_A_DIGIT_BELOW, "sure_from": round(sure_from, 4)}


def reliability_diagram(curves: dict, path, bins: int = BINS) -> None:
    """One panel per (name -> (probs, labels)): accuracy against confidence, with ECE."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(curves), figsize=(4 * len(curves), 4), squeeze=False)
    edges = np.linspace(0, 1, bins + 1)
    for ax, (name, (probs, labels)) in zip(axes[0], curves.items(), strict=True):
        count, _, accuracy = reliability(probs, labels, bins)
        ax.bar(
            edges[:-1],
            np.nan_to_num(accuracy),
            width=1 / bins,
            align="edge",
            edgecolor="black",
            color="#9db4d6",
            label="accuracy",
        )
        ax.plot([0, 1], [0, 1], "--", color="#d9480f", label="perfect calibration")
        ece = expected_calibration_error(probs, labels, bins)
        ax.set(
            title=f"{name}\nECE {ece:.2%}",
            xlabel="confidence (top probability)",
            ylabel="accuracy",
            xlim=(0, 1),
            ylim=(0, 1),
        )
        ax.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
