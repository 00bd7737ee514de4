"""The geometry of reading a number: the grid, its blobs, and the cuts down a candidate.

  on_grid        the ink on a grid of at most ``label_rows`` rows, where the rest works
  find_blobs     the blobs, 8-connected components of ink, labelled by runs of ink in
                 each row (numpy and a little Python: no image-processing library is
                 added to the server)
  ink_of         the ink of some blobs alone, in a box
  straight_cuts  the columns where a candidate could be cut straight down
  leaning_cuts   the paths down it, leaning with the gap, that cross the least ink
  stroke_width   the pen's thickness, the unit a cut's cost is counted in

Nothing here asks the model or chooses: serve/core/number.py does, and explains the
words (blob, candidate, cut). ``TUNING`` holds every tuned value of the reading of a
number, those of number.py too: this module is the one both can import.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image

from serve.core.preprocess import crop_to_ink


@dataclass(frozen=True)
class Tuning:
    """The tuned values of reading a number, each in the unit its name ends with: "heights"
    are the candidate's own height unless the name says whose, "strokes" are pen widths
    (``stroke_width``), odds multiply a candidate's probability of being a digit."""

    # --- the grid and the blobs (this module) ---
    # A digit's 28x28 input needs no more rows, and every later step works on fewer pixels.
    label_rows: int = 96
    # Narrower gaps are closed: the dashes of a stroke drawn fast or faint make one blob.
    closed_gap_share_of_label_rows: float = 0.03

    # --- grouping blobs into candidates (number.py) ---
    # A blob with less ink is a speck (a dot, a slip of the pen): never a candidate alone...
    speck_share_of_largest_mass: float = 0.05
    # ...it joins the candidate it is this near (in that candidate's heights), or is dropped.
    speck_reach_in_heights: float = 0.35
    # A digit is drawn in at most this many strokes (a 4 in two, a 5 with its flag apart).
    most_blobs_per_candidate: int = 4
    # Blobs that together are wider than this are two digits or more, never one.
    widest_candidate_in_heights: float = 1.2
    # A candidate shorter than this is no digit of the number (a dot over a 1, a fragment).
    shortest_candidate_in_tallest_blob_heights: float = 0.5
    # A digit read is at least this tall, for the tallest one: shorter is a sign, or a bit.
    shortest_digit_in_tallest_digit_heights: float = 0.3
    # A shorter blob may share a digit with others (a flag, a bar); taller ones side by
    # side that share no column are two digits.
    short_blob_in_tallest_blob_heights: float = 0.7
    # Each candidate of a grouping pays this: blobs that read as surely joined as apart join.
    odds_charged_per_candidate: float = 0.9
    # No probability counts as less: a candidate that is no digit costs a bounded amount.
    least_probability: float = 1e-6

    # --- cutting a candidate (measured in this module, chosen in number.py) ---
    # A candidate the model is not sure of, this wide, may be two touching digits...
    unsure_cut_width_in_heights: float = 0.6
    # ...one read surely must be this wide (two digits joined at a point can read at 0.99).
    sure_cut_width_in_heights: float = 0.8
    # Wider, unsure, and no straight cut parts it: try leaning cuts (digits that overlap).
    leaning_cut_width_in_heights: float = 1.0
    # Cuts stay this far apart and from the ends: a sliver is no digit.
    narrowest_digit_in_heights: float = 0.2
    # The cheapest cuts tried in one candidate, at most.
    most_cuts: int = 6
    # A cut through two strokes (a loop) would make two slivers that each look like a 1.
    most_strokes_per_cut: float = 1.5
    # A cut crossing less than this only parts ink that touches, and is free.
    touch_in_strokes: float = 0.65
    # A cut through a stroke pays this: a slice of a fat digit often reads as a 1.
    odds_charged_per_stroke_cut: float = 0.7
    # A cut is kept only if every slice reads as surely as a "digit" verdict (the model's
    # sure_from): cutting is the reader's guess, and the model must confirm it. At least
    # this surely when the cut goes through a stroke...
    least_sure_slice_of_a_stroke_cut: float = 0.9
    # ...and a slice it makes reads as a 1 only if it is as tall as the whole, nearly,
    # and at most this wide for its height.
    one_in_heights: float = 0.8
    one_width: float = 0.75
    one_width_by_stroke: float = 0.0
    # Of two cuts crossing as much ink, the straighter wins.
    lean_cost_in_strokes_per_column: float = 0.01
    # More digits than this is no number anyone writes on a pad.
    most_digits: int = 12
    # Neighbouring digits share at most this share of the narrower one's columns: digits
    # are written side by side (a 7's bar may reach over the next one), not stacked, and
    # not slanted like hatching.
    most_shared_columns: float = 0.5
    # Two 1s whose centres are closer than this (in the taller one's heights) are strokes
    # of hatching: 1s written as digits stand a third of their height apart or more.
    least_pitch_of_ones_in_heights: float = 0.25

    # --- what counts as a digit (number.py) ---
    # Ink this many strokes inside a closed loop, this share of all of it, is a digit in a
    # ring, no digit.
    inside_in_strokes: float = 1.0
    held_ink: float = 0.1
    # A dot is no longer than this many pen widths (a disk is two)...
    dot_in_strokes: float = 3.0
    # ...and fills at least this share of its convex hull.
    dot_solidity: float = 0.85


TUNING = Tuning()


@dataclass(frozen=True)
class Box:
    """Rows ``top`` to ``bottom`` and columns ``left`` to ``right`` of the grid (the ends
    exclusive)."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def centre(self) -> float:
        """Its middle column: people write digits side by side, so the blobs of one digit
        are neighbours in the order of their centres."""
        return (self.left + self.right) / 2

    def around(self, other: Box) -> Box:
        """The smallest box holding both."""
        return Box(
            min(self.top, other.top),
            min(self.left, other.left),
            max(self.bottom, other.bottom),
            max(self.right, other.right),
        )

    def shared_columns(self, other: Box) -> float:
        """The columns both span, as a share of the narrower one's width."""
        shared = min(self.right, other.right) - max(self.left, other.left)
        return max(shared, 0) / min(self.width, other.width)

    def gap(self, other: Box) -> float:
        """The distance between the two boxes (0 when they overlap)."""
        dx = max(other.left - self.right, self.left - other.right, 0)
        dy = max(other.top - self.bottom, self.top - other.bottom, 0)
        return float(np.hypot(dx, dy))


@dataclass(frozen=True)
class Blob:
    """One 8-connected component of ink, once gaps narrower than
    ``closed_gap_share_of_label_rows`` are closed."""

    label: int  # its pixels' value in the labels (find_blobs)
    box: Box
    mass: float  # how much ink it holds: the sum of its pixels' ink


@dataclass(frozen=True)
class Cut:
    """A path down a candidate's ink, from its top row to its bottom row."""

    columns: tuple[int, ...]  # in each row, the first column on the cut's right
    strokes: float  # how many strokes of the pen the cut crosses (0: none)


def on_grid(ink: np.ndarray) -> tuple[np.ndarray, int]:
    """(ink, factor): ``ink`` reduced by a whole factor to at most ``label_rows`` rows.
    Block means keep a thin stroke unbroken; a digit's 28x28 input needs far fewer rows
    than a pad has, and every later step works on fewer pixels."""
    factor = -(-ink.shape[0] // TUNING.label_rows)
    if factor == 1:
        return ink, 1
    return np.asarray(Image.fromarray(ink).reduce(factor)), factor


def find_blobs(ink: np.ndarray) -> tuple[np.ndarray, list[Blob]]:
    """(labels, blobs): the blobs of ink > 0, and each pixel's blob label (0: none)."""
    # Labelled with the small gaps closed, but only inked pixels keep their label: the
    # dashes of a thin stroke drawn fast or scanned faintly make one blob, with no ink
    # added. Digits written that close are cut apart later.
    inked = ink > 0
    reach = round(TUNING.closed_gap_share_of_label_rows / 2 * TUNING.label_rows)
    labels = label_blobs(grow(inked, reach)) * inked
    mass = np.bincount(labels.ravel(), ink.ravel(), minlength=int(labels.max()) + 1)
    blobs = []
    for label in range(1, len(mass)):
        rows = np.flatnonzero((labels == label).any(axis=1))
        cols = np.flatnonzero((labels == label).any(axis=0))
        box = Box(int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
        blobs.append(Blob(label, box, float(mass[label])))
    return labels, blobs


def ink_of(ink: np.ndarray, labels: np.ndarray, box: Box, blob_labels: tuple) -> np.ndarray:
    """The ink of the blobs labelled ``blob_labels`` alone (other blobs' ink inside the
    box removed), in ``box``."""
    inside = np.s_[box.top : box.bottom, box.left : box.right]
    mine = functools.reduce(np.logical_or, [labels[inside] == label for label in blob_labels])
    return ink[inside] * mine


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


def label_blobs(mask: np.ndarray) -> np.ndarray:
    """The 8-connected components of a boolean mask, labelled 1..n (0 = no ink).

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


def straight_cuts(ink: np.ndarray, height: int) -> list[Cut]:
    """Where a candidate of touching digits could be cut straight down: its thinnest
    columns, apart from each other and from its ends by a narrow digit."""
    strokes = ink.sum(axis=0) / stroke_width(ink)  # the strokes each column crosses
    chosen = thinnest(strokes, cut_spacing(height))
    return [Cut((column,) * ink.shape[0], float(strokes[column])) for column in chosen]


def leaning_cuts(ink: np.ndarray, height: int) -> list[Cut]:
    """Where a candidate of digits written so close that they overlap could be cut: paths
    down it, leaning by up to a column a row, that cross the least ink. Like straight
    cuts, they stay a narrow digit apart from each other and from the ends."""
    spacing = cut_spacing(height)
    cost = ink / stroke_width(ink)  # the strokes crossed in each pixel
    cost[:, :spacing] = cost[:, ink.shape[1] - spacing + 1 :] = np.inf  # no slivers
    crossed, paths = cheapest_paths(cost)

    def apart(end: int, other: int) -> bool:  # in every row, not only where they end
        return np.abs(paths[:, end] - paths[:, other]).min() >= spacing

    # Paths that stay apart never cross, so left to right by their ends is left to right.
    ends = thinnest(crossed, spacing, apart)
    return [Cut(tuple(paths[:, end].tolist()), float(crossed[end])) for end in ends]


def cut_spacing(height: int) -> int:
    """The columns between two cuts, and between a cut and an end, at least."""
    return max(2, int(TUNING.narrowest_digit_in_heights * height))


def cheapest_paths(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(crossed, paths): for each column of the bottom row, the path down to it from the
    top row that adds up the least ``cost`` (moving at most a column a row, each column
    of lean paying ``lean_cost_in_strokes_per_column``), and what it adds up to (dynamic
    programming, row by row); ``paths[:, c]`` is the path to column c."""
    rows, width = cost.shape
    crossed = cost[0].copy()  # the cheapest path from the top to each column of this row
    came = np.zeros((rows, width), np.int8)  # where each pixel's cheapest path came from
    for row in range(1, rows):
        best = crossed.copy()
        for step, ahead, behind in ((-1, np.s_[1:], np.s_[:-1]), (1, np.s_[:-1], np.s_[1:])):
            leaning = crossed[behind] + TUNING.lean_cost_in_strokes_per_column
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
    """Up to ``most_cuts`` columns where ``strokes`` is lowest and at most
    ``most_strokes_per_cut``, ``spacing`` from both ends and ``apart(column, other)`` from
    each other (by default ``spacing`` apart), left to right."""
    apart = apart or (lambda column, other: abs(column - other) >= spacing)
    width = len(strokes)
    chosen: list[int] = []
    for column in np.argsort(strokes, kind="stable").tolist():
        if strokes[column] > TUNING.most_strokes_per_cut or len(chosen) == TUNING.most_cuts:
            break
        if spacing <= column <= width - spacing and all(apart(column, c) for c in chosen):
            chosen.append(column)
    return sorted(chosen)


def stroke_width(ink: np.ndarray) -> float:
    """The width of the pen, in cells of full ink: the width of its shape (``pen_width``)
    times how much ink its cells hold. Whichever way a stroke runs, a cut across it
    crosses about this much ink (the runs of ink down the columns would count a
    horizontal stroke as a fraction of a vertical one)."""
    mask = ink > 0
    if not mask.any():
        return 1.0
    return max(pen_width(mask) * float(ink[mask].mean()), 1.0)


def is_dot(ink: np.ndarray) -> bool:
    """Whether the ink is a dot or a filled blob: hardly longer than the pen that made it
    is wide, solid (filling most of its convex hull) and without a hole. A fat 8 has
    holes, a fat 3 or 7 leaves much of its hull empty, a thick 1 is long for its pen."""
    mask = crop_to_ink(ink > 0)
    if max(mask.shape) > TUNING.dot_in_strokes * pen_width(mask):
        return False
    if np.count_nonzero(mask) < TUNING.dot_solidity * hull_area(mask):
        return False
    return not holes(mask).any()


def holes(mask: np.ndarray) -> np.ndarray:
    """The paper that ``mask`` encloses: what the paper around it cannot reach."""
    paper = label_blobs(~np.pad(mask, 1))  # the padding joins all the paper around it
    return (paper != paper[0, 0])[1:-1, 1:-1] & ~mask


def hull_area(mask: np.ndarray) -> float:
    """The area of the convex hull of the inked cells (Andrew's monotone chain over the
    corners of each row's first and last cell, then the shoelace formula)."""
    rows = np.flatnonzero(mask.any(axis=1))
    first = np.argmax(mask[rows], axis=1)
    last = mask.shape[1] - np.argmax(mask[rows, ::-1], axis=1)
    ends = zip(rows, first, last, strict=True)
    corners = {(c, r + dr) for r, f, e in ends for c in (f, e) for dr in (0, 1)}
    points = sorted((int(c), int(r)) for c, r in corners)

    def half(ordered):
        chain = []
        for point in ordered:
            while len(chain) >= 2 and cross(chain[-2], chain[-1], point) <= 0:
                chain.pop()
            chain.append(point)
        return chain[:-1]

    hull = half(points) + half(points[::-1])
    x, y = np.array(hull, float).T
    return 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))


def cross(o, a, b) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def pen_width(mask: np.ndarray) -> float:
    """The width of the pen that drew a shape: twice its area over its outline (a stroke
    of length L and width w has area Lw and an outline of about 2L)."""
    padded = np.pad(mask, 1)
    inner = mask & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return 2 * np.count_nonzero(mask) / max(np.count_nonzero(mask & ~inner), 1)


def eroded(mask: np.ndarray, reach: int) -> np.ndarray:
    """``mask`` eroded by a square of ``reach`` cells each way: what lies that far inside
    it (the paper around it, grown)."""
    paper = grow(~np.pad(mask, reach), reach)
    return ~paper[reach : reach + mask.shape[0], reach : reach + mask.shape[1]]


def holds_ink(ink: np.ndarray) -> bool:
    """Whether a closed loop holds ink well inside it: a ring drawn round a digit (a 0's
    loop is empty, an 8's crossing lies on its outline)."""
    mask = ink > 0
    filled = mask | holes(mask)
    reach = min(round(TUNING.inside_in_strokes * pen_width(mask)), min(mask.shape) // 2)
    inside = mask & eroded(filled, reach)
    return np.count_nonzero(inside) >= TUNING.held_ink * np.count_nonzero(mask)
