"""How well drawn digits are read, as the benchmarks report it and the tests assert it."""

from __future__ import annotations

import numpy as np

from serve.core.read import Reader
from support.drawings import mnist_sample, png_bytes, redraw


def single_digits(reader: Reader) -> tuple[int, int, int, int]:
    """The 2,000 test digits of support/data, each drawn alone: (read right by plain
    /predict, read right with ?read=number, read as one digit, how many)."""
    images, labels = mnist_sample()
    rng = np.random.default_rng(77)
    # Accuracy as plain /predict's is counted: the digit read, whatever the verdict (a
    # number is null when its one digit is called not a digit).
    plain = as_number = one_digit = 0
    for image, label in zip(images, labels, strict=True):
        data = png_bytes(redraw(image, rng))
        plain += reader.read(data, "digit").answer["digit"] == label
        answer = reader.read(data, "number").answer
        as_number += [d["digit"] for d in answer["digits"]] == [label]
        one_digit += answer["count"] == 1
    return plain, as_number, one_digit, len(labels)
