"""gunicorn settings, from serve.settings (see README "Configuration").

gevent workers: a connection that is slow to send its request holds a greenlet, not one
of a few threads, so slow or idle clients cannot starve the server; its headers must
arrive within `keepalive` seconds and its body within `upload_timeout`.
"""

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from pathlib import Path

from serve.settings import Settings

# A bad setting or model stops the start here, in the master, with one line: in a worker
# it would be a traceback per worker.
settings = Settings.from_environment()


def model_problem(path: Path) -> str | None:
    """Why ``path`` cannot be the model, or None. A cheap look, not onnxruntime: the master
    never loads it (each worker opens its own session after the fork)."""
    try:
        with open(path, "rb") as file:
            head = file.read(1)
    except FileNotFoundError:
        return f"model {path} not found (set MODEL_PATH)"
    except OSError as error:
        return f"model {path} cannot be read: {error.strerror} (set MODEL_PATH)"
    # An ONNX file is a protobuf ModelProto, whose first field is ir_version (tag 0x08).
    if head != b"\x08":
        return f"model {path} is not an ONNX model (set MODEL_PATH)"
    return None


if problem := model_problem(settings.model_path):
    raise SystemExit(f"error: {problem}")

# prometheus_client must know its shared folder before anything imports it. A folder made
# here is removed when the server stops (on_exit); one given by the operator is kept.
made_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    made_metrics_dir = tempfile.mkdtemp(prefix="digit-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made_metrics_dir

bind = f"{settings.host}:{settings.port}"
workers = settings.workers
worker_class = "gevent"
worker_connections = settings.connections
timeout = settings.timeout
keepalive = settings.keepalive
loglevel = settings.log_level.lower()
accesslog = None  # the app writes its own JSON access line per request
errorlog = "-"
# No preload: each worker imports the app and opens its own onnxruntime session after the
# fork, as onnxruntime requires.
preload_app = False
# gunicorn's control socket would be a file in $HOME; nothing here uses it.
control_socket_disable = True


M_TRIM_THRESHOLD = -1  # mallopt(3)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def post_fork(server, worker):
    # glibc raises its mmap threshold each time a large block is freed; after that the
    # arrays of a big upload come from the heap, which keeps their high-water mark, and a
    # worker's memory creeps up by tens of MB. A fixed threshold hands every block over
    # 2 MB back to the system when it is freed (mallopt also stops the adjusting): a 4 MP
    # upload's single-channel arrays (4,000,000 bytes) among them, which a threshold of
    # 4 MiB left on the heap, where they raised its high-water mark for good. A
    # canvas's arrays stay well under it. The price is fresh pages for each large upload.
    # Fixing it also fixes the trim threshold at its default of 128 kB: the heap would then
    # be handed back and faulted in again on nearly every request (half a millisecond of
    # a canvas's), so up to 8 MB of free heap is kept.
    # One arena for all of the worker's threads (the event loop's and the CPU threads of
    # serve/web/offload.py): glibc would give each thread an arena of its own, each
    # keeping its own free memory, and the worker's memory would swing by that much more
    # from one minute to the next (benchmarks/soak.py); latency is unchanged.
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if hasattr(libc, "mallopt"):  # glibc; other C libraries go their own way
        libc.mallopt(M_MMAP_THRESHOLD, 2 << 20)
        libc.mallopt(M_TRIM_THRESHOLD, 8 << 20)
        libc.mallopt(M_ARENA_MAX, 1)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if made_metrics_dir:
        shutil.rmtree(made_metrics_dir, ignore_errors=True)
