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
from serve.core.segment import Blob, digit_ink, group_digits, ink_components, split_candidates

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
    """Cut the wide pieces the model does not read as one digit, where both halves are
    read as digits; up to MAX_DIGITS pieces in all."""
    for _ in range(3):  # three touching digits need two rounds; four, three
        wide = [
            i
            for i, (piece, blob) in enumerate(pieces)
            if blob.width > TOUCHING * blob.height and len(pieces) < MAX_DIGITS
        ]
        if not wide:
            return pieces
        cut = False
        for i in reversed(wide):
            halves = best_cut(*pieces[i], predictor)
            if halves:
                pieces[i : i + 1] = halves
                cut = True
        if not cut:
            return pieces
    return pieces


def best_cut(piece: np.ndarray, blob: Blob, predictor):
    """The two halves of the best cut of ``piece``, or None when it reads best whole."""
    columns = split_candidates(piece)
    candidates = [piece] + [half for c in columns for half in (piece[:, :c], piece[:, c:])]
    if not columns or any(not half.any() for half in candidates):
        return None
    sure = how_sure(predictor, candidates)
    whole, halves = sure[0], sure[1:].reshape(-1, 2)
    if whole >= predictor.thresholds.sure_from:  # read surely as one digit: leave it
        return None
    best = int(np.argmax(halves.min(axis=1)))
    if halves[best].min() < predictor.thresholds.sure_from:
        return None
    c = columns[best]
    left = Blob(blob.top, blob.left, blob.bottom, blob.left + c, 0.0, blob.labels)
    right = Blob(blob.top, blob.left + c, blob.bottom, blob.right, 0.0, blob.labels)
    return [(piece[:, :c], left), (piece[:, c:], right)]


def ink_box(piece: np.ndarray, blob: Blob, origin: tuple[int, int], scale: float) -> list[int]:
    """[left, top, right, bottom] of the piece's ink, in the uploaded image's pixels."""
    rows = np.flatnonzero(piece.any(axis=1))
    cols = np.flatnonzero(piece.any(axis=0))
    left = origin[0] + blob.left + cols[0]
    top = origin[1] + blob.top + rows[0]
    right = origin[0] + blob.left + cols[-1] + 1
    bottom = origin[1] + blob.top + rows[-1] + 1
    return [round(v * scale) for v in (left, top, right, bottom)]
