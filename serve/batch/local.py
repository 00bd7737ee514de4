"""The local engine: rows made by a pool of processes on this machine's cores.

Each worker process reads, decodes, lays out and predicts its own chunks of files, and
builds their rows: inference costs about as much as decoding here, so doing it in the
parent would leave it the bottleneck, and only finished rows cross between processes.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

from serve.batch.files import Where
from serve.batch.rows import RowMaker

maker: RowMaker | None = None  # in each worker process, made after the fork


def start_worker(model: Path, read: str) -> None:
    global maker
    maker = RowMaker(model, read)


def chunk_rows(files: list[tuple[str, Where]]) -> list[list]:
    """In a worker process: the rows of one chunk."""
    return maker.rows(files)


def local_rows(files: list[tuple[str, Where]], model: Path, workers: int, chunk: int, read: str):
    """Yield each file's row, in order."""
    chunks = [files[i : i + chunk] for i in range(0, len(files), chunk)]
    if workers <= 1 or len(chunks) <= 1:
        here = RowMaker(model, read)
        for part in chunks:
            yield from here.rows(part)
        return
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with context.Pool(
        min(workers, len(chunks)), initializer=start_worker, initargs=(model, read)
    ) as pool:
        for result in pool.imap(chunk_rows, chunks):
            yield from result
