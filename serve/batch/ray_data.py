"""The Ray engine: rows made on Ray Data instead of local processes.

`python -m serve.batch ... --engine ray [--address ray://host:10001]` joins the cluster at
--address, or else always starts a Ray of its own on this machine's cores (never one that
RAY_ADDRESS or an earlier `ray start` names). Ray Data spreads the files over a pool of
actors, each a ``RowMaker`` holding the model (loaded once, as each of the local engine's
worker processes holds it), so each batch of files becomes the very rows the local engine
makes. The rows come back in path order and are written by the command as usual: same
columns, same values, same error rows.

The nodes of a cluster need not have the project: the driver ships the ``serve`` package
(Ray's ``py_modules``) and the model's bytes and metadata to the actors. A cluster that
cannot make the rows (no answer at the address, another Ray or Python, nodes without the
serving requirements) raises ``CannotRunOnRay`` with one line saying why.

Files in buckets (``s3://bucket/scans``, ``gs://...``) are read by the actors themselves,
so a file that cannot be read gets its row with the reason, as locally, instead of failing
the run.
"""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import serve
from serve.batch.files import Where
from serve.batch.rows import RowMaker
from serve.core.predictor import read_metadata

SERVE_PACKAGE = str(Path(serve.__file__).resolve().parent)
# How long the address of a cluster may take to accept a connection. Ray itself retries an
# address nobody listens on for minutes.
CONNECT_SECONDS = 10


class CannotRunOnRay(Exception):
    """Ray cannot make the rows; the text is the one line the command prints."""


def ray_rows(
    files: list[tuple[str, Where]],
    model: Path,
    workers: int,
    chunk: int,
    read: str,
    address: str | None,
):
    """Yield each file's row, in order, made by Ray actors."""
    try:
        import ray  # only with --engine ray: it comes with the optional Ray requirements
    except ImportError:
        needs = "--engine ray needs Ray: pip install -r requirements-ray.txt"
        raise CannotRunOnRay(needs) from None

    started_here = not ray.is_initialized()
    if started_here:
        start(ray, address, workers)
    try:
        # The actors get the model itself, not a path: a node of a cluster has no such file.
        maker = {"model": model.read_bytes(), "metadata": read_metadata(model), "read": read}
        if address:
            check_a_node(ray, address, maker)
        context = ray.data.DataContext.get_current()
        # Ray Data's own lines (plans, each actor's traceback) would bury the command's;
        # set once ray.data is imported, as importing it sets them up.
        logging.getLogger("ray.data").setLevel(logging.CRITICAL)
        context.execution_options.preserve_order = True  # rows in path order
        context.enable_progress_bars = False
        items = [RowMaker.item(shown, where) for shown, where in files]
        dataset = ray.data.from_items(items).map_batches(
            RowMaker,
            fn_constructor_kwargs=maker,
            batch_size=chunk,
            compute=ray.data.ActorPoolStrategy(size=workers),  # a fixed pool of actors
            num_cpus=1,
        )
        try:
            for made in dataset.iter_rows():
                yield json.loads(made["row"])
        except ray.exceptions.RayError as error:
            raise CannotRunOnRay(f"Ray could not make the rows: {reason(error)}") from None
    finally:
        if started_here:
            ray.shutdown()


def start(ray, address: str | None, workers: int) -> None:
    """Join the cluster at ``address`` (shipping the serving code to it), or start a Ray of
    this machine's own."""
    if address:
        reach(address)
    try:
        # "local" starts a Ray of its own even where RAY_ADDRESS or a stale
        # /tmp/ray/ray_current_cluster names a cluster: only --address joins one (whose
        # cores are its own, hence no num_cpus).
        ray.init(
            address=address or "local",
            num_cpus=None if address else workers,
            runtime_env={"py_modules": [SERVE_PACKAGE]} if address else None,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    except Exception as error:  # ConnectionError, RuntimeError (versions), ValueError...
        where = f"join the Ray cluster at {address}" if address else "start Ray"
        raise CannotRunOnRay(f"cannot {where}: {reason(error)}") from None


def reach(address: str) -> None:
    """Connect once to the cluster's address, within CONNECT_SECONDS."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not port.isdigit():
        return  # "auto": Ray looks on this machine and says so at once if nothing is there
    try:
        socket.create_connection((host.strip("[]"), int(port)), CONNECT_SECONDS).close()
    except OSError as error:
        why = error.strerror or str(error) or type(error).__name__
        raise CannotRunOnRay(f"cannot reach the Ray cluster at {address}: {why}") from None


def make_one(**maker) -> None:
    RowMaker(**maker)


def check_a_node(ray, address: str, maker: dict) -> None:
    """Make one RowMaker on the cluster before Ray Data starts its actors: a node without
    the serving requirements or with another Python fails here once, with its reason,
    where Ray Data would retry and print every actor's traceback."""
    try:
        ray.get(ray.remote(make_one).options(num_cpus=1, max_retries=0).remote(**maker))
    except ray.exceptions.RayError as error:
        raise CannotRunOnRay(
            f"the Ray cluster at {address} cannot make the rows: {reason(error)} (its nodes "
            "need the serving requirements and Ray, at this machine's versions)"
        ) from None


def reason(error: BaseException) -> str:
    """What went wrong, in one line: the innermost error, as Ray wraps the one raised on a
    node (``cause``) or in its own code (``__cause__``)."""
    while (inner := getattr(error, "cause", None) or error.__cause__) is not None:
        if not isinstance(inner, BaseException) or inner is error:
            break
        error = inner
    text = str(error)
    if "Traceback (most recent call last)" in text:
        # Ray puts the traceback of a node's (or its own C++ side's) error into the text:
        # its last line is that error itself.
        text = [line for line in text.splitlines() if line.strip()][-1]
    return " ".join(text.split()) or type(error).__name__
