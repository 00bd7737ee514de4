"""Read a number: every digit in one image, left to right.

The words, each for one idea:
  ink        how much ink each pixel holds (0: paper), on the grid
  grid       the ink reduced by a whole factor to at most ``label_rows`` rows
  blob       one 8-connected component of ink, small gaps closed (a ``Blob``)
  speck      a blob with a small share of the largest blob's ink
  candidate  what may be one digit: neighbouring blobs together, or a slice of a cut
             candidate (a ``Candidate``); the model reads each one once (``Answers``)
  grouping   a way to split the row of blobs into candidates
  cut        a path down a candidate, from its top row to its bottom row, straight or
             leaning (a ``Cut``); a slice is the candidate between two cuts
  stroke     the pen's width: what a cut crosses is counted in strokes
  sure       how surely a candidate is a digit: the model's probability that it is a
             digit times that of the digit it reads

How a number is read. The ink (serve/core/preprocess.py) is reduced to the grid: block
means keep a thin stroke unbroken, and every later step works on fewer pixels. Its blobs
are found (serve/core/segment.py). A digit is often more than one blob: a 5 whose flag is
a separate stroke, a 7 or a 4 drawn in two strokes, a thin fast stroke broken into dashes.
People write the digits of a number side by side, so the blobs of one digit are
neighbours in the order of their centres; which neighbours make one digit is decided by
recognition, with the model, which knows what a digit is:

1. Grouping. Specks are set aside. Every candidate of up to ``most_blobs_per_candidate``
   neighbouring blobs that could be one digit goes through the model, in one batch, and
   the grouping whose candidates are most surely digits wins (dynamic programming over
   the sum of log(sure)). Each candidate pays odds of ``odds_charged_per_candidate``, so
   blobs that read about as surely joined as apart make one digit. Neighbours that
   cannot be one digit count as a non-digit for each digit that would fit across them
   (rounded up), so a mark that is no digit never makes the whole row one unreadable
   candidate. Each speck then joins the candidate it is near, or is dropped.
2. Cutting. Touching digits make one blob. A candidate the model is not sure of and wide
   enough to be two digits is cut at its thinnest columns, if the model reads every
   slice surely as a digit (as a "digit" verdict: the slices of a letter cut at its
   joins, an m as 177, read as digits but often in doubt) and the cut makes the reading
   clearly surer than the whole: a cut through a stroke pays odds of
   ``odds_charged_per_stroke_cut`` (a slice of one fat digit often reads as a 1). A
   column where the ink only touches (less than half a stroke crosses it, as where two
   digits written side by side meet) is a free cut, and it is tried even when the model
   reads the whole surely as one digit, if it is wide enough: two digits joined at a
   point can read as one digit at 0.99. Digits written so close that their boxes overlap
   (a 7's bar over the next digit, two 0s side by side) cannot be parted straight down:
   an unsure candidate wider than tall that no straight cut parts is tried along leaning
   cuts too, the paths down it that cross the least ink. A cut through a stroke must
   leave slices the model is surer still of, and never makes a 1 of anything but an
   upright stroke as tall as the whole: any stroke of a letter or a shape, cut free,
   reads as a 1 (the arms of a V, an X, a K). A dot is never cut.
3. The marks. Before grouping, the marks of a number are told apart by their place in
   the line of writing (serve/core/marks.py): a decimal point, thousands commas, a
   leading minus, a line under the digits; and two marks no number has, a plus sign and
   a ring round the digits.
4. The answer. Each candidate left is read as a single digit is (the same MNIST layout,
   the same model and thresholds), with its box in the upload's pixels. The parts,
   digits and marks, left to right, write the number only when every part is a digit or
   a mark in its place: a candidate the model calls no digit, one much shorter than the
   digits, a mark no number has or a mark out of place (a point before the first digit,
   commas not three digits apart), digits lying over each other (stacked, or slanted
   like hatching), 1s closer together than digits are written (upright hatching), a lone
   digit in doubt, or more than ``most_digits`` digits, and the answer has no number and
   says why (``reason``). A number is never made by leaving a part out, except a speck
   far from the digits and an underline.

Every tuned value is in ``segment.TUNING`` (the marks' in ``marks.MARKS``), with its unit
and why.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass, field

import numpy as np

from serve.core.marks import FOREIGN, find_marks
from serve.core.postprocess import postprocess
from serve.core.preprocess import checked_grey, ink_map, mnist_layout, to_grey_with_origin
from serve.core.segment import (
    TUNING,
    Blob,
    Box,
    Cut,
    find_blobs,
    holds_ink,
    ink_of,
    is_dot,
    leaning_cuts,
    on_grid,
    straight_cuts,
)

NO_DIGIT = float(np.log(TUNING.least_probability))  # the score of a candidate no digit


@dataclass(frozen=True)
class Candidate:
    """What may be one digit. Its box, its blobs and, for a slice, the cuts it lies between
    make it what it is: a candidate is the key its model answer is kept under (``Answers``),
    and its ink is left out of the comparison."""

    box: Box  # in the grid
    labels: tuple[int, ...]  # the blobs it is made of
    ink: np.ndarray = field(compare=False, repr=False)  # its ink alone, in its box
    # A slice: the two cuts it lies between (each a column per row), as slices may share
    # a box.
    between: tuple = ()


def candidate_of(blobs: list[Blob], ink: np.ndarray, labels: np.ndarray) -> Candidate:
    """The blobs as one candidate, with their ink alone cut out of the grid's."""
    box = box_of(blobs)
    blob_labels = tuple(blob.label for blob in blobs)
    return Candidate(box, blob_labels, ink_of(ink, labels, box, blob_labels))


def box_of(blobs: list[Blob]) -> Box:
    return functools.reduce(Box.around, (blob.box for blob in blobs))


class Answers:
    """The model's answers for candidates, each laid out and run once: the grouping, the
    cutting and the final answer ask about many of the same ones."""

    def __init__(self, predictor):
        self.predictor = predictor
        self.known: dict[Candidate, tuple] = {}  # -> (model input, probs, is_digit)

    def of(self, candidates: list[Candidate]) -> list[tuple]:
        new = {c: c.ink for c in candidates if c not in self.known}
        if new:
            inputs = np.stack([mnist_layout(ink)[:, :, None] for ink in new.values()])
            probs, is_digit = self.predictor.predict(inputs)
            self.known.update(zip(new, zip(inputs, probs, is_digit, strict=True), strict=True))
        return [self.known[c] for c in candidates]

    def digit(self, candidate: Candidate) -> int:
        """The digit the model reads in a candidate."""
        return int(self.of([candidate])[0][1].argmax())

    def sure(self, candidates: list[Candidate]) -> np.ndarray:
        """For each candidate, the probability that it is the digit the model reads in it."""
        return np.array([d * p.max() for _, p, d in self.of(candidates)])


def read_number(image, predictor) -> tuple[np.ndarray, dict]:
    """A decoded image -> (model inputs (N, 28, 28, 1), the answer: number, value,
    verdict, reason, count, digits, parts)."""
    grey, origin = to_grey_with_origin(image)
    ink = ink_map(checked_grey(grey))  # refuses what one digit's reading refuses
    ink, factor = on_grid(ink)
    labels, blobs = find_blobs(ink)
    marks, blobs = find_marks(blobs, ink, labels)
    answers = Answers(predictor)
    candidates = group(blobs, ink, labels, answers)
    if len(candidates) <= TUNING.most_digits:  # more are not read: cutting makes more still
        candidates = cut(candidates, answers, predictor.thresholds)
    scale = image.info.get("scale", 1.0)

    def in_pixels(box: Box) -> list[int]:
        return in_upload(box, grey.shape, origin, factor, scale)

    read = candidates[: TUNING.most_digits]
    boxes = [ink_box(candidate) for candidate in read]
    digits, inputs = [], []
    for box, (model_input, p, d) in zip(boxes, answers.of(read), strict=True):
        digits.append({**postprocess(p, d, predictor.thresholds), "box": in_pixels(box)})
        inputs.append(model_input)
    tallest = max((box.height for box in boxes), default=0)
    parts = [
        Part("digit" if is_digit(c, box, digit, tallest) else "unknown", box, digit)
        for c, box, digit in zip(read, boxes, digits, strict=True)
    ]
    parts += [Part(mark.kind, mark.box) for mark in marks]
    parts.sort(key=lambda part: part.box.centre)
    reason = f"more than {TUNING.most_digits} digits" if len(candidates) > len(read) else None
    # Every part may be a mark (a plus drawn apart inside a ring): no digit, no input.
    model_inputs = np.stack(inputs) if inputs else np.empty((0, 28, 28, 1), np.float32)
    return model_inputs, {
        **number_of(parts, reason),
        "count": len(digits),
        "digits": digits,
        "parts": [part.shown(in_pixels) for part in parts],
    }


@dataclass(frozen=True)
class Part:
    """A part of what is written: a digit, a mark of a number, or something unknown."""

    kind: str  # "digit", "unknown", or one of marks.KINDS
    box: Box
    digit: dict | None = field(default=None, compare=False)  # a candidate's answer

    def shown(self, in_pixels) -> dict:
        shown = {"kind": self.kind, "box": in_pixels(self.box)}
        return shown | ({"digit": self.digit["digit"]} if self.kind == "digit" else {})


def is_digit(candidate: Candidate, box: Box, answer: dict, tallest: int) -> bool:
    """Whether a candidate read by the model counts as a digit of the number: the model
    does not call it no digit, it holds no ink inside a loop (a ring round a digit), and
    it is about as tall as digits written in one line are (``box``: its ink's)."""
    if answer["verdict"] == "not_a_digit":
        return False
    if answer["digit"] in LOOPED and holds_ink(candidate.ink):  # a ring reads as a loop
        return False
    return box.height >= TUNING.shortest_digit_in_tallest_digit_heights * tallest


def number_of(parts: list[Part], reason: str | None) -> dict:
    """The number the parts write, left to right: its text, value and verdict, or the
    reason it is no number."""
    written = [part for part in parts if part.kind != "underline"]
    reason = reason or misplaced(written)
    if reason:
        return {"number": None, "value": None, "verdict": "not_a_digit", "reason": reason}
    text = "".join(SYMBOLS.get(p.kind) or str(p.digit["digit"]) for p in written)
    plain = text.replace(",", "")
    sure = all(p.digit["verdict"] == "digit" for p in written if p.kind == "digit")
    if len(written) == 1 and not sure:  # as plain /predict, a lone digit in doubt is no reading
        reason = "one digit, and the model is unsure of it: see its top3"
        return {"number": None, "value": None, "verdict": "unsure", "reason": reason}
    return {
        "number": text,
        "value": float(plain) if "." in plain else int(plain),
        "verdict": "digit" if sure else "unsure",
        "reason": None,
    }


SYMBOLS = {"point": ".", "comma": ",", "minus": "-"}
LOOPED = (0, 6, 8, 9)  # what a ring drawn round a digit, one blob with it, is read as
FOREIGN_NAMES = {"plus": "plus sign", "ring": "ring round the digits"}


def misplaced(written: list[Part]) -> str | None:
    """Why the parts written (an underline left out) make no number, or None: a part that
    is neither a digit nor a mark of a number, digits lying over each other, or a mark
    where a number has none."""
    for i, part in enumerate(written):
        if part.kind == "unknown":
            return f"part {i + 1} of {len(written)} is neither a digit nor a mark of a number"
        if part.kind in FOREIGN:
            return (
                f"part {i + 1} of {len(written)} is a {FOREIGN_NAMES[part.kind]}: no number has one"
            )
    digits = [(i, part) for i, part in enumerate(written) if part.kind == "digit"]
    if not digits:
        return "no part is a digit"
    for (i, left), (j, right) in itertools.pairwise(digits):
        if left.box.shared_columns(right.box) > TUNING.most_shared_columns:
            return f"parts {i + 1} and {j + 1} of {len(written)} overlap as digits never do"
        if hatched(left, right):
            return f"parts {i + 1} and {j + 1} of {len(written)} are strokes as close as hatching"
    kinds = "".join("d" if p.kind == "digit" else SYMBOLS[p.kind] for p in written)
    if not NUMBER.fullmatch(kinds):
        return f"the marks are not where a number has them: {kinds.replace('d', '#')}"
    return None


def hatched(left: Part, right: Part) -> bool:
    """Whether two neighbouring digits are 1s closer together than digits are written:
    upright strokes side by side, as in hatching."""
    if left.digit["digit"] != 1 or right.digit["digit"] != 1:
        return False
    pitch = right.box.centre - left.box.centre
    return pitch < TUNING.least_pitch_of_ones_in_heights * max(left.box.height, right.box.height)


# A number: an optional minus, digits in groups of three between commas (or no commas),
# an optional point with digits after it.
NUMBER = re.compile(r"-?(d{1,3}(,ddd)+|d+)(\.d+)?")


# --- grouping blobs into candidates ------------------------------------------------------


def group(blobs: list[Blob], ink, labels, answers: Answers) -> list[Candidate]:
    """The candidates the blobs make, left to right: the best grouping of the blobs that
    are not specks, then each speck joined to the candidate it is near, or dropped."""
    if not blobs:
        return []
    largest = max(blob.mass for blob in blobs)
    least_mass = TUNING.speck_share_of_largest_mass * largest
    specks = [blob for blob in blobs if blob.mass < least_mass]
    rest = sorted((b for b in blobs if b.mass >= least_mass), key=lambda b: b.box.centre)
    grouping = best_grouping(rest, ink, labels, answers) if len(rest) > 1 else [rest]
    for speck in sorted(specks, key=lambda b: -b.mass):
        boxes = [box_of(members) for members in grouping]
        nearest = min(range(len(grouping)), key=lambda i: boxes[i].gap(speck.box))
        if boxes[nearest].gap(speck.box) <= TUNING.speck_reach_in_heights * boxes[nearest].height:
            grouping[nearest] = [*grouping[nearest], speck]
        # else: a stray speck far from any digit, dropped
    return [candidate_of(members, ink, labels) for members in grouping]


def best_grouping(blobs: list[Blob], ink, labels, answers: Answers) -> list[list[Blob]]:
    """The grouping of the blobs (sorted by centre) into candidates of up to
    ``most_blobs_per_candidate`` neighbours whose candidates are most surely digits (see
    the module's docstring): the blobs of each candidate, left to right."""
    n = len(blobs)
    most = TUNING.most_blobs_per_candidate
    steps = [(i, j) for i in range(n) for j in range(i + 1, min(n, i + most) + 1)]
    boxes = {(i, j): box_of(blobs[i:j]) for i, j in steps}
    tallest = max(blob.box.height for blob in blobs)

    def may_be_one_digit(i: int, j: int) -> bool:
        box = boxes[i, j]
        if box.height < TUNING.shortest_candidate_in_tallest_blob_heights * tallest:
            return False
        if j - i == 1:
            return True
        # Full-height blobs side by side, not sharing a column, are two digits: only a
        # short blob (a flag, a bar, half of a broken loop) or blobs that overlap can
        # belong together.
        members = [blob.box for blob in blobs[i:j]]
        full_height = TUNING.short_blob_in_tallest_blob_heights * tallest
        short = any(b.height < full_height for b in members)
        overlap = any(a.shared_columns(b) > 0 for a, b in itertools.pairwise(members))
        return box.width <= TUNING.widest_candidate_in_heights * box.height and (short or overlap)

    asked = [step for step in steps if may_be_one_digit(*step)]
    # Neighbours that cannot be one digit count as a non-digit for each digit that would
    # fit across them, rounded up: otherwise, when one blob of a row is no digit (too small,
    # or unreadable), swallowing its neighbours with it would cost no more than leaving it
    # out alone.
    score = {s: NO_DIGIT * max(1, math.ceil(boxes[s].width / boxes[s].height)) for s in steps}
    sure = answers.sure([candidate_of(blobs[i:j], ink, labels) for i, j in asked])
    score.update(zip(asked, np.log(np.maximum(sure, TUNING.least_probability)), strict=True))
    charge = np.log(TUNING.odds_charged_per_candidate)
    score = {step: value + charge for step, value in score.items()}
    return [blobs[i:j] for i, j in best_path(score, n + 1)]


# --- cutting candidates ------------------------------------------------------------------


def cut(candidates: list[Candidate], answers: Answers, thresholds) -> list[Candidate]:
    """Each wide candidate that may be two digits cut into the candidates it reads best
    as. A candidate may be two digits when the model is not sure it is one, or when it can
    be cut where its ink only touches; a dot is never cut (its slices would read as 1s)."""
    sure = answers.sure(candidates)
    out = []
    for candidate, whole in zip(candidates, sure, strict=True):
        box, unsure = candidate.box, whole < thresholds.sure_from
        if unsure:
            least_width = TUNING.unsure_cut_width_in_heights * box.height
        else:
            least_width = TUNING.sure_cut_width_in_heights * box.height
        wide = box.width >= least_width and not is_dot(candidate.ink)
        cuts = straight_cuts(candidate.ink, box.height) if wide else []
        if not unsure:  # read surely as one digit: cut only where the ink merely touches
            cuts = [c for c in cuts if only_touches(c)]
        slices = best_cuts(candidate, cuts, answers, thresholds) if cuts else [candidate]
        overlapping = box.width > TUNING.leaning_cut_width_in_heights * box.height
        if unsure and len(slices) == 1 and overlapping and wide:
            # No straight cut parts it: digits written so close that they overlap (a 7's
            # bar over the next digit, two 0s side by side).
            leaning = leaning_cuts(candidate.ink, box.height)
            slices = best_cuts(candidate, leaning, answers, thresholds) if leaning else slices
        out.extend(slices)
    return out


def only_touches(cut: Cut) -> bool:
    return cut.strokes < TUNING.touch_in_strokes


def best_cuts(
    candidate: Candidate, cuts: list[Cut], answers: Answers, thresholds
) -> list[Candidate]:
    """``candidate`` cut at some of ``cuts`` into the slices that are most surely digits
    (every way at once: one batch through the model, then dynamic programming); whole
    when no cut leaves slices the model calls "digit" (``thresholds.sure_from``): the
    slices of a letter (an m cut into 177) read as digits, but often in doubt."""
    rows, width = candidate.ink.shape
    bounds = [np.zeros(rows, int), *(np.array(c.columns) for c in cuts), np.full(rows, width)]
    steps = [(i, j) for i in range(len(bounds)) for j in range(i + 1, len(bounds))]
    slices = {step: slice_between(candidate, bounds, step) for step in steps}
    slices[0, len(bounds) - 1] = candidate  # the whole, as the model already read it
    inked = [step for step in steps if slices[step].ink.any()]
    sure = dict.fromkeys(steps, 0.0)
    sure.update(zip(inked, answers.sure([slices[step] for step in inked]), strict=True))
    # Every slice must read as a digit surely ("digit": the slices of a letter cut apart
    # read as digits, in doubt), and more surely still beside a cut through a stroke. A
    # cut straight through a stroke makes a 1 only of an upright stroke as tall as the
    # whole: any stroke of a letter or a shape, cut free, reads as a 1 (a V, an X, the
    # arms of a K).
    stroke = [False, *(not only_touches(c) for c in cuts), False]  # for each bound
    straight = [False, *(len(set(c.columns)) == 1 for c in cuts), False]
    for i, j in inked:
        piece = slices[i, j]
        through = (stroke[i] and straight[i]) or (stroke[j] and straight[j])
        if (i, j) != (0, len(bounds) - 1) and answers.digit(piece) == 1:
            slant = TUNING.one_width_by_stroke if through else TUNING.one_width
            if not upright(ink_box(piece), candidate.box.height, slant):
                sure[i, j] = 0.0
        if (stroke[i] or stroke[j]) and sure[i, j] < TUNING.least_sure_slice_of_a_stroke_cut:
            sure[i, j] = 0.0
    # A cut where the ink only touches is free; one through a stroke must make the reading
    # much surer: a slice of one digit (the end of a 4's stroke, a 2's hook) often reads
    # as a 1.
    paid = [1.0, *(1.0 if only_touches(c) else TUNING.odds_charged_per_stroke_cut for c in cuts)]
    score = {(i, j): np.log(max(sure[i, j], TUNING.least_probability) * paid[i]) for i, j in steps}
    path = best_path(score, len(bounds))
    if len(path) == 1 or min(sure[step] for step in path) < thresholds.sure_from:
        return [candidate]
    return [slices[step] for step in path]


def upright(box: Box, height: int, slant: float) -> bool:
    """Whether ink in ``box`` is a stroke about ``height`` tall, at most ``slant`` of its
    height wide, as a 1 is."""
    return box.height >= TUNING.one_in_heights * height and box.width <= slant * box.height


def slice_between(candidate: Candidate, bounds: list[np.ndarray], step) -> Candidate:
    """The slice of ``candidate`` between the cuts ``bounds[i]`` and ``bounds[j]``, in the
    columns it spans."""
    i, j = step
    left, right = int(bounds[i].min()), int(bounds[j].max())
    columns = np.arange(left, right)
    inside = (columns >= bounds[i][:, None]) & (columns < bounds[j][:, None])
    box = candidate.box
    box = Box(box.top, box.left + left, box.bottom, box.left + right)
    between = (tuple(bounds[i].tolist()), tuple(bounds[j].tolist()))
    return Candidate(box, candidate.labels, candidate.ink[:, left:right] * inside, between)


def best_path(score: dict, points: int) -> list[tuple[int, int]]:
    """The steps (i, j) from point 0 to point ``points - 1`` whose scores add up to the
    most (dynamic programming); ``score[i, j]`` for every step that may be taken."""
    best = [0.0] + [-np.inf] * (points - 1)
    start = [0] * points
    for j in range(1, points):
        for i in range(j):
            if (i, j) in score and best[i] + score[i, j] > best[j]:
                best[j], start[j] = best[i] + score[i, j], i
    path, j = [], points - 1
    while j > 0:
        path.append((start[j], j))
        j = start[j]
    return path[::-1]


# --- the answer --------------------------------------------------------------------------


def ink_box(candidate: Candidate) -> Box:
    """The box of the candidate's ink alone: a slice keeps all the rows of the candidate it
    was cut from, and a slice between leaning cuts some columns of paper."""
    rows = np.flatnonzero(candidate.ink.any(axis=1))
    cols = np.flatnonzero(candidate.ink.any(axis=0))
    top, left = candidate.box.top, candidate.box.left
    return Box(
        top + int(rows[0]), left + int(cols[0]), top + int(rows[-1]) + 1, left + int(cols[-1]) + 1
    )


def in_upload(box: Box, grey_shape, origin, factor: int, scale: float) -> list[int]:
    """A box of the grid as [left, top, right, bottom] in the upload's pixels. A cell is
    ``factor`` of the grey image's pixels a side (the last ones may be cut short), the grey
    image lies at ``origin`` in the decoded image, and a decoded pixel is ``scale`` of the
    upload's."""
    left, top, right, bottom = (v * factor for v in (box.left, box.top, box.right, box.bottom))
    right, bottom = min(right, grey_shape[1]), min(bottom, grey_shape[0])
    return [
        round((o + v) * scale) for o, v in zip(origin * 2, (left, top, right, bottom), strict=True)
    ]
