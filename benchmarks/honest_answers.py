"""How honest are the model's answers? Calibration on digits, and how it scores non-digits.

    .venv-serve/bin/python -m benchmarks.honest_answers [--model models/mnist.onnx]

Prints, for the given ONNX model, with its top probability as the "is a digit" score:
  - accuracy and expected calibration error (15 bins) on the 2,000 MNIST test digits of
    tests/data and on the same digits re-drawn as canvases;
  - for each kind of non-digit (train/negatives.py), the share called a digit with at
    least 90 % and the AUROC of digits against that kind.
These are the "before" figures of issue #16; the same script measures the model after.
"""

from __future__ import annotations

import argparse

import numpy as np

from serve.core.contract import to_model_input
from serve.core.predictor import Predictor
from serve.core.preprocess import preprocess_image
from serve.settings import Settings
from tests.support import mnist_sample, png_bytes, redraw
from train.calibration import auroc, expected_calibration_error
from train.negatives import DRAWN, fashion_images, make_negatives

PER_KIND = 1000


def drawn_digits(images: np.ndarray) -> np.ndarray:
    """The digits re-drawn as the page's canvas sends them, through the server's path."""
    rng = np.random.default_rng(77)
    return np.concatenate([preprocess_image(png_bytes(redraw(d, rng))) for d in images])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=Settings().model_path)
    args = parser.parse_args(argv)
    predictor = Predictor(args.model)
    images, labels = mnist_sample()
    digit_sets = {"MNIST test": to_model_input(images), "drawn": drawn_digits(images)}
    scores = {}
    print(f"model {args.model}")
    for name, inputs in digit_sets.items():
        probs = predictor.predict(inputs)
        scores[name] = probs.max(axis=1)
        accuracy = float((probs.argmax(axis=1) == labels).mean())
        ece = expected_calibration_error(probs, labels)
        print(f"{name:12s} {len(inputs):>5} digits: accuracy {accuracy:.2%}, ECE {ece:.2%}")
    kinds = [*DRAWN, "pair"] + (["fashion"] if fashion_images() is not None else [])
    for kind in kinds:
        negatives = make_negatives(kind, PER_KIND, seed=11, digits=images)
        top = predictor.predict(to_model_input(negatives)).max(axis=1)
        separation = auroc(scores["drawn"], top)
        print(
            f"{kind:12s} {len(top):>5} images: {np.mean(top >= 0.9):6.1%} called a digit "
            f"with >= 90 %, AUROC (drawn digits vs these) {separation:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
