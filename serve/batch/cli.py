"""The command line of `python -m serve.batch`: the options, the checks, the run, the
summary line."""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from serve.batch.files import IMAGE_EXTENSIONS, CannotList, find_images, is_uri
from serve.batch.local import local_rows
from serve.batch.output import FORMATS, RowWriter, format_of
from serve.batch.ray_data import CannotRunOnRay, ray_rows
from serve.batch.rows import VERDICT, RowMaker, columns_for
from serve.core.verdict import VERDICTS
from serve.settings import Settings

DESCRIPTION = (
    "Predict every image in folder trees: `python -m serve.batch PATH... -o predictions.csv`."
)


def parse_args(argv=None) -> argparse.Namespace:
    settings = Settings.from_environment()
    parser = argparse.ArgumentParser(
        prog="python -m serve.batch",
        description=DESCRIPTION,
        epilog="The format follows the extension of -o: .csv (default), or .jsonl (.ndjson) "
        "for JSON Lines; any other extension is refused.",
    )
    parser.add_argument(
        "paths",
        nargs="+",
        help="folders and/or image files; with --engine ray also buckets (s3://bucket/prefix)",
    )
    parser.add_argument("-o", "--output", type=Path, default=Path("predictions.csv"))
    parser.add_argument("--model", type=Path, default=settings.model_path)
    parser.add_argument(
        "--batch-size", type=int, default=256, help="images per inference batch (and per work unit)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes that decode, preprocess and predict (default: all cores)",
    )
    parser.add_argument(
        "--read",
        choices=["digit", "number"],
        default="digit",
        help="'number' also reads every digit of each image, left to right, into the "
        "columns number and count",
    )
    parser.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="'ray' makes the rows on Ray Data (pip install -r requirements-ray.txt)",
    )
    parser.add_argument(
        "--address", help="with --engine ray: a running Ray cluster (default: a local Ray)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Run the command: 0 when every image was predicted, 1 when any failed, 2 for a
    usage error."""
    args = parse_args(argv)
    # Every usage error is found before any work, in one line, and leaves no output file.
    if problem := usage_error(args) or prepare_output(args.output):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        predicted, failed = run(args)
    except (CannotList, CannotRunOnRay) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if predicted + failed == 0:
        print(
            f"error: no image files found (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})",
            file=sys.stderr,
        )
        return 2
    return 1 if failed else 0


def usage_error(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, checked before any work; None when nothing is."""
    buckets = [path for path in args.paths if is_uri(path)]
    if buckets and args.engine != "ray":
        return f"{buckets[0]} is not on this machine: read buckets with --engine ray"
    # lexists: a broken link named directly is a file at fault (a row with its error),
    # not a mistyped path.
    missing = [p for p in args.paths if not is_uri(p) and not os.path.lexists(p)]
    if missing:
        return f"no such file or folder: {', '.join(missing)}"
    for option, value in (("--batch-size", args.batch_size), ("--workers", args.workers)):
        if value < 1:
            return f"{option} must be 1 or more, not {value}"
    if args.output.is_dir():
        return f"cannot write {args.output}: it is a folder (name the file in it)"
    if format_of(args.output) is None:
        *others, last = FORMATS
        accepted = f"{', '.join(others)} or {last}"
        return f"cannot write {args.output}: the output's name must end in {accepted}"
    return model_error(args.model, args.read)


def model_error(model: Path, read: str) -> str | None:
    """Load the model once, as each worker will: a file that is no ONNX model is a usage
    error here, not a traceback in every worker."""
    if not model.exists():
        return f"model {model} not found (set MODEL_PATH or --model)"
    try:
        RowMaker(model, read)
    except Exception as error:  # onnxruntime's errors share no base class below Exception
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"model {model} cannot be loaded as an ONNX model: {detail or type(error).__name__}"
    return None


def prepare_output(path: Path) -> str | None:
    """Make sure the rows can be written to ``path``, before any work: create its missing
    folders (saying so) and open it once. What is wrong, or None."""
    nearest = next(folder for folder in path.parents if folder.exists())
    if not nearest.is_dir():
        return f"cannot write {path}: {nearest} is a file, not a folder"
    existed = path.exists()
    try:
        if nearest != path.parent:
            path.parent.mkdir(parents=True)
            print(f"note: created the folder {path.parent} for the output", file=sys.stderr)
        with open(path, "a", encoding="utf-8"):  # "a": an existing file is kept as it is
            pass
    except OSError as error:
        return f"cannot write {path}: {error.strerror or error}"
    if not existed:
        path.unlink()  # written only once there are rows
    return None


def run(args: argparse.Namespace) -> tuple[int, int]:
    """Find the images, write their rows to args.output: (predicted, failed)."""
    images, skipped = find_images(args.paths)
    if not images:
        return 0, 0  # no file written: a usage error
    counts = collections.Counter()
    started = time.perf_counter()
    if args.engine == "ray":
        rows = ray_rows(images, args.model, args.workers, args.batch_size, args.read, args.address)
    else:
        rows = local_rows(images, args.model, args.workers, args.batch_size, args.read)
    # The first row before the output is opened: a Ray that cannot make rows
    # (CannotRunOnRay) fails here and leaves the output as it was.
    first = next(rows)
    with (
        open(args.output, "w", newline="", encoding="utf-8") as stream,
        tqdm(total=len(images), unit="img", disable=args.quiet, file=sys.stderr) as bar,
    ):
        writer = RowWriter(stream, args.output, columns_for(args.read))
        for values in itertools.chain([first], rows):
            writer.write(values)
            counts["failed" if values[-1] else values[VERDICT]] += 1  # [-1]: its error
            bar.update()
    seconds = time.perf_counter() - started
    failed = counts.pop("failed", 0)
    predicted = sum(counts.values())
    if not args.quiet:
        print(summary(counts, failed, skipped, seconds, args.output), file=sys.stderr)
    return predicted, failed


def summary(counts: collections.Counter, failed: int, skipped: int, seconds: float, output):
    """The line printed after the run: counts of each verdict, failures, skips, speed."""
    predicted = sum(counts.values())
    rate = predicted / seconds if seconds > 0 else 0.0
    verdicts = ", ".join(f"{counts[v]} {v}" for v in VERDICTS)
    return (
        f"predicted {predicted} ({verdicts}), failed {failed}, skipped {skipped} "
        f"(not images); {rate:,.0f} images/s; rows -> {output}"
    )
