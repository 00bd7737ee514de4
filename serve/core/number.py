"""Read a number: every digit in one image, left to right.

The blobs of ink found by serve/core/segment.py are grouped into digits, and touching
digits cut apart, by recognition: every candidate goes through the same MNIST layout as a
single digit and through the model, in batches, and the grouping or cutting whose parts
are most surely digits wins. A blob is cut when the model is not sure it is one digit, or
where two digits only touch, and the cut only kept when every part reads as a digit.
Cuts go straight down; an unsure blob wider than tall that no straight cut parts is tried
along leaning paths too (digits written so close that they overlap).
"""

from __future__ import annotations

import numpy as np

from serve.core.postprocess import postprocess
from serve.core.preprocess import checked_grey, ink_map, mnist_layout, to_grey_with_origin
from serve.core.segment import (
    Blob,
    Cut,
    best_path,
    cut_columns,
    cut_paths,
    digit_ink,
    group_digits,
    ink_components,
    on_grid,
)

MAX_DIGITS = 12  # more blobs than this are not a number anyone writes on a pad
TOUCHING = 0.6  # a blob at least this wide for its height may be two digits...
SURE_TOUCHING = 0.8  # ...or, when the model reads it surely as one, at least this wide
CUT = 0.7  # what a cut through a stroke pays: it must make the reading clearly surer
TOUCH = 0.5  # a cut crossing less than this share of a stroke only parts what touches
OVERLAPPING = 1.0  # a piece wider than this for its height may be cut along leaning paths

Part = tuple[np.ndarray, Blob]  # a digit candidate's ink, cut out, and where it lies


class Answers:
    """The model's answers for digit candidates, each candidate laid out and run once: the
    grouping, the cutting and the final answer ask about many of the same ones."""

    def __init__(self, predictor):
        self.predictor = predictor
        self.known: dict[tuple, tuple] = {}  # candidate -> (model input, probs, is_digit)

    def of(self, parts: list[Part]) -> list[tuple]:
        new = {key(blob): piece for piece, blob in parts if key(blob) not in self.known}
        if new:
            inputs = np.stack([mnist_layout(piece)[:, :, None] for piece in new.values()])
            probs, is_digit = self.predictor.predict(inputs)
            self.known.update(zip(new, zip(inputs, probs, is_digit, strict=True), strict=True))
        return [self.known[key(blob)] for _, blob in parts]

    def sure(self, parts: list[Part]) -> np.ndarray:
        """For each candidate, the probability that it is the digit the model reads in it."""
        return np.array([d * p.max() for _, p, d in self.of(parts)])


def key(blob: Blob) -> tuple:
    return blob.top, blob.left, blob.bottom, blob.right, blob.labels, blob.part


def read_number(image, predictor) -> tuple[np.ndarray, dict]:
    """A decoded image -> (model inputs (N, 28, 28, 1), the answer: number, count, digits)."""
    grey, origin = to_grey_with_origin(image)
    ink = ink_map(checked_grey(grey))  # refuses what one digit's reading refuses
    ink, factor = on_grid(ink)
    labels, blobs = ink_components(ink)
    answers = Answers(predictor)

    def parts(groups: list[Blob]) -> list[Part]:
        return [(digit_ink(ink, labels, group), group) for group in groups]

    groups = group_digits(blobs, lambda groups: answers.sure(parts(groups)))
    pieces = cut_touching(parts(groups[:MAX_DIGITS]), answers, predictor.thresholds)
    scale = image.info.get("scale", 1.0)
    digits = []
    inputs = []
    for (piece, blob), (model_input, p, d) in zip(pieces, answers.of(pieces), strict=True):
        answer = postprocess(p, d, predictor.thresholds)
        box = in_upload(ink_box(piece, blob), grey.shape, origin, factor, scale)
        digits.append({**answer, "box": box})
        inputs.append(model_input)
    readable = all(d["verdict"] != "not_a_digit" for d in digits)
    return np.stack(inputs), {
        "number": "".join(str(d["digit"]) for d in digits) if readable else None,
        "count": len(digits),
        "digits": digits,
    }


def cut_touching(pieces: list[Part], answers: Answers, thresholds) -> list[Part]:
    """Each wide piece that may be two digits cut into the digits it reads best as; up to
    MAX_DIGITS in all. A piece may be two digits when the model is not sure it is one, or
    when it can be cut where its ink only touches: two digits joined at a point can read
    as one digit at 0.99."""
    sure = answers.sure(pieces)
    out = []
    for (piece, blob), whole in zip(pieces, sure, strict=True):
        unsure = whole < thresholds.sure_from
        wide = blob.width >= (TOUCHING if unsure else SURE_TOUCHING) * blob.height
        cuts = cut_columns(piece, blob.height) if wide else []
        if not unsure:  # read surely as one digit: cut only where the ink merely touches
            cuts = [c for c in cuts if only_touches(c)]
        parts = best_cuts(piece, blob, cuts, answers) if cuts else [(piece, blob)]
        if unsure and len(parts) == 1 and blob.width > OVERLAPPING * blob.height:
            # Unsure, wider than tall, and no straight cut parts it: digits written so
            # close that they overlap (a 7's bar over the next digit, two 0s side by side).
            paths = cut_paths(piece, blob.height)
            parts = best_cuts(piece, blob, paths, answers) if paths else parts
        out.extend(parts)
    return out[:MAX_DIGITS]


def only_touches(cut: Cut) -> bool:
    return cut.strokes < TOUCH


def best_cuts(piece: np.ndarray, blob: Blob, cuts: list[Cut], answers: Answers) -> list[Part]:
    """``piece`` cut at some of ``cuts`` into the slices that are most surely digits (every
    way at once: one batch through the model, then dynamic programming); whole when no
    cut reads as digits."""
    rows, width = piece.shape
    bounds = [np.zeros(rows, int), *(np.array(c.columns) for c in cuts), np.full(rows, width)]
    spans = [(i, j) for i in range(len(bounds)) for j in range(i + 1, len(bounds))]
    slices = {span: cut_out(piece, blob, bounds, span) for span in spans}
    slices[0, len(bounds) - 1] = (piece, blob)  # the whole, as the model already read it
    inked = [span for span in spans if slices[span][0].any()]
    sure = dict.fromkeys(spans, 0.0)
    sure.update(zip(inked, answers.sure([slices[span] for span in inked]), strict=True))
    # A cut through a stroke pays CUT, so it is made only when that makes the reading much
    # surer: a slice of one digit (the end of a 4's stroke, a 2's hook) often reads as a
    # 1. A cut where the ink only touches is free.
    paid = [1.0, *(1.0 if only_touches(c) else CUT for c in cuts)]
    score = {(i, j): np.log(max(sure[i, j], 1e-6) * paid[i]) for i, j in spans}
    path = best_path(score, len(bounds))
    if len(path) == 1 or min(sure[span] for span in path) < 0.5:
        return [(piece, blob)]
    return [slices[span] for span in path]


def cut_out(piece: np.ndarray, blob: Blob, bounds: list[np.ndarray], span) -> Part:
    """The slice of ``piece`` between the cuts ``bounds[i]`` and ``bounds[j]``, in the
    columns it spans."""
    i, j = span
    left, right = int(bounds[i].min()), int(bounds[j].max())
    columns = np.arange(left, right)
    between = (columns >= bounds[i][:, None]) & (columns < bounds[j][:, None])
    box = Blob(blob.top, blob.left + left, blob.bottom, blob.left + right, 0.0, blob.labels, span)
    return piece[:, left:right] * between, box


def ink_box(piece: np.ndarray, blob: Blob) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the piece's ink, in cells of the grid."""
    rows = np.flatnonzero(piece.any(axis=1))
    cols = np.flatnonzero(piece.any(axis=0))
    return (
        blob.left + int(cols[0]),
        blob.top + int(rows[0]),
        blob.left + int(cols[-1]) + 1,
        blob.top + int(rows[-1]) + 1,
    )


def in_upload(box, grey_shape, origin, factor: int, scale: float) -> list[int]:
    """A box of grid cells as [left, top, right, bottom] in the upload's pixels. A cell is
    ``factor`` of the grey image's pixels a side (the last ones may be cut short), the grey
    image lies at ``origin`` in the decoded image, and a decoded pixel is ``scale`` of the
    upload's."""
    left, top, right, bottom = (v * factor for v in box)
    right, bottom = min(right, grey_shape[1]), min(bottom, grey_shape[0])
    return [
        round((o + v) * scale) for o, v in zip(origin * 2, (left, top, right, bottom), strict=True)
    ]
