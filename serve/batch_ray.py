"""The batch command's rows made on Ray Data instead of local processes.

`python -m serve.batch ... --engine ray [--address ray://host:10001]` starts a local Ray
on this machine's cores, or joins the cluster at --address. Ray Data spreads the files
over a pool of actors, each holding one onnxruntime session (made once, as the local
engine's worker processes do), and each actor turns its batch of files into rows with
the very code of the local engine (serve/batch.py: predict_chunk). The rows come back in
path order and are written by the command as usual: same columns, same values, same
error rows.

Paths may also be buckets, or any filesystem pyarrow understands (``s3://bucket/scans``,
``gs://...``): the driver lists them with pyarrow, and each actor reads its files from
there itself, so a file that cannot be read gets its row with the reason, as locally,
instead of failing the run.
"""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from pathlib import Path, PurePosixPath
from typing import NamedTuple


class BucketFile(NamedTuple):
    """A file in a bucket: the URI given on the command line and the file's path there."""

    root: str
    path: str


@cache  # one client per bucket and process
def filesystem(root: str):
    from pyarrow import fs

    return fs.FileSystem.from_uri(root)[0]


def find_bucket_images(uris: list[str]) -> tuple[list[tuple[str, BucketFile]], int]:
    """(shown path, BucketFile) for every image under the URIs, and the skip count.

    Shown paths are made as for local folders: ``s3://bucket/scans`` gives
    ``scans/a/1.png``; a file named directly is shown as given.
    """
    from pyarrow import fs

    from serve.batch import IMAGE_EXTENSIONS, CannotList

    found, skipped = [], 0
    for uri in uris:
        try:
            bucket, root = fs.FileSystem.from_uri(uri)
            info = bucket.get_file_info(root)
            if info.type == fs.FileType.File:
                found.append((uri, BucketFile(uri, root)))
                continue
            if info.type != fs.FileType.Directory:
                raise CannotList(f"no such file or folder: {uri}")
            listed = bucket.get_file_info(fs.FileSelector(root, recursive=True))
        except (OSError, ValueError) as error:  # pyarrow's errors: no access, bad URI...
            raise CannotList(f"cannot list {uri}: {error}") from error
        top = PurePosixPath(PurePosixPath(root).name or uri)
        for entry in listed:
            if entry.type != fs.FileType.File:
                continue
            path = PurePosixPath(entry.path)
            if path.suffix.lower() in IMAGE_EXTENSIONS:
                found.append(
                    ((top / path.relative_to(root)).as_posix(), BucketFile(uri, entry.path))
                )
            else:
                skipped += 1
    return found, skipped


def read_file(where: Path | BucketFile) -> bytes:
    """The bytes of a local file (regular files only) or of a file in a bucket."""
    from serve.batch import read_regular_file

    if isinstance(where, BucketFile):
        with filesystem(where.root).open_input_stream(where.path) as stream:
            return stream.read()
    return read_regular_file(where)


class RowMaker:
    """A Ray actor's state: the model, loaded once; called with batches of files."""

    def __init__(self, model: str, read: str):
        from serve import batch

        batch.start_worker(Path(model), read)

    def __call__(self, files: dict) -> dict:
        from serve import batch

        chunk = [
            (shown, BucketFile(root, path) if root else Path(path))
            for shown, root, path in zip(files["shown"], files["root"], files["path"], strict=True)
        ]
        rows = batch.predict_chunk(chunk, read_file)
        # JSON keeps every value as it is (None stays None) through Ray's columnar blocks.
        return {"row": [json.dumps(row) for row in rows]}


def item(shown: str, where: Path | BucketFile) -> dict:
    if isinstance(where, BucketFile):
        return {"shown": shown, "root": where.root, "path": where.path}
    # Absolute for the actors, but not resolved: a broken link must stay a link.
    return {"shown": shown, "root": "", "path": os.path.abspath(where)}


def ray_rows(files, model: Path, workers: int, chunk: int, read: str, address: str | None):
    """Yield each file's row, in order, made by Ray actors."""
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            num_cpus=None if address else workers,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # rows in path order
        context.enable_progress_bars = False
        dataset = ray.data.from_items([item(shown, where) for shown, where in files]).map_batches(
            RowMaker,
            fn_constructor_kwargs={"model": str(model.resolve()), "read": read},
            batch_size=chunk,
            concurrency=max(1, workers),
            num_cpus=1,
        )
        for made in dataset.iter_rows():
            yield json.loads(made["row"])
    finally:
        if started_here:
            ray.shutdown()
