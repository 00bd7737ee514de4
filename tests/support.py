"""Helpers shared by the tests and the benchmarks: drawings as PNG bytes, multipart bodies,
free ports, and a real gunicorn server started as `make serve` starts it."""

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

import numpy as np
from PIL import Image, ImageDraw

from serve.settings import ROOT
from train.drawn import redraw

SHIPPED_MODEL = ROOT / "models" / "mnist.onnx"


# --- drawings ----------------------------------------------------------------------------


def canvas_png(
    draw, size=280, mode="RGBA", background=(0, 0, 0, 0), ink=(0, 0, 0, 255), width=18
) -> bytes:
    """A PNG like the page's canvas sends; ``draw(d, ink, width)`` puts strokes on it."""
    image = Image.new(mode, (size, size), background)
    draw(ImageDraw.Draw(image), ink, width)
    return encode(image)


def encode(image: Image.Image, fmt="PNG", **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def seven(d, ink, width):
    d.line([(70, 60), (210, 60), (120, 230)], fill=ink, width=width, joint="curve")


def one(d, ink, width):
    d.line([(140, 40), (140, 240)], fill=ink, width=width)


def zero(d, ink, width):
    d.ellipse([(85, 40), (195, 240)], outline=ink, width=width)


def scribble(d, ink, width):
    """A pen scrubbed back and forth over the pad: no digit."""
    d.line([(40 + 200 * (i % 2), 40 + 14 * i) for i in range(15)], fill=ink, width=width)
    d.line([(50 + 13 * i, 240 - 200 * (i % 2)) for i in range(14)], fill=ink, width=width)


def letter_a(d, ink, width):
    d.line([(60, 240), (140, 40), (220, 240)], fill=ink, width=width, joint="curve")
    d.line([(95, 160), (185, 160)], fill=ink, width=width)


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(digit.shape)
    return (rows * digit).sum() / digit.sum(), (cols * digit).sum() / digit.sum()


# --- MNIST digits re-drawn as people's screens and scanners send them -------------------
# A 28x28 MNIST digit is scaled up to a random size, re-inked with a thinner or thicker
# pen, anti-aliased like a canvas, and placed at a random spot of a 280x280 canvas; then
# encoded as a browser would (black ink on transparent PNG), on white, or light-on-dark.

SAMPLE = ROOT / "tests" / "data" / "mnist_test_sample.npz"
STYLES = ("transparent", "white", "dark")


def mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """2,000 MNIST test digits (white on black, uint8) and their labels."""
    with np.load(SAMPLE) as data:
        return data["images"], data["labels"]


def png_bytes(image: Image.Image) -> bytes:
    return encode(image)


def scan(digit: np.ndarray, rng: np.random.Generator, size: int = 160) -> Image.Image:
    """Dark ink on grey, grainy paper, as a flatbed scanner or phone photo gives it."""
    ink = redraw(digit, rng, "transparent", canvas=size + 120).getchannel("A")
    ink = np.asarray(ink.resize((size, size), Image.Resampling.BILINEAR), np.float32) / 255
    paper = rng.normal(rng.uniform(150, 200), 8, (size, size))
    pen = rng.uniform(20, 60)
    grey = paper * (1 - ink) + pen * ink
    return Image.fromarray(grey.clip(0, 255).astype(np.uint8), "L").convert("RGB")


def jpeg_bytes(image: Image.Image, quality: int = 75) -> bytes:
    return encode(image, "JPEG", quality=quality)


# --- HTTP --------------------------------------------------------------------------------


def multipart(
    data: bytes, field="image", filename="canvas.png", content_type="image/png"
) -> tuple[bytes, str]:
    """A multipart/form-data body with one file part, and its Content-Type header."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
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
