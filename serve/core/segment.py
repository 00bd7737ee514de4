"""Split the ink of one image into digits, left to right.

  on_grid          the ink on a grid of at most LABEL_ROWS rows, where the rest works
  ink_components   8-connected blobs of ink (run-length labelling, numpy + a little Python)
  group_digits     blobs -> digits: the pieces of one digit joined, stray specks dropped
  cut_columns      where digits touch: the columns to try cutting at, and how many
                   strokes each crosses
  cut_paths        where digits overlap: leaning cuts that cross the least ink
  best_path        the best of many ways to cut or group, by dynamic programming

A digit is often more than one blob: a 5 whose flag is a separate stroke, a 7 or a 4 drawn
in two strokes, a thin fast stroke broken into pieces. People write the digits of a
number side by side, so the pieces of one digit are neighbours in the order of their
centres; which neighbours make one digit is decided by recognition, with the model
(serve/core/number.py), which knows what a digit is. Touching digits make one blob;
whether and where to cut it is decided the same way.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
from PIL import Image

SPECK = 0.05  # a blob under this share of the largest blob's ink is a speck...
NEAR = 0.35  # ...and joins a digit within this many of its heights, or is dropped
GROUP = 4  # one digit is made of at most this many neighbouring blobs
WIDEST = 1.2  # ...and is at most this wide for its height
SHORTEST = 0.5  # ...and at least this tall for the tallest blob's height
PIECE = 0.7  # a blob shorter than this, for the tallest, may be a piece of a digit
APART = 0.9  # the odds each digit of a grouping pays: fewer digits win a near tie
NARROWEST = 0.2  # touching digits are cut no closer than this many heights apart
MAX_CUTS = 6
LEAN = 0.01  # what a cut pays, in strokes crossed, for each column it leans
NO_DIGIT = float(np.log(1e-6))  # the score of a candidate that is no digit


@dataclass
class Blob:
    top: int
    left: int
    bottom: int  # exclusive
    right: int  # exclusive
    mass: float  # the sum of its ink
    labels: tuple[int, ...]  # the components it is made of
    part: tuple = ()  # a slice of a cut blob: which cuts bound it (slices may share a box)

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def joined(self, other: Blob) -> Blob:
        return Blob(
            min(self.top, other.top),
            min(self.left, other.left),
            max(self.bottom, other.bottom),
            max(self.right, other.right),
            self.mass + other.mass,
            self.labels + other.labels,
        )

    def shared_columns(self, other: Blob) -> float:
        """The columns both span, as a share of the narrower one's width."""
        shared = min(self.right, other.right) - max(self.left, other.left)
        return max(shared, 0) / min(self.width, other.width)

    def gap(self, other: Blob) -> float:
        """The distance between the two boxes (0 when they overlap)."""
        dx = max(other.left - self.right, self.left - other.right, 0)
        dy = max(other.top - self.bottom, self.top - other.bottom, 0)
        return float(np.hypot(dx, dy))


LABEL_ROWS = 96  # a number is read on a grid this many rows high, at most
CLOSE = 0.03  # gaps narrower than this share of the image's height are closed


def on_grid(ink: np.ndarray) -> tuple[np.ndarray, int]:
    """(ink, factor): ``ink`` reduced by a whole factor to at most LABEL_ROWS rows. Block
    means keep a thin stroke unbroken; a digit's 28x28 input needs far fewer rows than a
    pad has, and every later step works on fewer pixels."""
    factor = -(-ink.shape[0] // LABEL_ROWS)
    if factor == 1:
        return ink, 1
    return np.asarray(Image.fromarray(ink).reduce(factor)), factor


def ink_components(ink: np.ndarray) -> tuple[np.ndarray, list[Blob]]:
    """(labels, blobs): the 8-connected blobs of ink > 0, and each pixel's blob (0: none).
    ``digit_ink`` cuts a digit out."""
    # Gaps under CLOSE of the height join up: the dashes of a thin stroke drawn fast or
    # scanned faintly make one blob. Digits written that close are cut apart later.
    inked = ink > 0
    labels = label_runs(grow(inked, round(CLOSE / 2 * LABEL_ROWS))) * inked
    mass = np.bincount(labels.ravel(), ink.ravel(), minlength=int(labels.max()) + 1)
    blobs = []
    for label in range(1, len(mass)):
        rows = np.flatnonzero((labels == label).any(axis=1))
        cols = np.flatnonzero((labels == label).any(axis=0))
        blobs.append(
            Blob(
                int(rows[0]),
                int(cols[0]),
                int(rows[-1]) + 1,
                int(cols[-1]) + 1,
                float(mass[label]),
                (label,),
            )
        )
    return labels, blobs


def digit_ink(ink: np.ndarray, labels: np.ndarray, blob: Blob) -> np.ndarray:
    """The ink of ``blob`` alone (other blobs' ink inside its box removed), in its box."""
    box = np.s_[blob.top : blob.bottom, blob.left : blob.right]
    mine = functools.reduce(np.logical_or, [labels[box] == label for label in blob.labels])
    return ink[box] * mine


def grow(mask: np.ndarray, reach: int) -> np.ndarray:
    """``mask`` dilated by ``reach`` cells in every direction (a square), one axis at a
    time."""
    out = mask
    for axis in (0, 1):
        grown = out.copy()
        for k in range(1, reach + 1):
            ahead, behind = [slice(None)] * 2, [slice(None)] * 2
            ahead[axis], behind[axis] = slice(k, None), slice(None, -k)
            grown[tuple(ahead)] |= out[tuple(behind)]
            grown[tuple(behind)] |= out[tuple(ahead)]
        out = grown
    return out


def label_runs(mask: np.ndarray) -> np.ndarray:
    """8-connected components of a boolean mask, labelled 1..n (0 = no ink).

    Labels runs of ink row by row and joins the runs that touch a run of the row above
    (union-find over runs, so the Python work grows with the number of runs, not pixels).
    """
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # exclusive; same order as the starts
    parent = list(range(len(rows)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Plain lists: the loop reads single items, which numpy arrays give slowly.
    first_of_row = np.searchsorted(rows, np.arange(mask.shape[0] + 1)).tolist()
    run_starts, run_ends = starts.tolist(), ends.tolist()
    for row in range(1, mask.shape[0]):
        i, above_end = first_of_row[row - 1], first_of_row[row]
        for j in range(first_of_row[row], first_of_row[row + 1]):
            # Runs on both rows go left to right: skip the runs above that end before
            # this one starts (8-connected: a diagonal touch counts), join the ones that
            # overlap it. The last of those may touch the next run too, so i stays.
            while i < above_end and run_ends[i] < run_starts[j]:
                i += 1
            k = i
            while k < above_end and run_starts[k] <= run_ends[j]:
                parent[root(k)] = root(j)
                k += 1
    _, run_label = np.unique([root(i) for i in range(len(rows))], return_inverse=True)
    lengths = ends - starts
    run_of_pixel = np.repeat(np.arange(len(rows)), lengths)
    columns = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    labels = np.zeros(mask.shape, np.int32)
    labels[rows[run_of_pixel], starts[run_of_pixel] + columns] = run_label[run_of_pixel] + 1
    return labels


def group_digits(blobs: list[Blob], sure) -> list[Blob]:
    """The digits the blobs make, left to right (see the module's docstring).

    Specks join the digit they are near, or are dropped. The other blobs, in order of
    their centres, are grouped into digits by recognition: ``sure(groups)`` gives, for
    each candidate group of neighbouring blobs, the probability that it is one digit,
    and the grouping with the highest product wins.
    """
    if not blobs:
        return []
    largest = max(blob.mass for blob in blobs)
    digits = sorted((b for b in blobs if b.mass >= SPECK * largest), key=centre)
    specks = [b for b in blobs if b.mass < SPECK * largest]
    if len(digits) > 1:
        digits = best_grouping(digits, sure)
    for speck in sorted(specks, key=lambda b: -b.mass):
        nearest = min(range(len(digits)), key=lambda i: digits[i].gap(speck))
        if digits[nearest].gap(speck) <= NEAR * digits[nearest].height:
            digits[nearest] = digits[nearest].joined(speck)
        # else: a stray speck far from any digit, dropped
    return digits


def centre(blob: Blob) -> float:
    return (blob.left + blob.right) / 2


def joined(blobs: list[Blob]) -> Blob:
    return functools.reduce(Blob.joined, blobs)


def best_grouping(blobs: list[Blob], sure) -> list[Blob]:
    """Blobs (sorted by centre) grouped into runs of up to GROUP neighbours, choosing the
    grouping whose groups are most surely digits: the largest sum of log(sure), found by
    dynamic programming over one batch of all candidate groups."""
    n = len(blobs)
    spans = [(i, j) for i in range(n) for j in range(i + 1, min(n, i + GROUP) + 1)]
    groups = {(i, j): joined(blobs[i:j]) for i, j in spans}
    # A group much wider than tall, or much shorter than the tallest blob, is not a digit
    # of this number (a dot over a 1, a fragment): the model need not be asked.
    tallest = max(blob.height for blob in blobs)

    def may_be_one_digit(i: int, j: int) -> bool:
        group = groups[i, j]
        if group.height < SHORTEST * tallest:
            return False
        if j - i == 1:
            return True
        # Full-height blobs side by side, not sharing a column, are two digits: only a
        # short piece (a flag, a bar, half of a broken loop) or blobs that overlap can
        # belong together.
        pieces = blobs[i:j]
        short = any(b.height < PIECE * tallest for b in pieces)
        overlap = any(a.shared_columns(b) > 0 for a, b in itertools.pairwise(pieces))
        return group.width <= WIDEST * group.height and (short or overlap)

    asked = [s for s in spans if may_be_one_digit(*s)]
    # A group that cannot be one digit counts as a non-digit for each digit that would fit
    # across it: otherwise, when one blob of a row is no digit (too small, or unreadable),
    # swallowing the whole row into one group would cost no more than leaving it out.
    score = {
        (i, j): NO_DIGIT * max(1, round(groups[i, j].width / groups[i, j].height)) for i, j in spans
    }
    sures = sure([groups[s] for s in asked])
    score.update(zip(asked, np.log(np.maximum(sures, 1e-6)), strict=True))
    # Each digit pays odds of APART: pieces that read about as surely joined as apart are
    # one digit (a 1 with a stray second stroke beside it, a 4 drawn in two strokes).
    score = {span: value + np.log(APART) for span, value in score.items()}
    return [groups[span] for span in best_path(score, n + 1)]


@dataclass(frozen=True)
class Cut:
    """A cut down a blob, from its top row to its bottom row."""

    columns: tuple[int, ...]  # in each row, the first column on the cut's right
    strokes: float  # how many strokes of the pen the cut crosses (0: none)


def cut_columns(ink: np.ndarray, height: int) -> list[Cut]:
    """Where a blob of touching digits could be cut straight down: its thinnest columns,
    where the cut crosses no more than one stroke (cutting through a loop would make two
    slivers that each look like a 1), apart from each other and from its ends by a narrow
    digit."""
    profile = ink.sum(axis=0) / stroke_width(ink)  # the strokes each column crosses
    chosen = thinnest(profile, max(2, int(NARROWEST * height)))
    return [Cut((column,) * ink.shape[0], float(profile[column])) for column in chosen]


def cut_paths(ink: np.ndarray, height: int) -> list[Cut]:
    """Where a blob of digits written so close that they overlap could be cut: paths
    down it, leaning by up to a column a row, that cross the least ink (dynamic
    programming, row by row). Like cut_columns's, they cross no more than one stroke and
    stay a narrow digit apart from each other and from the blob's ends; each column of
    lean costs a little, so a straight cut is preferred."""
    spacing = max(2, int(NARROWEST * height))
    cost = ink / stroke_width(ink)  # the strokes crossed in each pixel
    cost[:, :spacing] = cost[:, ink.shape[1] - spacing + 1 :] = np.inf  # no slivers
    crossed, paths = cheapest_paths(cost)

    def apart(end: int, other: int) -> bool:  # in every row, not only where they end
        return np.abs(paths[:, end] - paths[:, other]).min() >= spacing

    # Paths that stay apart never cross, so left to right by their ends is left to right.
    ends = thinnest(crossed, spacing, apart)
    return [Cut(tuple(paths[:, end].tolist()), float(crossed[end])) for end in ends]


def cheapest_paths(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(crossed, paths): for each column of the bottom row, the path down to it from the
    top row that adds up the least ``cost`` (moving at most a column a row, each column
    of lean paying LEAN), and what it adds up to; ``paths[:, c]`` is the path to column c."""
    rows, width = cost.shape
    crossed = cost[0].copy()  # the cheapest path from the top to each column of this row
    came = np.zeros((rows, width), np.int8)  # where each pixel's cheapest path came from
    for row in range(1, rows):
        best = crossed.copy()
        for step, ahead, behind in ((-1, np.s_[1:], np.s_[:-1]), (1, np.s_[:-1], np.s_[1:])):
            leaning = crossed[behind] + LEAN
            better = leaning < best[ahead]
            best[ahead][better] = leaning[better]
            came[row, ahead][better] = step
        crossed = best + cost[row]
    paths = np.empty((rows, width), int)
    paths[-1] = np.arange(width)
    for row in range(rows - 1, 0, -1):
        paths[row - 1] = paths[row] + came[row, paths[row]]
    return crossed, paths


def thinnest(strokes: np.ndarray, spacing: int, apart=None) -> list[int]:
    """Up to MAX_CUTS columns where ``strokes`` is lowest and no more than one stroke
    (1.5), ``spacing`` from both ends and ``apart(column, other)`` from each other (by
    default ``spacing`` apart), left to right."""
    apart = apart or (lambda column, other: abs(column - other) >= spacing)
    width = len(strokes)
    chosen: list[int] = []
    for column in np.argsort(strokes, kind="stable").tolist():
        if strokes[column] > 1.5 or len(chosen) == MAX_CUTS:
            break
        if spacing <= column <= width - spacing and all(apart(column, c) for c in chosen):
            chosen.append(column)
    return sorted(chosen)


def stroke_width(ink: np.ndarray) -> float:
    """The typical thickness of the pen: the median length of the runs of ink down the
    columns, weighted by ink."""
    mask = ink > 0
    starts = mask[0] + np.count_nonzero(mask[1:] > mask[:-1], axis=0)  # runs per column
    crossed = starts > 0
    if not crossed.any():
        return 1.0
    return float(np.median(ink.sum(axis=0)[crossed] / starts[crossed]))


def best_path(score: dict, points: int) -> list[tuple[int, int]]:
    """The spans (i, j) covering 0..points-1 whose scores add up to the most (dynamic
    programming); ``score[i, j]`` for every i < j."""
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
