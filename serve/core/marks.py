"""The marks of a written number besides its digits: a decimal point, a thousands comma, a
leading minus sign; and a line under the digits, which is no part of the number.

A mark is told by where it lies in the line of writing, not by the model (which knows
only digits): the line is the band between the tops and the bottoms of the tall blobs
(``Line``), and each mark has its place in it. A point is a small round blob on the
baseline between two digits; a comma a small blob between two digits that hangs below
the baseline; a minus a short flat stroke at mid-height before the first digit; an
underline a flat stroke below the writing, under a digit. Every other blob, small or
not, is left for the digits (a 5's flag and a 7's bar are short flat strokes too, but
they lie over their digit's columns); one that is no digit makes the reading "not a
number" later, in serve/core/number.py.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np

from serve.core.segment import Blob, Box, ink_of, pen_width

KINDS = ("point", "comma", "minus", "underline")  # a number's own
FOREIGN = ("plus", "ring")  # marks no number has: with one, the drawing is no number


@dataclass(frozen=True)
class Marks:
    """Where marks are told apart, in heights of the line (``Line.height``)."""

    # Blobs at least this tall, for the tallest, make the line...
    tall: float = 0.5
    # ...and a mark is shorter than this, for the line.
    mark: float = 0.75
    # A point is at most this tall and wide...
    point: float = 0.35
    # ...at least this many pen widths across (a dot pressed on purpose, no speck; the pen
    # is measured across the digits' strokes, soft edges and all, so a dot of the same pen
    # measures a little less than one)...
    pen_point: float = 0.75
    # ...round, as wide as tall within this factor either way...
    roundness: float = 2.5
    # ...its bottom within this of the baseline.
    on_baseline: float = 0.3
    # A comma starts low, its top below this share of the line (a digit's top is near the
    # line's)...
    comma_top: float = 0.5
    # ...is at most this tall and wide, reaches at least this far below the baseline...
    comma: float = 0.75
    comma_width: float = 0.5
    below_baseline: float = 0.1
    # ...and is taller than wide by at least this factor (a point is round), unless it
    # hangs this far below the baseline: a fat pen's comma is a blob, but a point sits on
    # the baseline.
    comma_shape: float = 1.3
    deep_below_baseline: float = 0.2
    # An underline is flat: at least this many times as wide as tall, and at most this
    # tall...
    flat: float = 1.5
    thin: float = 0.3
    # A minus is flat too, but a fat pen makes a short stroke nearly as tall as it is wide:
    # at least this many times as wide as tall, at most this tall...
    minus_flat: float = 1.2
    minus_thin: float = 0.45
    # ...at least this wide, its middle this near the line's middle.
    minus: float = 0.2
    mid: float = 0.3
    # An underline is at least this wide, and its top lies below this share of the line.
    underline: float = 0.5
    under: float = 0.85
    # A mark shares at most this share of its columns with a digit's blob (a 5's flag,
    # a 7's bar lie over their digit); an underline is the exception.
    overlap: float = 0.3
    # A blob that holds another this tall for its own height, clear of its edges, is a
    # ring round it.
    ringed: float = 0.3
    # A plus is this tall, for the line (smaller than a digit)...
    cross_size: tuple[float, float] = (0.2, 0.85)
    # ...about as wide as tall, within this factor, its middle near the line's...
    cross_shape: float = 1.6
    # ...with a bar across and a bar down, each this long for its box and this near its
    # middle...
    cross_mid: float = 0.2
    bar: float = 0.7
    # ...each bar at most this thick for the box (a short thick stroke, a minus drawn
    # with a fat pen, fills every column)...
    thickest_bar: float = 0.5
    # ...leaving its corners, beyond this share of its box either side of its bars, holding
    # at most this share of its ink.
    arm: float = 0.1
    corner_ink: float = 0.1


MARKS = Marks()


@dataclass(frozen=True)
class Line:
    """The band a number is written in: from the tops to the bottoms of its tall blobs."""

    top: float
    baseline: float

    @property
    def height(self) -> float:
        return self.baseline - self.top

    def near_middle(self, box: Box) -> bool:
        """Whether a box's middle lies near the line's, as a sign's does."""
        middle = (box.top + box.bottom) / 2
        return abs(middle - (self.top + self.height / 2)) <= MARKS.mid * self.height

    @classmethod
    def of(cls, tall: list[Box]) -> Line:
        return cls(
            statistics.median(box.top for box in tall),
            statistics.median(box.bottom for box in tall),
        )


@dataclass(frozen=True)
class Mark:
    kind: str  # one of KINDS
    box: Box


def find_marks(blobs: list[Blob], ink, labels) -> tuple[list[Mark], list[Blob]]:
    """(the marks among the blobs, the other blobs): see the module's docstring. ``ink``
    and ``labels`` are the grid's (segment.find_blobs)."""
    if not blobs:
        return [], []
    tallest = max(blob.box.height for blob in blobs)
    tall_blobs = [blob for blob in blobs if blob.box.height >= MARKS.tall * tallest]
    tall = [blob.box for blob in tall_blobs]
    line = Line.of(tall)
    pen = statistics.median(
        pen_width(ink_of(ink, labels, blob.box, (blob.label,)) > 0) for blob in tall_blobs
    )
    marks, rest = [], []
    for blob in blobs:
        if any(encloses(blob.box, other.box) for other in blobs):
            kind = "ring"
        elif may_be_a_cross(blob.box, line) and is_cross(
            ink_of(ink, labels, blob.box, (blob.label,)) > 0
        ):
            kind = "plus"
        elif blob.box.height < MARKS.mark * line.height:
            kind = kind_of(blob.box, line, [box for box in tall if box != blob.box], pen)
        else:
            kind = None
        if kind:
            marks.append(Mark(kind, blob.box))
        else:
            rest.append(blob)
    return marks, rest


def encloses(box: Box, other: Box) -> bool:
    """Whether ``other`` lies inside ``box``, clear of its edges: a ring round a digit."""
    inside = box.top < other.top and other.bottom < box.bottom
    inside = inside and box.left < other.left and other.right < box.right
    return inside and other.height >= MARKS.ringed * box.height


def may_be_a_cross(box: Box, line: Line) -> bool:
    """Whether a blob's box is a plus sign's: smaller than the digits, about as wide as
    tall, at mid-height."""
    if not MARKS.cross_size[0] * line.height <= box.height <= MARKS.cross_size[1] * line.height:
        return False
    return (
        1 / MARKS.cross_shape <= box.width / box.height <= MARKS.cross_shape
        and line.near_middle(box)
    )


def is_cross(mask) -> bool:
    """Whether a blob's ink (``mask``, in its box) is a plus sign's: a bar across and a bar
    down crossing near its middle, and its corners empty (a 4 or a crossed 7 has ink in a
    corner). A bar is the run of rows (columns) round the fullest one that it fills, so a
    thick pen's bar is whole."""
    h, w = mask.shape
    top, bottom = bar(mask.sum(axis=1), MARKS.bar * w)
    left, right = bar(mask.sum(axis=0), MARKS.bar * h)
    middle = abs((top + bottom) / 2 - h / 2) <= MARKS.cross_mid * h
    middle = middle and abs((left + right) / 2 - w / 2) <= MARKS.cross_mid * w
    reach_r, reach_c = max(1, round(MARKS.arm * h)), max(1, round(MARKS.arm * w))
    corners = mask.copy()
    corners[max(top - reach_r, 0) : bottom + reach_r] = False
    corners[:, max(left - reach_c, 0) : right + reach_c] = False
    empty = corners.sum() <= MARKS.corner_ink * mask.sum()
    thin = 0 < bottom - top <= MARKS.thickest_bar * h and 0 < right - left <= MARKS.thickest_bar * w
    return thin and middle and empty


def bar(ink: np.ndarray, least: float) -> tuple[int, int]:
    """The run of lines (first, last + 1) round the fullest of ``ink`` (ink per line) that
    each hold at least ``least``; (0, 0) when none does."""
    fullest = int(ink.argmax())
    if ink[fullest] < least:
        return 0, 0
    first, last = fullest, fullest
    while first > 0 and ink[first - 1] >= least:
        first -= 1
    while last + 1 < len(ink) and ink[last + 1] >= least:
        last += 1
    return first, last + 1


def kind_of(box: Box, line: Line, tall: list[Box], pen: float) -> str | None:
    """The kind of mark a short blob's box is, or None; ``pen`` is the width of the pen
    the digits were written with."""
    h = line.height
    over = max((box.shared_columns(other) for other in tall), default=0.0)
    left = any(other.centre < box.centre for other in tall)
    right = any(other.centre > box.centre for other in tall)
    flat = box.width >= MARKS.flat * box.height and box.height <= MARKS.thin * h
    if flat and box.top >= line.top + MARKS.under * h and box.width >= MARKS.underline * h:
        return "underline" if over > 0 else None
    if over > MARKS.overlap:
        return None
    dash = box.width >= MARKS.minus_flat * box.height and box.height <= MARKS.minus_thin * h
    if dash and box.width >= MARKS.minus * h and right and not left and line.near_middle(box):
        return "minus"
    if not (left and right):
        return None
    hangs = box.bottom >= line.baseline + MARKS.below_baseline * h
    tall_and_thin = box.height >= MARKS.comma_shape * box.width
    deep = box.bottom >= line.baseline + MARKS.deep_below_baseline * h
    low = box.top >= line.top + MARKS.comma_top * h
    size = box.height <= MARKS.comma * h and box.width <= MARKS.comma_width * h
    if hangs and (tall_and_thin or deep) and low and size:
        return "comma"
    small = box.height <= MARKS.point * h and box.width <= MARKS.point * h
    pressed = max(box.width, box.height) >= MARKS.pen_point * pen  # no slip of the pen
    ratio = max(box.width, box.height) / max(min(box.width, box.height), 1)
    low = abs(box.bottom - line.baseline) <= MARKS.on_baseline * h
    if small and pressed and ratio <= MARKS.roundness and low:
        return "point"
    return None
