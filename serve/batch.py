"""Predict every image in folder trees: `python -m serve.batch PATH... -o predictions.csv`.

Folders are walked recursively; image files (by extension) are predicted with the same
preprocessing as /predict, other files are skipped and counted. A broken image gets a row
with its error and the run goes on. Rows are sorted by path. Every core decodes,
preprocesses and predicts its own chunks of files; inference runs in batches.

Only regular files are read: a named pipe, a broken symbolic link, a link loop, a file
gone or unreadable by the time it is read each get a row with the reason. Symbolic links to
folders are not followed (os.walk's default), so a link to a parent cannot loop forever.

Exit status: 0 when every image was predicted, 1 when any failed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import collections
import csv
import errno
import json
import multiprocessing
import os
import stat
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from serve.core.decode import decode_image
from serve.core.errors import BadImage
from serve.core.number import read_decoded_number
from serve.core.postprocess import postprocess
from serve.core.predictor import Predictor
from serve.core.preprocess import preprocess_image
from serve.core.verdict import VERDICTS
from serve.settings import Settings

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
COLUMNS = ["path", "digit", "prob", "verdict", "is_digit"] + [f"p{d}" for d in range(10)]
COLUMNS += ["error"]
NUMBER_COLUMNS = ["number", "count"]  # added by --read number, before "error"


def columns_for(read: str) -> list[str]:
    return COLUMNS[:-1] + (NUMBER_COLUMNS if read == "number" else []) + COLUMNS[-1:]


def parse_args(argv=None):
    settings = Settings.from_environment()
    parser = argparse.ArgumentParser(
        prog="python -m serve.batch",
        description=__doc__.splitlines()[0],
        epilog="Output format follows the extension of -o: .csv (default) or .jsonl.",
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


# --- finding the images ------------------------------------------------------------------


def find_images(paths: list[Path]) -> tuple[list[tuple[str, Path]], int]:
    """(shown path, real path) for every image, sorted by shown path; and the skip count.

    Shown paths start with the name of the folder given (``digits/a/1.png``), so rows
    from several folders stay apart. Anything named directly that is not a folder (a file,
    but also a named pipe or a broken link) is taken whatever its suffix: it gets its row,
    with an error if it cannot be read. Only folders are walked, so a folder called
    ``x.png`` is walked like any other and never read as a file.
    """
    found, skipped = [], 0
    for root in paths:
        if not root.is_dir():
            found.append((root.as_posix(), root))
            continue
        # Only the folder given is resolved, never the files: a file's shown path is the
        # link's own name, and a link loop or a link out of the tree cannot break the walk.
        top = Path(root.resolve().name)
        # os.walk does not follow links to folders (a link to a parent would loop); a
        # folder it cannot list would silently lose its images, so say so.
        for folder, dirs, files in os.walk(root, onerror=warn_unlisted):
            dirs.sort()
            for name in files:
                path = Path(folder) / name
                if path.suffix.lower() in IMAGE_EXTENSIONS:
                    found.append(((top / path.relative_to(root)).as_posix(), path))
                else:
                    skipped += 1
    found.sort(key=lambda item: item[0])
    return found, skipped


def warn_unlisted(error: OSError) -> None:
    print(
        f"warning: cannot list the folder {error.filename}: {error.strerror or error}",
        file=sys.stderr,
    )


# --- reading one file --------------------------------------------------------------------


class NotRegularFile(OSError):
    """The path is a folder, a named pipe, a device...: it is never read."""


FILE_KINDS = [
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
]

# O_NONBLOCK: opening a named pipe for reading waits for a writer, possibly forever; with
# it the open returns at once (it changes nothing for regular files). O_BINARY: Windows.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def check_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in FILE_KINDS if test(mode)), "a special file")
        raise NotRegularFile(f"not a regular file: it is {kind}, so it was not read")


def read_regular_file(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file (links followed); else an OSError.

    The stat before opening keeps pipes and devices from ever being opened; the fstat on
    the open descriptor covers a file swapped for a pipe in between.
    """
    check_regular(os.stat(path).st_mode)
    fd = os.open(path, OPEN_FLAGS)
    with open(fd, "rb") as stream:  # closes fd, whatever happens
        check_regular(os.fstat(fd).st_mode)
        return stream.read()


def read_error(path: Path, error: OSError) -> str:
    """A sentence for the row saying why ``path`` could not be read."""
    if isinstance(error, NotRegularFile):
        return str(error)
    if error.errno == errno.ELOOP:
        return "symbolic link loop: the link never leads to a file"
    if isinstance(error, FileNotFoundError):
        if isinstance(path, Path) and os.path.islink(path):
            return "broken symbolic link: the file it points to does not exist"
        return "the file is gone: it was deleted or moved after the folders were listed"
    if isinstance(error, PermissionError):
        return "cannot read the file: permission denied"
    return f"cannot read the file: {error.strerror or error}"


# --- work done in the worker processes ---------------------------------------------------


def load_one(path, read_file=read_regular_file) -> tuple[np.ndarray | None, list, str]:
    """Read (with ``read_file``), decode once and preprocess one file: (model input, its
    [number, count] with --read number or [], ""), or (None, [], the error as text); never
    raises."""
    try:
        data = read_file(path)
    except OSError as error:
        return None, [], read_error(path, error)
    try:
        image = decode_image(data, _settings.max_image_pixels, _settings.max_photo_pixels)
        model_input = preprocess_image(image)[0]
        return model_input, number_values(image) if _read == "number" else [], ""
    except BadImage as error:
        return None, [], str(error)
    except Exception as error:  # one odd file must not lose the rest of the batch
        return None, [], f"{type(error).__name__}: {error}"


def number_values(image) -> list:
    """[number, count] of a decoded image, as /predict?read=number answers them. The image
    was just read as one digit, so this cannot fail on the file; if it fails anyway, the
    row keeps its digit and has no number."""
    try:
        _, answer = read_decoded_number(image, _predictor)
    except Exception:
        return [None, None]
    return [answer["number"], answer["count"]]


_predictor: Predictor | None = None  # one per worker process, made after the fork
_settings = Settings()
_read = "digit"  # or "number": also read every digit of each image


def start_worker(model: Path, read: str = "digit") -> None:
    global _predictor, _settings, _read
    _read = read
    _settings = Settings.from_environment()
    _predictor = Predictor(
        model,
        threads=1,
        not_a_digit_below=_settings.not_a_digit_below,
        sure_from=_settings.sure_from,
    )


def predict_chunk(files: list[tuple[str, Path]], read_file=read_regular_file) -> list[list]:
    """Preprocess and predict a chunk of (shown path, path) in this process: its rows."""
    loaded = [load_one(path, read_file) for _, path in files]
    ready = [model_input for model_input, _, _ in loaded if model_input is not None]
    probs, is_digit = _predictor.predict(np.stack(ready)) if ready else ([], [])
    answers = iter(zip(probs, is_digit, strict=True))
    rows = []
    for (shown, _), (model_input, number, error) in zip(files, loaded, strict=True):
        if model_input is None:
            rows.append(error_row(shown, error))
            continue
        values = row(shown, *next(answers))
        values[-1:-1] = number  # before "error"; nothing unless reading numbers
        rows.append(values)
    return rows


def predicted_rows(
    files: list[tuple[str, Path]], model: Path, workers: int, chunk: int, read: str = "digit"
):
    """Yield each file's row, in order.

    Each worker preprocesses, predicts and builds the rows of its chunk: inference costs
    about as much as decoding here, so doing it in the parent would leave it the
    bottleneck, and only finished rows cross between processes.
    """
    chunks = [files[i : i + chunk] for i in range(0, len(files), chunk)]
    if workers <= 1 or len(chunks) <= 1:
        start_worker(model, read)
        for part in chunks:
            yield from predict_chunk(part)
        return
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with context.Pool(
        min(workers, len(chunks)), initializer=start_worker, initargs=(model, read)
    ) as pool:
        for result in pool.imap(predict_chunk, chunks):
            yield from result


# --- writing -----------------------------------------------------------------------------


def row(shown: str, probs: np.ndarray, is_digit: float) -> list:
    answer = postprocess(probs, is_digit, _predictor.thresholds)  # as /predict answers
    return [
        shown,
        answer["digit"],
        answer["prob"],
        answer["verdict"],
        answer["is_digit"],
        *answer["probs"],
        "",
    ]


def error_row(shown: str, error: str) -> list:
    return [shown] + [None] * (len(columns_for(_read)) - 2) + [error]


VERDICT = COLUMNS.index("verdict")


class RowWriter:
    """CSV or JSON Lines, chosen by the output file's extension."""

    def __init__(self, stream, path: Path, columns: list[str]):
        self.jsonl = path.suffix.lower() in (".jsonl", ".ndjson", ".json")
        self.stream = stream
        self.columns = columns
        if not self.jsonl:
            self.csv = csv.writer(stream)
            self.csv.writerow(columns)

    def write(self, values: list) -> None:
        if self.jsonl:
            self.stream.write(json.dumps(dict(zip(self.columns, values, strict=True))) + "\n")
        else:
            self.csv.writerow(["" if value is None else value for value in values])


# --- the program -------------------------------------------------------------------------


class CannotList(Exception):
    """A path given cannot be listed at all (a missing bucket, no access): a usage error."""


def is_uri(path: str) -> bool:
    """A bucket or any other filesystem pyarrow reads (s3://, gs://, ...)."""
    return "://" in path


def find_all_images(paths: list[str]) -> tuple[list, int]:
    """find_images for the local paths, plus the images in buckets (Ray engine only)."""
    images, skipped = find_images([Path(path) for path in paths if not is_uri(path)])
    if buckets := [path for path in paths if is_uri(path)]:
        from serve.batch_ray import find_bucket_images

        in_buckets, skipped_there = find_bucket_images(buckets)
        images = sorted(images + in_buckets, key=lambda item: item[0])
        skipped += skipped_there
    return images, skipped


def run(args) -> tuple[int, int]:
    images, skipped = find_all_images(args.paths)
    counts = collections.Counter()
    started = time.perf_counter()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(args.output, "w", newline="", encoding="utf-8") as stream,
        tqdm(total=len(images), unit="img", disable=args.quiet, file=sys.stderr) as bar,
    ):
        writer = RowWriter(stream, args.output, columns_for(args.read))
        if args.engine == "ray":
            from serve.batch_ray import ray_rows

            rows = ray_rows(
                images, args.model, args.workers, args.batch_size, args.read, args.address
            )
        else:
            rows = predicted_rows(images, args.model, args.workers, args.batch_size, args.read)
        for values in rows:
            writer.write(values)
            counts[values[VERDICT] or "failed"] += 1
            bar.update()
    seconds = time.perf_counter() - started
    failed = counts.pop("failed", 0)
    predicted = sum(counts.values())
    if not args.quiet:
        rate = predicted / seconds if seconds > 0 else 0.0
        verdicts = ", ".join(f"{counts[v]} {v}" for v in VERDICTS)
        print(
            f"predicted {predicted} ({verdicts}), failed {failed}, skipped {skipped} "
            f"(not images); {rate:,.0f} images/s; rows -> {args.output}",
            file=sys.stderr,
        )
    return predicted, failed


def main(argv=None) -> int:
    args = parse_args(argv)
    # lexists: a broken link named directly is a file at fault (a row with its error),
    # not a mistyped path.
    buckets = [path for path in args.paths if is_uri(path)]
    if buckets and args.engine != "ray":
        print(
            f"error: {buckets[0]} is not on this machine: read buckets with --engine ray",
            file=sys.stderr,
        )
        return 2
    missing = [p for p in args.paths if not is_uri(p) and not os.path.lexists(p)]
    if missing:
        print(f"error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not args.model.exists():
        print(f"error: model {args.model} not found (set MODEL_PATH or --model)", file=sys.stderr)
        return 2
    try:
        predicted, failed = run(args)
    except CannotList as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if predicted + failed == 0:
        print(
            f"error: no image files found (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})",
            file=sys.stderr,
        )
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
