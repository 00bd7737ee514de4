"""A real gunicorn server started as `make serve` starts it, and the requests sent to it:
multipart bodies, free ports, uploads through Flask's test client or a socket."""

from __future__ import annotations

import contextlib
import http.client
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from support.drawings import ROOT


def multipart(
    data: bytes,
    field="image",
    filename="canvas.png",
    content_type="image/png",
    fields: dict[str, str] | None = None,
) -> tuple[bytes, str]:
    """A multipart/form-data body with text ``fields`` (as the page's form sends a
    correction's label) and one file part, and its Content-Type header."""
    boundary = uuid.uuid4().hex
    texts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in (fields or {}).items()
    )
    head = (
        f'{texts}--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def post_image(client, data: bytes, field="image", filename="canvas.png", path="/predict"):
    """POST /predict (with ``path``'s query, if any) through Flask's test client."""
    return client.post(
        path, data={field: (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict | None = None,
    timeout: float = 10,
) -> tuple[int, dict, bytes]:
    """One request on a new connection: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def post_upload(port: int, data: bytes, path="/predict", **part) -> tuple[int, dict, bytes]:
    """POST /predict (with ``path``'s query, if any) to a real server."""
    body, content_type = multipart(data, **part)
    return request(port, "POST", path, body, {"Content-Type": content_type})


# --- a real server -----------------------------------------------------------------------


class Server:
    """gunicorn with serve/gunicorn_conf.py, as `make serve` runs it, on a free port."""

    def __init__(self, process: subprocess.Popen, port: int, log: Path, metrics_dir: Path):
        self.process, self.port, self.log, self.metrics_dir = process, port, log, metrics_dir

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until_ready(port: int, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            if request(port, "GET", "/healthz", timeout=2)[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not come up")


@contextlib.contextmanager
def running_server(python: str | Path = sys.executable, cwd: Path = ROOT, **settings) -> Server:
    """Start the server, wait for /healthz, yield it, stop it. ``settings`` are
    environment variables (``WORKERS=1``)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="digit-server-") as scratch:
        scratch = Path(scratch)
        metrics_dir = scratch / "metrics"
        metrics_dir.mkdir()
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            # Corrections go to the scratch folder unless a test names a store.
            "CORRECTIONS_URL": f"sqlite:///{scratch}/corrections.db",
            **{k: str(v) for k, v in settings.items()},
        }
        gunicorn = Path(python).parent / "gunicorn"
        log = scratch / "server.log"
        with open(log, "wb") as log_file:
            process = subprocess.Popen(
                [str(gunicorn), "--config", "serve/gunicorn_conf.py", "serve.web.app:create_app()"],
                cwd=cwd,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_ready(port, process)
            yield Server(process, port, log, metrics_dir)
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
