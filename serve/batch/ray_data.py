"""The Ray engine: rows made on Ray Data instead of local processes.

`python -m serve.batch ... --engine ray [--address ray://host:10001]` joins the cluster at
--address, or else always starts a Ray of its own on this machine's cores (never one that
RAY_ADDRESS or an earlier `ray start` names). Ray Data spreads the files over a pool of
actors, each a ``RowMaker`` holding the model (loaded once, as each of the local engine's
worker processes holds it), so each batch of files becomes the very rows the local engine
makes. The rows come back in path order and are written by the command as usual: same
columns, same values, same error rows.

Files in buckets (``s3://bucket/scans``, ``gs://...``) are read by the actors themselves,
so a file that cannot be read gets its row with the reason, as locally, instead of failing
the run.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from serve.batch.files import Where
from serve.batch.rows import RowMaker


def ray_rows(
    files: list[tuple[str, Where]],
    model: Path,
    workers: int,
    chunk: int,
    read: str,
    address: str | None,
):
    """Yield each file's row, in order, made by Ray actors."""
    import ray  # only with --engine ray: it comes with the optional Ray requirements

    started_here = not ray.is_initialized()
    if started_here:
        # "local" starts a Ray of its own even where RAY_ADDRESS or a stale
        # /tmp/ray/ray_current_cluster names a cluster: only --address joins one (whose
        # cores are its own, hence no num_cpus).
        ray.init(
            address=address or "local",
            num_cpus=None if address else workers,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # rows in path order
        context.enable_progress_bars = False
        items = [RowMaker.item(shown, where) for shown, where in files]
        dataset = ray.data.from_items(items).map_batches(
            RowMaker,
            fn_constructor_kwargs={"model": str(model.resolve()), "read": read},
            batch_size=chunk,
            compute=ray.data.ActorPoolStrategy(size=workers),  # a fixed pool of actors
            num_cpus=1,
        )
        for made in dataset.iter_rows():
            yield json.loads(made["row"])
    finally:
        if started_here:
            ray.shutdown()
