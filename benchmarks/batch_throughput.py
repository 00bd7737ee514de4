"""Images per second of `python -m serve.batch` on 28x28 PNGs and on 280x280 canvas PNGs.

    .venv-serve/bin/python -m benchmarks.batch_throughput [--images 20000] [--repeat 3]

Builds both folders in a temporary directory, runs the real command (a fresh process,
as a user would) several times, and prints the median images/s of each: wall time of the
whole command including start-up, and the rate the command itself reports.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from serve.settings import ROOT
from tests.support import mnist_sample, png_bytes, redraw


def build_folder(folder: Path, count: int, canvas: bool) -> None:
    images, _ = mnist_sample()
    rng = np.random.default_rng(0)
    unique = [
        png_bytes(redraw(images[i], rng, "transparent"))
        if canvas
        else png_bytes(Image.fromarray(images[i]))
        for i in range(min(count, 500))
    ]
    for i in range(count):  # 100 per sub-folder, as exports usually come
        sub = folder / f"{i // 100:04d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:06d}.png").write_bytes(unique[i % len(unique)])


def run_once(folder: Path, count: int, workers: int) -> tuple[float, float]:
    out = folder.parent / f"{folder.name}.csv"
    command = [
        sys.executable,
        "-m",
        "serve.batch",
        str(folder),
        "-o",
        str(out),
        "--workers",
        str(workers),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    reported = float(re.search(r"([\d,]+) images/s", done.stderr).group(1).replace(",", ""))
    return count / wall, reported


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000, help="28x28 PNGs")
    parser.add_argument("--canvases", type=int, default=4000, help="280x280 canvas PNGs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} cores; {args.workers} worker processes; median of {args.repeat} runs")
    with tempfile.TemporaryDirectory() as tmp:
        for name, count, canvas in (
            ("28x28 MNIST-style PNGs", args.images, False),
            ("280x280 canvas PNGs", args.canvases, True),
        ):
            folder = Path(tmp) / name.split()[0]
            build_folder(folder, count, canvas)
            runs = [run_once(folder, count, args.workers) for _ in range(args.repeat)]
            wall = statistics.median(r[0] for r in runs)
            inner = statistics.median(r[1] for r in runs)
            print(
                f"{name:24s} {count:6d} images: {wall:7,.0f} images/s wall "
                f"(whole command), {inner:7,.0f} images/s reported by the command"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
