"""How honestly numbers are read: what ?read=number gives for non-digits, numbers with
marks, and digits with foreign marks.

    .venv-serve/bin/python -m benchmarks.honest_numbers [--count 200] [--seed 4000]

In process (serve/core, the shipped model). For each kind of non-digit of
train/negatives.py drawn large on the pad: the share that plain /predict calls a digit
and the share that ?read=number gives a number for. For numbers written with a decimal
point, a leading minus, a thousands comma: the share read exactly (the text written).
For digits with a plus between them, a ring round one, a line under them: the share
given no number (or, under a line, the digits alone).
"""

from __future__ import annotations

import argparse

import numpy as np

from serve.core.read import Reader
from serve.settings import Settings
from support.drawings import non_digit_canvases, png_bytes
from support.marks import around, write
from train.negatives import DRAWN

NON_DIGITS = (*DRAWN, "fashion")


def random_number(rng: np.random.Generator, digits: tuple[int, int]) -> str:
    count = int(rng.integers(digits[0], digits[1] + 1))
    first = str(rng.integers(1, 10)) if count > 1 else str(rng.integers(0, 10))
    return first + "".join(str(d) for d in rng.integers(0, 10, count - 1))


def numbers_with_marks(kind: str, count: int, rng: np.random.Generator):
    """(PNG bytes, what a right reading gives: the text, or a set of acceptable texts)."""
    for _ in range(count):
        if kind == "decimal":
            text = random_number(rng, (1, 2)) + "." + random_number(rng, (1, 2))
            yield png_bytes(write(text, rng)), {text}
        elif kind == "minus":
            text = "-" + random_number(rng, (1, 3))
            yield png_bytes(write(text, rng)), {text}
        elif kind == "comma":
            text = random_number(rng, (1, 2)) + "," + "".join(map(str, rng.integers(0, 10, 3)))
            yield png_bytes(write(text, rng)), {text, text.replace(",", "")}
        elif kind == "plus":
            text = random_number(rng, (1, 1)) + "+" + random_number(rng, (1, 1))
            yield png_bytes(write(text, rng)), {None}
        elif kind == "ring":
            yield png_bytes(around(write(random_number(rng, (1, 1)), rng), rng, "ring")), {None}
        elif kind == "underline":
            text = random_number(rng, (1, 3))
            yield png_bytes(around(write(text, rng), rng, "underline")), {None, text}


MARKED = ("decimal", "minus", "comma", "plus", "ring", "underline")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="drawings of each kind")
    parser.add_argument("--seed", type=int, default=4000)
    args = parser.parse_args(argv)
    reader = Reader.from_settings(Settings.from_environment())

    print(f"non-digits drawn on the pad ({args.count} of each kind):")
    print(f"  {'kind':10s} {'plain: digit':>13s} {'number given':>13s}")
    for i, kind in enumerate(NON_DIGITS):
        drawings = non_digit_canvases(kind, args.count, args.seed + i)
        if not drawings:
            print(f"  {kind:10s} (not installed)")
            continue
        digit = np.mean([reader.read(d).answer["verdict"] == "digit" for d in drawings])
        given = np.mean([reader.read(d, "number").answer["number"] is not None for d in drawings])
        print(f"  {kind:10s} {digit:13.1%} {given:13.1%}")

    print(f"numbers with marks ({args.count} of each kind): read as written")
    rng = np.random.default_rng(args.seed + 100)
    for kind in MARKED:
        right = [
            reader.read(data, "number").answer["number"] in expected
            for data, expected in numbers_with_marks(kind, args.count, rng)
        ]
        print(f"  {kind:10s} {np.mean(right):7.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
