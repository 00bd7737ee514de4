"""Corrections people sent (an export of `make corrections`) as training digits.

An export is a folder with labels.csv (id,file,label,reading,model_sha256,created) and the
images exactly as they were uploaded (serve/corrections/export.py). Each row becomes
digits as the server reads them, so the model learns from what it will be shown:
  - a label of one digit: the image read as /predict reads one digit (one model input);
  - a label of k digits: the image read as a number, by the server's own segmentation;
    when it finds k digits, each one's model input is paired with the label's digit in
    the same place, left to right. When it finds another count, the row is skipped: which
    digit is which can no longer be told.
Rows whose image is missing or cannot be read are skipped too, and counted by reason.

One row in ``HELD_OUT_ONE_IN``, chosen by a hash of its id (so a correction stays on the
same side in every later export), is never trained on: the model that read the uploads
and the new one are both measured on it.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from serve.core.contract import to_model_input

# Corrections are few (tens to thousands) beside 60,000 MNIST digits: each trained one is
# shown this many times an epoch (each time augmented differently) so they weigh something,
# while too few to make the model learn them by heart at MNIST's expense.
REPEATS = 5
HELD_OUT_ONE_IN = 5  # one row in five is kept out of training, to measure on
LABEL = re.compile(r"[0-9]{1,12}")  # what the server accepts as a label
COLUMNS = ("id", "file", "label")  # those read here; the export writes more

MISSING = "image file missing"
UNREADABLE = "image the server cannot read"
BAD_LABEL = "label not 1 to 12 digits"
OTHER_COUNT = "the number's reading found another count of digits than the label has"


class BadExport(Exception):
    """The folder holds no readable corrections export (labels.csv missing or malformed)."""


@dataclass
class Corrections:
    """An export's digits: uint8 (N, 28, 28) white on black as MNIST's, int32 labels."""

    folder: Path
    trained: tuple[np.ndarray, np.ndarray]  # each once; ``repeated`` for training
    held_out: tuple[np.ndarray, np.ndarray]
    held_out_ids: list[str]
    rows: int
    trained_rows: int
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> rows
    before: dict = field(default_factory=dict)  # the shipped model on the held-out digits

    def repeated(self) -> tuple[np.ndarray, np.ndarray]:
        return tuple(np.tile(part, (REPEATS,) + (1,) * (part.ndim - 1)) for part in self.trained)

    def scores(self, predict: Callable[[np.ndarray], np.ndarray]) -> dict:
        """The figures for metrics.json; ``predict``: model inputs -> probs of the ten
        digits (the new model, calibrated)."""
        x, y = self.held_out
        after = accuracy(predict(to_model_input(x)) if len(y) else None, y)
        return {
            "rows": self.rows,
            "trained_rows": self.trained_rows,
            "trained_digits": int(len(self.trained[1])),
            "repeats": REPEATS,
            "held_out_rows": len(self.held_out_ids),
            "held_out_digits": int(len(y)),
            "skipped": dict(self.skipped),
            "before": self.before,
            "after": {"accuracy": rounded(after)},
        }

    def summary(self) -> str:
        skipped = "; ".join(f"{n} {reason}" for reason, n in self.skipped.items()) or "none"
        return (
            f"corrections from {self.folder}: {self.rows} rows; {self.trained_rows} trained "
            f"({len(self.trained[1])} digits, each {REPEATS}x), {len(self.held_out_ids)} held "
            f"out ({len(self.held_out[1])} digits); skipped: {skipped}"
        )


def load(folder: Path, reader=None) -> Corrections:
    """The export in ``folder`` read into digits by ``reader`` (serve/core/read.py; the
    shipped model's by default), which also gives the "before" figure. BadExport when
    labels.csv is missing or malformed."""
    reader = reader or shipped_reader()
    folder = Path(folder)
    trained, held_out, held_out_ids = [], [], []
    skipped, read_by, rows = Counter(), Counter(), 0
    for row in read_labels(folder):
        rows += 1
        read_by[row.get("model_sha256")] += 1
        digits = row_digits(folder, row, reader)
        if isinstance(digits, str):
            skipped[digits] += 1
        elif is_held_out(row["id"]):
            held_out.extend(digits)
            held_out_ids.append(row["id"])
        else:
            trained.extend(digits)
    corrections = Corrections(
        folder,
        stacked(trained),
        stacked(held_out),
        held_out_ids,
        rows,
        rows - sum(skipped.values()) - len(held_out_ids),
        dict(skipped),
    )
    corrections.before = before(corrections.held_out, reader, read_by)
    return corrections


def read_labels(folder: Path):
    """The rows of folder/labels.csv as dicts, checked for the columns read here."""
    path = folder / "labels.csv"
    if not path.is_file():
        raise BadExport(f"{path} not found: export the corrections with `make corrections OUT=DIR`")
    try:
        with open(path, newline="", encoding="utf-8") as table:
            reader = csv.DictReader(table)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise BadExport(f"{path} has no column {', '.join(missing)}: not an export")
            for line, row in enumerate(reader, start=2):
                if not row["id"] or not row["file"] or row["label"] is None:
                    raise BadExport(f"{path}, line {line}: id, file or label missing")
                yield row
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise BadExport(f"{path} cannot be read: {error}") from error


def row_digits(folder: Path, row: dict, reader) -> list[tuple[np.ndarray, int]] | str:
    """A row's (uint8 digit, label) pairs, or the reason it is skipped."""
    from serve.core.errors import BadImage

    label = row["label"].strip()
    if not LABEL.fullmatch(label):
        return BAD_LABEL
    path = folder / row["file"]
    if not path.resolve().is_relative_to(folder.resolve()) or not path.is_file():
        return MISSING
    try:
        image = reader.decode(path.read_bytes())
        if len(label) == 1:
            inputs = reader.digit_input(image)
        else:
            reading = reader.number(image)
            # Left to right, by the centre of each digit's box ([left, top, right, bottom]).
            order = sorted(range(len(reading.digits)), key=lambda i: centre(reading.digits[i]))
            inputs = reading.model_inputs[order]
    except BadImage:
        return UNREADABLE
    if len(inputs) != len(label):
        return OTHER_COUNT
    return [(to_uint8(x), int(d)) for x, d in zip(inputs, label, strict=True)]


def centre(digit: dict) -> float:
    left, _, right, _ = digit["box"]
    return (left + right) / 2


def is_held_out(row_id: str) -> bool:
    """Stable across exports: decided by the id alone, not by the row's place or count."""
    digest = hashlib.sha256(row_id.strip().encode()).digest()
    return int.from_bytes(digest[:8], "big") % HELD_OUT_ONE_IN == 0


def before(held_out, reader, read_by: Counter) -> dict:
    """The reader's model on the held-out digits: at training time the shipped
    models/mnist.onnx, as the model that read the uploads may be gone; ``rows_it_read``
    says how many of the export's rows that very model read."""
    from train.data import file_sha256

    x, y = held_out
    path = reader.predictor.model_path
    sha256 = file_sha256(path)
    probs = reader.predictor.predict(to_model_input(x))[0] if len(y) else None
    return {
        "model": path.name,
        "model_sha256": sha256,
        "rows_it_read": read_by[sha256],
        "accuracy": rounded(accuracy(probs, y)),
    }


def shipped_reader():
    """The server's reader on the shipped model, with the server's default upload limits."""
    from serve.core.predictor import Predictor
    from serve.core.read import Reader
    from train.paths import MODELS

    return Reader(Predictor(MODELS / "mnist.onnx"))


def accuracy(probs: np.ndarray | None, labels: np.ndarray) -> float | None:
    """Share of the digits whose likeliest digit is the label; None when there are none."""
    return None if probs is None else float(np.mean(np.asarray(probs).argmax(axis=1) == labels))


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def to_uint8(model_input: np.ndarray) -> np.ndarray:
    """A model input (28, 28, 1) in [0, 1] -> uint8 (28, 28), as MNIST's digits are."""
    return np.round(model_input[:, :, 0] * 255).astype(np.uint8)


def stacked(pairs: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    if not pairs:
        return np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int32)
    images, labels = zip(*pairs, strict=True)
    return np.stack(images), np.array(labels, np.int32)
