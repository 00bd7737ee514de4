"""gunicorn settings, from the environment (see README "Configuration")."""

import os
import tempfile

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WORKERS", "2"))
threads = int(os.environ.get("THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("TIMEOUT", "30"))
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
accesslog = None  # the app writes its own JSON access line per request
errorlog = "-"
# No preload: each worker imports the app and opens its own onnxruntime session after the
# fork, as onnxruntime requires.
preload_app = False

# prometheus_client must know its shared folder before it is imported by the workers.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="digit-metrics-")


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
