"""How well and how fast numbers are read: /predict?read=number against plain /predict.

    .venv-serve/bin/python -m benchmarks.read_numbers [--numbers 1000] [--requests 300]

Accuracy, in process (serve/core, the shipped model): numbers of 2 to 4 MNIST test digits
written side by side on a canvas (train/drawn.py: one pen per number, uneven sizes, gaps
and baselines), read exactly or not; half as many written crowded (every two digits'
boxes meeting or overlapping); as many numbers of 2 or 3 digits by other writers than
MNIST's (train/other_writers.py: Hershey's stroke fonts drawn by a shaky pen, one hand per
number); and the 2,000 test digits of support/data, each drawn alone, read with
?read=number and with plain /predict.
Speed, on a real gunicorn server: p50 of ?read=number on 4-digit canvases against plain
/predict on one-digit canvases, interleaved on one keep-alive connection. One digit is
timed twice: on a square canvas just big enough for it (the strict comparison), and on
the page's wide pad, which the page sends whole whatever is drawn on it (what a user of a
wide screen gets).
"""

from __future__ import annotations

import argparse
import collections
import http.client
import statistics

import numpy as np
from PIL import Image

from benchmarks.serve_latency import timed
from serve.core.read import Reader
from serve.settings import Settings
from support.drawings import mnist_sample, png_bytes, redraw
from support.readings import single_digits
from support.server import multipart, running_server
from train import drawn, other_writers

CROWDED = (-0.1, 0.0)  # gaps between digits, of their height: every pair's boxes meet


def numbers(count: int, seed: int, gaps=drawn.GAPS):
    """(PNG bytes, the true number) pairs: numbers of 2 to 4 of the sample's digits."""
    for drawing, text in drawn.numbers(*mnist_sample(), count, seed, gaps=gaps):
        yield png_bytes(drawing), text


def accuracy(count: int) -> None:
    reader = Reader.from_settings(Settings.from_environment())
    outcomes = collections.Counter()
    by_length = collections.defaultdict(list)
    for data, truth in numbers(count, seed=2026):
        answer = reader.read(data, "number").answer
        digits = "".join(str(d["digit"]) for d in answer["digits"])
        exact = answer["number"] == truth
        by_length[len(truth)].append(exact)
        if exact:
            outcomes["read exactly"] += 1
        elif len(digits) != len(truth):
            outcomes["wrong number of digits"] += 1
        elif answer["number"] is None:
            outcomes["right count, a part called not a digit"] += 1
        else:
            outcomes["right count, a digit misread"] += 1
    print(f"numbers of 2-4 digits drawn as canvases ({count}):")
    for outcome, n in outcomes.most_common():
        print(f"  {outcome:40s} {n / count:7.2%}")
    for length, exact in sorted(by_length.items()):
        print(f"  {length} digits: {np.mean(exact):.2%} exact of {len(exact)}")
    crowded = [
        reader.read(data, "number").answer["number"] == truth
        for data, truth in numbers(count // 2, seed=2027, gaps=CROWDED)
    ]
    print(
        f"numbers written crowded, every two digits' boxes meeting or overlapping by up to "
        f"a tenth of their height ({len(crowded)}): {np.mean(crowded):.2%} read exactly"
    )

    writers = [
        reader.read(png_bytes(drawing), "number").answer["number"] == truth
        for drawing, truth in other_writers.numbers(count, seed=2028)
    ]
    print(
        f"numbers of 2-3 digits by other writers ({len(writers)}): "
        f"{np.mean(writers):.2%} read exactly"
    )

    plain, as_number, one_digit, n = single_digits(reader)
    print(
        f"single drawn digits ({n}): plain /predict {plain / n:.2%}, ?read=number "
        f"{as_number / n:.2%} (read as one digit: {one_digit / n:.2%})"
    )


WIDE_PAD = (560, 280)  # the page's pad on a screen 1000 px wide, at its smallest


def on_wide_pad(drawing: Image.Image, rng: np.random.Generator) -> bytes:
    """The drawing somewhere on the wide pad (wider if the drawing is), as the page sends it."""
    pad = Image.new("RGBA", (max(WIDE_PAD[0], drawing.width), max(WIDE_PAD[1], drawing.height)))
    pad.paste(drawing, (int(rng.integers(0, pad.width - drawing.width + 1)), 0))
    return png_bytes(pad)


def speed(requests: int) -> None:
    images, _ = mnist_sample()
    rng = np.random.default_rng(5)
    one = [redraw(images[i], rng) for i in range(50)]
    four = [drawn.draw_number(images[rng.integers(0, len(images), 4)], rng) for _ in range(50)]
    cases = {
        "plain, one digit, square": ("/predict", [png_bytes(d) for d in one]),
        "plain, one digit, wide pad": ("/predict", [on_wide_pad(d, rng) for d in one]),
        "read=number, four digits": ("/predict?read=number", [on_wide_pad(d, rng) for d in four]),
    }
    with running_server() as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        times = {name: [] for name in cases}
        for i in range(requests + 20):
            for name, (path, canvases) in cases.items():
                body, kind = multipart(canvases[i % len(canvases)])
                took, status = timed(connection, "POST", path, body, {"Content-Type": kind})
                assert status == 200, status
                if i >= 20:  # warm-up
                    times[name].append(took)
    p50 = {name: statistics.median(t) * 1000 for name, t in times.items()}
    for name, value in p50.items():
        print(f"{name:28s} p50 {value:6.2f} ms")
    four_p50 = p50["read=number, four digits"]
    for one_digit in ("square", "wide pad"):
        ratio = four_p50 / p50[f"plain, one digit, {one_digit}"]
        print(f"ratio to one digit ({one_digit}): {ratio:.2f} (budget <= 2)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1000)
    parser.add_argument(
        "--requests", type=int, default=300, help="timed requests of each case; 0 skips timing"
    )
    args = parser.parse_args(argv)
    accuracy(args.numbers)
    if args.requests:
        speed(args.requests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
