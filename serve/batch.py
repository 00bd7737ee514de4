"""Predict every image in folder trees: `python -m serve.batch PATH... -o predictions.csv`.

Folders are walked recursively; image files (by extension) are predicted with the same
preprocessing as /predict, other files are skipped and counted. A broken image gets a row
with its error and the run goes on. Rows are sorted by path. Every core decodes,
preprocesses and predicts its own chunks of files; inference runs in batches.

Exit status: 0 when every image was predicted, 1 when any failed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from serve.postprocess import postprocess
from serve.predictor import Predictor
from serve.decode import PreprocessError
from serve.preprocess import preprocess_image
from serve.settings import Settings

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
COLUMNS = ["path", "digit", "prob"] + [f"p{d}" for d in range(10)] + ["error"]


def parse_args(argv=None):
    settings = Settings.from_environment()
    parser = argparse.ArgumentParser(
        prog="python -m serve.batch", description=__doc__.splitlines()[0],
        epilog="Output format follows the extension of -o: .csv (default) or .jsonl.")
    parser.add_argument("paths", nargs="+", type=Path, help="folders and/or image files")
    parser.add_argument("-o", "--output", type=Path, default=Path("predictions.csv"))
    parser.add_argument("--model", type=Path, default=settings.model_path)
    parser.add_argument("--batch-size", type=int, default=256,
                        help="images per inference batch (and per work unit)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes that decode, preprocess and predict (default: all cores)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return parser.parse_args(argv)


# --- finding the images ------------------------------------------------------------------

def find_images(paths: list[Path]) -> tuple[list[tuple[str, Path]], int]:
    """(shown path, real path) for every image, sorted by shown path; and the skip count.

    Shown paths start with the name of the folder given (``digits/a/1.png``), so rows
    from several folders stay apart. A file named directly is taken whatever its suffix.
    """
    found, skipped = [], 0
    for root in paths:
        if root.is_file():
            found.append((root.as_posix(), root))
            continue
        base = root.resolve().parent
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in files:
                path = Path(folder) / name
                if path.suffix.lower() in IMAGE_EXTENSIONS:
                    found.append((path.resolve().relative_to(base).as_posix(), path))
                else:
                    skipped += 1
    found.sort(key=lambda item: item[0])
    return found, skipped


# --- work done in the worker processes ---------------------------------------------------

def load_one(path: Path) -> tuple[np.ndarray | None, str]:
    """Read and preprocess one file; an error is returned as text, never raised."""
    try:
        return preprocess_image(path.read_bytes())[0], ""
    except PreprocessError as error:
        return None, str(error)
    except OSError as error:
        return None, f"cannot read the file: {error.strerror or error}"
    except Exception as error:  # one odd file must not lose the rest of the batch
        return None, f"{type(error).__name__}: {error}"


_predictor: Predictor | None = None  # one per worker process, made after the fork


def start_worker(model: Path) -> None:
    global _predictor
    _predictor = Predictor(model, threads=1)


def predict_chunk(paths: list[Path]) -> list[tuple[np.ndarray | None, str]]:
    """Preprocess and predict a chunk of files in this process: (probs or None, error)."""
    loaded = [load_one(path) for path in paths]
    ready = [model_input for model_input, _ in loaded if model_input is not None]
    probs = iter(_predictor.predict(np.stack(ready)) if ready else [])
    return [(next(probs) if model_input is not None else None, error)
            for model_input, error in loaded]


def predictions(paths: list[Path], model: Path, workers: int, chunk: int):
    """Yield (probs or None, error) for each path, in order.

    Each worker both preprocesses and predicts its chunk: inference costs about as much
    as decoding here, so doing it in the parent would leave it the bottleneck, and only
    ten probabilities per image cross between processes.
    """
    chunks = [paths[i:i + chunk] for i in range(0, len(paths), chunk)]
    if workers <= 1 or len(chunks) <= 1:
        start_worker(model)
        for part in chunks:
            yield from predict_chunk(part)
        return
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with context.Pool(min(workers, len(chunks)), initializer=start_worker,
                      initargs=(model,)) as pool:
        for result in pool.imap(predict_chunk, chunks):
            yield from result


# --- writing -----------------------------------------------------------------------------

def row(shown: str, probs: np.ndarray | None, error: str) -> dict:
    if probs is None:
        return {"path": shown, "digit": None, "prob": None,
                **{f"p{d}": None for d in range(10)}, "error": error}
    answer = postprocess(probs)  # the very numbers /predict would answer
    return {"path": shown, "digit": answer["digit"], "prob": answer["prob"],
            **{f"p{d}": p for d, p in enumerate(answer["probs"])}, "error": ""}


class RowWriter:
    """CSV or JSON Lines, chosen by the output file's extension."""

    def __init__(self, stream, path: Path):
        self.jsonl = path.suffix.lower() in (".jsonl", ".ndjson", ".json")
        self.stream = stream
        if not self.jsonl:
            self.csv = csv.writer(stream)
            self.csv.writerow(COLUMNS)

    def write(self, item: dict) -> None:
        if self.jsonl:
            self.stream.write(json.dumps(item) + "\n")
        else:
            self.csv.writerow(["" if item[c] is None else item[c] for c in COLUMNS])


# --- the program -------------------------------------------------------------------------

def run(args) -> tuple[int, int]:
    images, skipped = find_images(args.paths)
    predicted = failed = 0
    started = time.perf_counter()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", newline="", encoding="utf-8") as stream, \
            tqdm(total=len(images), unit="img", disable=args.quiet, file=sys.stderr) as bar:
        writer = RowWriter(stream, args.output)
        results = predictions([path for _, path in images], args.model, args.workers,
                              args.batch_size)
        for (shown, _), (probs, error) in zip(images, results):
            writer.write(row(shown, probs, error))
            predicted += probs is not None
            failed += probs is None
            bar.update()
    seconds = time.perf_counter() - started
    if not args.quiet:
        rate = predicted / seconds if seconds > 0 else 0.0
        print(f"predicted {predicted}, failed {failed}, skipped {skipped} (not images); "
              f"{rate:,.0f} images/s; rows -> {args.output}", file=sys.stderr)
    return predicted, failed


def main(argv=None) -> int:
    args = parse_args(argv)
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        print(f"error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    if not args.model.exists():
        print(f"error: model {args.model} not found (set MODEL_PATH or --model)",
              file=sys.stderr)
        return 2
    predicted, failed = run(args)
    if predicted + failed == 0:
        print("error: no image files found (looked for "
              f"{', '.join(sorted(IMAGE_EXTENSIONS))})", file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
