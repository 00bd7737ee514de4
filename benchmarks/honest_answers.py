"""How honest are the model's answers? Calibration on digits, and what it says to non-digits.

    .venv-serve/bin/python -m benchmarks.honest_answers [--model models/mnist.onnx]

The verdicts use the model's own thresholds, or NOT_A_DIGIT_BELOW and SURE_FROM where set
(as the server does), so that two models can be compared at one threshold.

Prints, for an exported model, the figures the model card shows (export/honesty.py):
accuracy, expected calibration error (15 bins) and the share of each verdict on the MNIST
test digits as they are and re-drawn as canvases, on digits by other writers (as drawn on
the page and as small scans), and on flagged 1s, crossed 7s and closed 4s; and for each
kind of non-digit (train/negatives.py), held out of training or not, the AUROC of is_digit
(digits against that kind) and the share of each verdict; the share of numbers read
exactly, written with MNIST test digits and by other writers; for each drawn kind of
non-digit and clothes drawn large on the pad, the share that plain /predict calls a digit
and the share that ?read=number gives a number for; and the share of numbers written with
marks (a decimal point, a minus, a comma; a plus, a ring, a line under) read right. The
digits are the 2,000 MNIST test digits kept in support/data (the serving environment has no
full MNIST); the card uses all 10,000. It takes some minutes.
"""

from __future__ import annotations

import argparse
import time

from export.honesty import evaluate, table
from serve.core.predictor import Predictor
from serve.settings import Settings
from support.drawings import mnist_sample


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    settings = Settings.from_environment()
    parser.add_argument("--model", default=settings.model_path)
    args = parser.parse_args(argv)
    predictor = Predictor(
        args.model, not_a_digit_below=settings.not_a_digit_below, sure_from=settings.sure_from
    )
    images, labels = mnist_sample()
    started = time.perf_counter()
    report = evaluate(predictor.predict, images, labels, predictor.thresholds)
    print(f"model {args.model}; thresholds {report['thresholds']}")
    print(table(report))
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
