"""Every setting of the server and the batch command, read from the environment once.

The README's "Configuration" table lists them; `Settings.from_environment()` is the only
place that reads them, and the app, serve/gunicorn_conf.py and serve/batch/ all use it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SWITCHES = ("on", "off")
# Where corrections are kept, as SQLAlchemy writes database URLs (serve/corrections/store.py).
SQLITE_URL = "sqlite:///"
POSTGRES_URLS = ("postgresql://", "postgres://", "postgresql+psycopg://")


@dataclasses.dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 2  # gunicorn processes, each with its own onnxruntime session
    connections: int = 1000  # open connections per worker (gevent)
    timeout: int = 30  # a worker silent this long is restarted
    keepalive: int = 5  # seconds to wait for a request's headers on an open connection
    upload_timeout: int = 10  # seconds to receive a request's body
    model_path: Path = ROOT / "models" / "mnist.onnx"
    ort_threads: int = 1  # onnxruntime intra-op threads per process
    cpu_threads: int = 2  # native threads per worker that decode, preprocess and predict
    max_upload_bytes: int = 5 * 1024 * 1024  # request body limit (413 beyond)
    # Declared size limits (413 beyond). Decoded at full size, 4 MP (a 2000x2000 scan)
    # costs tens of milliseconds; JPEG is decoded at 1/2 to 1/8 scale, so 25 MP admits
    # the photos of today's phones (12-24 MP).
    max_image_pixels: int = 4_000_000
    max_photo_pixels: int = 25_000_000
    log_level: str = "INFO"
    # The verdict thresholds (serve/core/verdict.py). Unset, the model's own apply: fitted
    # on validation data at training time and shipped in models/mnist.json.
    not_a_digit_below: float | None = None
    sure_from: float | None = None
    # Corrections people send from the page (POST /corrections): kept with the drawing,
    # for training data. "off" answers 404 and hides the page's control.
    corrections: str = "on"
    # sqlite:///relative/path.db (from the working folder), sqlite:////absolute/path.db, or
    # postgresql://user@host/db where several replicas write.
    corrections_url: str = SQLITE_URL + str(ROOT / "corrections" / "corrections.db")
    corrections_per_minute: int = 30  # per client address and worker process; 0: no limit
    corrections_max: int = 100_000  # rows kept before 403 "full"; 0: no limit

    @classmethod
    def from_environment(cls, environ=os.environ) -> Settings:
        """Each field from the upper-case variable of its name, e.g. MAX_UPLOAD_BYTES."""
        values = {}
        for field in dataclasses.fields(cls):
            text = environ.get(field.name.upper(), "").strip()
            if text:
                values[field.name] = parse(field.name, text, type(field.default))
        return cls(**values)


def parse(name: str, text: str, kind: type):
    if kind is type(None):  # the optional settings are the verdict thresholds
        return probability(name, text)
    if kind is int:
        try:
            value = int(text)
        except ValueError:
            raise SystemExit(f"error: {name.upper()}={text!r} is not a whole number") from None
        if value < 0:
            raise SystemExit(f"error: {name.upper()}={text!r} must not be negative")
        return value
    if name == "log_level":
        if text.upper() not in LOG_LEVELS:
            raise SystemExit(f"error: LOG_LEVEL={text!r} is not one of {', '.join(LOG_LEVELS)}")
        return text.upper()
    if name == "corrections":
        if text.lower() not in SWITCHES:
            raise SystemExit(f"error: CORRECTIONS={text!r} is not 'on' or 'off'")
        return text.lower()
    if name == "corrections_url":
        return database_url(text)
    return kind(text)


def database_url(text: str) -> str:
    """A URL the corrections store can open. Never echoed whole: it may hold a password."""
    if text.startswith(SQLITE_URL):
        if len(text) == len(SQLITE_URL):
            raise SystemExit(f"error: CORRECTIONS_URL={text!r} names no file (sqlite:///path.db)")
        return text
    if text.startswith(POSTGRES_URLS):
        # The driver is not a serving requirement; a server told to use it says so at start.
        if importlib.util.find_spec("psycopg") is None:
            raise SystemExit(
                "error: CORRECTIONS_URL=postgresql://... needs the driver psycopg: "
                "pip install -r requirements-postgres.txt"
            )
        return text
    scheme = text.partition("://")[0][:20]  # what comes after may be a password
    raise SystemExit(
        f"error: CORRECTIONS_URL={scheme!r}... is neither sqlite:///path.db "
        "nor postgresql://user@host/db"
    )


def probability(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SystemExit(f"error: {name.upper()}={text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise SystemExit(f"error: {name.upper()}={text!r} must be between 0 and 1")
    return value
