"""Settings, read from the environment once when the app is created."""

from __future__ import annotations

import os
from pathlib import Path

from serve.preprocess import DEFAULT_MAX_PIXELS

ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value.strip() else default
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not a whole number") from None


def from_environment() -> dict:
    return {
        "MODEL_PATH": os.environ.get("MODEL_PATH", str(ROOT / "models" / "mnist.onnx")),
        # Werkzeug answers 413 past this many bytes of request body.
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_BYTES", 5 * 1024 * 1024),
        # A small file can still decode to a huge bitmap; refuse those before decoding.
        "MAX_IMAGE_PIXELS": _int("MAX_IMAGE_PIXELS", DEFAULT_MAX_PIXELS),
        "ORT_THREADS": _int("ORT_THREADS", 1),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
    }
