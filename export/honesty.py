"""How honest a model's answers are: calibration on digits, and what it says to non-digits.

The export writes these figures into the model card; `benchmarks/honest_answers.py` prints
them for any exported model. Digits are the MNIST test digits, as they are and re-drawn as
the page's canvas sends them (train/drawn.py), and digits by other writers than MNIST's, as
the page sends them and as small blurred scans (train/other_writers.py, never trained on).
Non-digits are every kind of train/negatives.py, made with seeds training never used (pairs
from test digits, clothes from Fashion-MNIST's test images); the kinds kept out of training
are marked as held out. Numbers are read as ?read=number reads them (serve/core/number.py):
MNIST test digits written side by side as on the page (train/drawn.py), and numbers by
other writers; non-digits drawn large on the pad, which should get no number; numbers
written with marks (train/marks.py).
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np

from serve.core.contract import to_model_input
from serve.core.decode import decode_image
from serve.core.number import read_number
from serve.core.preprocess import preprocess_image
from serve.core.verdict import VERDICTS, Thresholds, verdicts
from train import drawn, other_writers
from train.calibration import auroc, expected_calibration_error
from train.drawn import redraw
from train.marks import MARKED, marked_numbers
from train.negatives import (
    DRAWN,
    HELD_OUT,
    KINDS,
    fashion_images,
    make_negatives,
    on_pad,
    to_model_digit,
)
from train.styles import FLAGS, closed_four, crossed_seven, flagged_one

SEED = 2026  # training's non-digits use seeds near the training seed, never this
NON_DIGITS_PER_KIND = 1000
OTHER_WRITERS = 2000  # drawings in each set by other writers
# The non-digits take SEED + 0, 1, 2...: the other writers' seeds lie well past them.
OTHER_WRITERS_SEED, LOW_RESOLUTION_SEED = SEED + 100, SEED + 101
STYLED, STYLED_SEED = 500, SEED + 102  # flagged 1s of each length, crossed 7s, closed 4s
NUMBERS, NUMBERS_SEED, OTHER_NUMBERS_SEED = 1000, SEED + 103, SEED + 104  # in each set
PAD_DRAWINGS, MARKED_SEED, PAD_SEED = 500, SEED + 105, SEED + 200  # of each kind


def png(drawing) -> bytes:
    buffer = io.BytesIO()
    drawing.save(buffer, format="PNG")
    return buffer.getvalue()


def upload_inputs(drawings) -> np.ndarray:
    """Each drawing sent as a PNG and preprocessed as an upload."""
    return np.concatenate([preprocess_image(png(drawing)) for drawing in drawings])


def drawn_inputs(images: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Each digit re-drawn on a canvas, sent as a PNG and preprocessed as an upload."""
    rng = np.random.default_rng(seed)
    return upload_inputs(redraw(digit, rng) for digit in images)


def digit_sets(images: np.ndarray, labels: np.ndarray) -> dict[str, tuple]:
    """Each set of digits measured: name -> (model inputs, labels)."""
    writers, writers_labels = other_writers.drawings(OTHER_WRITERS, OTHER_WRITERS_SEED)
    scans, scans_labels = other_writers.drawings(OTHER_WRITERS, LOW_RESOLUTION_SEED, small=True)
    return {
        "MNIST test": (to_model_input(images), labels),
        "drawn": (drawn_inputs(images), labels),
        "other writers": (upload_inputs(writers), writers_labels),
        "low resolution": (upload_inputs(scans), scans_labels),
        **styled_sets(),
    }


def styled_sets() -> dict[str, tuple]:
    """1s with a short, middling or long flag, crossed 7s and closed 4s (train/styles.py,
    which training draws from with other seeds)."""
    rng = np.random.default_rng(STYLED_SEED)
    sets = {f"1, {flag} flag": (lambda flag=flag: flagged_one(rng, flag), 1) for flag in FLAGS}
    sets["crossed 7"] = (lambda: crossed_seven(rng), 7)
    sets["closed 4"] = (lambda: closed_four(rng), 4)
    return {
        name: (
            to_model_input(np.stack([to_model_digit(draw()) for _ in range(STYLED)])),
            np.full(STYLED, label),
        )
        for name, (draw, label) in sets.items()
    }


def number_sets(images: np.ndarray, labels: np.ndarray) -> dict[str, list]:
    """Each set of numbers read: name -> [(drawing, the number written)]."""
    return {
        "2-4 MNIST test digits": list(drawn.numbers(images, labels, NUMBERS, NUMBERS_SEED)),
        "2-3 digits by other writers": list(other_writers.numbers(NUMBERS, OTHER_NUMBERS_SEED)),
    }


def number_read(drawing, predict, thresholds: Thresholds) -> str | None:
    """The ``number`` that ?read=number answers for ``drawing``, sent as a PNG."""
    model = SimpleNamespace(predict=predict, thresholds=thresholds)  # as serve's Predictor
    return read_number(decode_image(png(drawing)), model)[1]["number"]


def read_exactly(predict, thresholds: Thresholds, numbers: list) -> float:
    """The share of ``numbers`` whose drawing ?read=number reads as the number written."""
    right = [number_read(d, predict, thresholds) == n for d, n in numbers]
    return round(float(np.mean(right)), 5)


def non_digits_on_the_pad(predict, thresholds: Thresholds) -> dict:
    """Each drawn kind of non-digit, and clothes, drawn large on the pad: the share that
    plain /predict calls a digit and the share that ?read=number gives a number for."""
    figures = {}
    for i, kind in enumerate((*DRAWN, "fashion")):
        drawings = on_pad(kind, PAD_DRAWINGS, PAD_SEED + i)
        if not drawings:  # Fashion-MNIST not installed
            continue
        probs, is_digit = predict(upload_inputs(drawings))
        given = [number_read(d, predict, thresholds) is not None for d in drawings]
        figures[kind] = {
            "held_out": kind in HELD_OUT,
            "count": len(drawings),
            "digit": verdict_shares(probs, is_digit, thresholds)["digit"],
            "number_given": round(float(np.mean(given)), 5),
        }
    return figures


def numbers_with_marks(predict, thresholds: Thresholds, mnist: tuple) -> dict:
    """Numbers written with marks, and digits with marks no number has (train/marks.py):
    the share that ?read=number reads right."""
    rng = np.random.default_rng(MARKED_SEED)
    figures = {}
    for kind in MARKED:
        drawings = marked_numbers(kind, PAD_DRAWINGS, rng, mnist)
        right = [number_read(d, predict, thresholds) in readings for d, readings in drawings]
        figures[kind] = {"count": len(right), "right": round(float(np.mean(right)), 5)}
    return figures


def verdict_shares(probs: np.ndarray, is_digit: np.ndarray, thresholds: Thresholds) -> dict:
    said = verdicts(probs.max(axis=1), is_digit, thresholds)
    return {v: round(float(np.mean(said == v)), 5) for v in VERDICTS}


def digit_figures(
    probs: np.ndarray, is_digit: np.ndarray, labels: np.ndarray, thresholds: Thresholds
) -> dict:
    said = verdicts(probs.max(axis=1), is_digit, thresholds)
    right = probs.argmax(axis=1) == labels
    return {
        "count": len(labels),
        "accuracy": round(float(right.mean()), 5),
        "ece": round(expected_calibration_error(probs, labels), 5),
        "verdicts": verdict_shares(probs, is_digit, thresholds),
        "accuracy_when_digit": round(float(right[said == "digit"].mean()), 5),
    }


def evaluate(predict, images: np.ndarray, labels: np.ndarray, thresholds: Thresholds) -> dict:
    """Figures for ``predict`` (model input -> (probs, is_digit)) on digits, non-digits and
    numbers.

    ``images``/``labels`` are MNIST test digits (uint8, white on black); the digits by
    other writers bring their own labels.
    """
    report = {"digits": {}, "non_digits": {}, "thresholds": vars(thresholds)}
    digit_scores = {}
    for name, (inputs, truth) in digit_sets(images, labels).items():
        probs, is_digit = predict(inputs)
        digit_scores[name] = is_digit
        report["digits"][name] = digit_figures(probs, is_digit, truth, thresholds)
    kinds = [kind for kind in KINDS if kind != "fashion" or fashion_images() is not None]
    for i, kind in enumerate(kinds):
        negatives = make_negatives(kind, NON_DIGITS_PER_KIND, seed=SEED + i, digits=images)
        probs, is_digit = predict(to_model_input(negatives))
        report["non_digits"][kind] = {
            "held_out": kind in HELD_OUT,
            "count": len(negatives),
            "auroc_drawn": round(auroc(digit_scores["drawn"], is_digit), 5),
            "auroc_mnist": round(auroc(digit_scores["MNIST test"], is_digit), 5),
            "verdicts": verdict_shares(probs, is_digit, thresholds),
        }
    report["numbers"] = {
        name: {"count": len(numbers), "read_exactly": read_exactly(predict, thresholds, numbers)}
        for name, numbers in number_sets(images, labels).items()
    }
    report["on_the_pad"] = non_digits_on_the_pad(predict, thresholds)
    report["with_marks"] = numbers_with_marks(predict, thresholds, (images, labels))
    return report


def shares(verdicts: dict) -> str:
    """The share of each verdict, as table cells in VERDICTS order."""
    return " | ".join(f"{verdicts[v]:.2%}" for v in VERDICTS)


def in_training(row: dict) -> str:
    return "**held out**" if row["held_out"] else "trained"


def table(report: dict) -> str:
    """The report as Markdown tables."""
    lines = [
        "| digits | count | accuracy | ECE | digit | unsure | not a digit |"
        " accuracy when 'digit' |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in report["digits"].items():
        lines.append(
            f"| {name} | {r['count']:,} | {r['accuracy']:.2%} | {r['ece']:.2%} | "
            f"{shares(r['verdicts'])} | {r['accuracy_when_digit']:.2%} |"
        )
    lines += [
        "",
        "| non-digits | in training? | count | AUROC vs drawn digits | AUROC vs MNIST test |"
        " digit | unsure | not a digit |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, r in report["non_digits"].items():
        lines.append(
            f"| {kind} | {in_training(r)} | {r['count']:,} | "
            f"{r['auroc_drawn']:.4f} | {r['auroc_mnist']:.4f} | {shares(r['verdicts'])} |"
        )
    lines += ["", "| numbers | count | read exactly |", "|---|---|---|"]
    for name, r in report["numbers"].items():
        lines.append(f"| {name} | {r['count']:,} | {r['read_exactly']:.2%} |")
    lines += [
        "",
        "| drawn large on the pad | in training? | count | plain /predict: digit |"
        " ?read=number: a number given |",
        "|---|---|---|---|---|",
    ]
    for kind, r in report["on_the_pad"].items():
        lines.append(
            f"| {kind} | {in_training(r)} | {r['count']:,} | "
            f"{r['digit']:.2%} | {r['number_given']:.2%} |"
        )
    lines += ["", "| written with marks | count | read right |", "|---|---|---|"]
    for kind, r in report["with_marks"].items():
        lines.append(f"| {kind} | {r['count']:,} | {r['right']:.2%} ({MARKED[kind]}) |")
    return "\n".join(lines)
