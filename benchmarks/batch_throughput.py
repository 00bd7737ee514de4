"""Images per second of `python -m serve.batch` on 28x28 PNGs and on 280x280 canvas PNGs.

    .venv-serve/bin/python -m benchmarks.batch_throughput [--images 20000] [--repeat 3]

Builds both folders in a temporary directory, runs the real command (a fresh process,
as a user would) several times, and prints the median images/s of each: wall time of the
whole command including start-up, and the rate the command itself reports; with 1 worker
and with all cores. Then, on the 28x28 folder, the CPU time the parent process spends per
image (finding files, writing rows) against what the workers spend (decoding,
preprocessing, the model, building rows). With --record, writes it all into
benchmarks/results.json.
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
from support.drawings import mnist_sample, png_bytes, redraw
from support.results import add_record_option, record


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


CPU_SPLIT = """
import resource, sys, time
from serve.batch import cli
args = cli.parse_args(sys.argv[1:])
started = time.process_time()
cli.run(args)
parent = time.process_time() - started
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
print(parent, workers.ru_utime + workers.ru_stime)
"""


def cpu_split(folder: Path, count: int, workers: int) -> dict:
    """CPU seconds per image of the parent (during the run) and of the workers."""
    out = folder.parent / "split.csv"
    args = [str(folder), "-o", str(out), "--workers", str(workers), "--quiet"]
    done = subprocess.run(
        [sys.executable, "-c", CPU_SPLIT, *args], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    parent, children = map(float, done.stdout.split()[-2:])
    return {
        "parent_ms_per_image": round(parent / count * 1000, 4),
        "workers_ms_per_image": round(children / count * 1000, 4),
        "parent_share": round(parent / children, 4),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000, help="28x28 PNGs")
    parser.add_argument("--canvases", type=int, default=4000, help="280x280 canvas PNGs")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="the most")
    add_record_option(parser)
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} cores; median of {args.repeat} runs")
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, count, canvas in (
            ("28x28 MNIST-style PNGs", args.images, False),
            ("280x280 canvas PNGs", args.canvases, True),
        ):
            folder = Path(tmp) / name.split()[0]
            build_folder(folder, count, canvas)
            for workers in sorted({1, args.workers}):
                runs = [run_once(folder, count, workers) for _ in range(args.repeat)]
                wall = statistics.median(r[0] for r in runs)
                inner = statistics.median(r[1] for r in runs)
                figures[f"{name.split()[0]}, {workers} workers"] = {
                    "images": count,
                    "images_per_s_wall": round(wall),
                    "images_per_s_reported": round(inner),
                }
                print(
                    f"{name:24s} {count:6d} images, {workers} workers: {wall:7,.0f} images/s "
                    f"wall (whole command), {inner:7,.0f} images/s reported by the command"
                )
        split = cpu_split(Path(tmp) / "28x28", args.images, max(2, args.workers))
        print(
            f"CPU per 28x28 image: parent {split['parent_ms_per_image']:.4f} ms, workers "
            f"{split['workers_ms_per_image']:.4f} ms: parent/workers "
            f"{split['parent_share']:.1%} (should be <= 10 %)"
        )
    record(args.record, batch={"throughput": figures, "cpu_split": split})
    return 0


if __name__ == "__main__":
    sys.exit(main())
