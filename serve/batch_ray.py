"""The batch command's rows made on Ray Data instead of local processes.

`python -m serve.batch ... --engine ray [--address ray://host:10001]` starts a local Ray
on this machine's cores, or joins the cluster at --address. Ray Data spreads the files
over a pool of actors, each holding one onnxruntime session (made once, as the local
engine's worker processes do), and each actor turns its batch of files into rows with
the very code of the local engine (serve/batch.py: predict_chunk). The rows come back in
path order and are written by the command as usual: same columns, same values, same
error rows.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path


class RowMaker:
    """A Ray actor's state: the model, loaded once; called with batches of files."""

    def __init__(self, model: str, read: str):
        from serve import batch

        batch.start_worker(Path(model), read)

    def __call__(self, files: dict) -> dict:
        from serve import batch

        chunk = [
            (shown, Path(path)) for shown, path in zip(files["shown"], files["path"], strict=True)
        ]
        # JSON keeps every value as it is (None stays None) through Ray's columnar blocks.
        return {"row": [json.dumps(row) for row in batch.predict_chunk(chunk)]}


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
        dataset = ray.data.from_items(
            # Absolute for the actors, but not resolved: a broken link must stay a link.
            [{"shown": shown, "path": os.path.abspath(path)} for shown, path in files]
        ).map_batches(
            RowMaker,
            fn_constructor_kwargs={"model": str(model.resolve()), "read": read},
            batch_size=chunk,
            concurrency=max(1, workers),
            num_cpus=1,
        )
        for item in dataset.iter_rows():
            yield json.loads(item["row"])
    finally:
        if started_here:
            ray.shutdown()
