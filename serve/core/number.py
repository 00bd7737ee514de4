"""Read a number: every digit in one image, left to right.

Each digit found by serve/core/segment.py goes through the same MNIST layout as a single
digit, and all of them through the model in one batch. A blob that the model does not
read as a digit and that is wide enough to be two touching digits is cut at its
thinnest columns; a cut is kept only when the model reads both halves as digits.
"""

from __future__ import annotations

import numpy as np

from serve.core.decode import decode_image
from serve.core.postprocess import postprocess
from serve.core.preprocess import checked_grey, ink_map, mnist_layout, to_grey_with_origin
from serve.core.segment import (
    Blob,
    best_path,
    cut_columns,
    digit_ink,
    group_digits,
    ink_components,
)

MAX_DIGITS = 12  # more blobs than this are not a number anyone writes on a pad
TOUCHING = 0.6  # a blob at least this wide for its height may be two digits


def read_number(data: bytes, settings, predictor) -> tuple[np.ndarray, dict]:
    """Upload bytes -> (model inputs (N, 28, 28, 1), the answer)."""
    image = decode_image(data, settings.max_image_pixels, settings.max_photo_pixels)
    grey, origin = to_grey_with_origin(image)
    ink = ink_map(checked_grey(grey))  # refuses what one digit's reading refuses
    labels, factor, blobs = ink_components(ink)

    def cut_out(blob):
        return digit_ink(ink, labels, factor, blob)

    def sure(groups: list[Blob]) -> np.ndarray:
        return how_sure(predictor, [cut_out(group) for group in groups])

    pieces = [(cut_out(blob), blob) for blob in group_digits(blobs, sure)[:MAX_DIGITS]]
    pieces = cut_touching(pieces, predictor)
    inputs = np.stack([layout(piece) for piece, _ in pieces])
    probs, is_digit = predictor.predict(inputs)
    scale = image.info.get("scale", 1.0)
    digits = []
    for (piece, blob), p, d in zip(pieces, probs, is_digit, strict=True):
        answer = postprocess(p, d, predictor.thresholds)
        digits.append({**answer, "box": ink_box(piece, blob, origin, scale)})
    readable = all(d["verdict"] != "not_a_digit" for d in digits)
    return inputs, {
        "number": "".join(str(d["digit"]) for d in digits) if readable else None,
        "count": len(digits),
        "digits": digits,
    }


def layout(piece: np.ndarray) -> np.ndarray:
    return mnist_layout(piece)[:, :, None]


def how_sure(predictor, pieces: list[np.ndarray]) -> np.ndarray:
    """For each piece, the probability that it is the digit the model reads in it."""
    probs, is_digit = predictor.predict(np.stack([layout(piece) for piece in pieces]))
    return is_digit * probs.max(axis=1)


def cut_touching(pieces: list[tuple[np.ndarray, Blob]], predictor) -> list:
    """Each wide piece cut into the digits it reads best as; up to MAX_DIGITS in all."""
    out = []
    for piece, blob in pieces:
        wide = blob.width >= TOUCHING * blob.height
        out.extend(best_cuts(piece, blob, predictor) if wide else [(piece, blob)])
    return out[:MAX_DIGITS]


def best_cuts(piece: np.ndarray, blob: Blob, predictor) -> list[tuple[np.ndarray, Blob]]:
    """``piece`` cut at some of its thinnest columns into the slices that are most surely
    digits (every way at once: one batch through the model, then dynamic programming);
    whole when the model reads it surely as one digit, or reads no cut as digits."""
    edges = [0, *cut_columns(piece, blob.height), piece.shape[1]]
    spans = [(i, j) for i in range(len(edges)) for j in range(i + 1, len(edges))]
    slices = [piece[:, edges[i] : edges[j]] for i, j in spans]
    inked = [k for k, part in enumerate(slices) if part.any()]
    sure = np.zeros(len(spans))
    sure[inked] = how_sure(predictor, [slices[k] for k in inked])
    whole = sure[spans.index((0, len(edges) - 1))]
    if whole >= predictor.thresholds.sure_from or len(edges) == 2:
        return [(piece, blob)]
    score = dict(zip(spans, np.log(np.maximum(sure, 1e-6)), strict=True))
    path = best_path(score, len(edges))
    if len(path) == 1 or min(sure[spans.index(span)] for span in path) < 0.5:
        return [(piece, blob)]
    return [
        (
            piece[:, edges[i] : edges[j]],
            Blob(blob.top, blob.left + edges[i], blob.bottom, blob.left + edges[j], 0, ()),
        )
        for i, j in path
    ]


def ink_box(piece: np.ndarray, blob: Blob, origin: tuple[int, int], scale: float) -> list[int]:
    """[left, top, right, bottom] of the piece's ink, in the uploaded image's pixels."""
    rows = np.flatnonzero(piece.any(axis=1))
    cols = np.flatnonzero(piece.any(axis=0))
    left = origin[0] + blob.left + cols[0]
    top = origin[1] + blob.top + rows[0]
    right = origin[0] + blob.left + cols[-1] + 1
    bottom = origin[1] + blob.top + rows[-1] + 1
    return [round(v * scale) for v in (left, top, right, bottom)]
