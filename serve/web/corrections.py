"""POST /corrections: what a person meant, sent back with the drawing the page read.

Kept for training (serve/corrections/): the uploaded bytes as sent, the label, what the
product read, the model's sha256 and the time in UTC; nothing about the sender (the rate
limit keys on the client's address, in memory only). ``get_store()`` is the store of this
process, as ``get_reader()`` is its model: made by ``create_app`` with ``keep()``,
connected on first use, so a database that is down answers 503 here and stops nothing
else. CORRECTIONS=off keeps nothing and answers 404.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import threading

from flask import Blueprint, Flask, current_app, jsonify, request
from gevent import monkey
from gevent.threadpool import ThreadPool
from werkzeug.exceptions import BadRequest, NotFound

from serve.core.read import Reader
from serve.corrections.limits import RateLimit
from serve.corrections.store import (
    Correction,
    Store,
    StoreFull,
    StoreUnavailable,
    open_store,
    utc_text,
)
from serve.settings import Settings
from serve.web.context import get_reader, get_settings
from serve.web.errors import error_response
from serve.web.offload import in_thread, off_the_event_loop
from serve.web.uploads import uploaded_bytes

bp = Blueprint("corrections", __name__)

KEY = "draw-a-digit-corrections"  # in app.extensions, beside serve/web/context.py's
LABEL = re.compile(r"[0-9]{1,12}")  # as many digits as a number reading has at most
MOST_READING_CHARS = 40
# Store calls at once per worker: a bound on its PostgreSQL connections, and on the
# native threads that wait for SQLite.
STORE_SLOTS = 4


def keep(app: Flask, settings: Settings, reader: Reader) -> None:
    """Nothing is opened here: the store connects on the first correction."""
    if settings.corrections != "on":
        return
    app.extensions[KEY] = {
        "store": open_store(settings.corrections_url),
        "limit": RateLimit(settings.corrections_per_minute),
        "model_sha256": file_sha256(reader.predictor.model_path),
        "slots": threading.BoundedSemaphore(STORE_SLOTS),
    }


def enabled(app: Flask) -> bool:
    return KEY in app.extensions


def get_store() -> Store:
    return current_app.extensions[KEY]["store"]


def file_sha256(path) -> str:
    """Of the model file this process loaded, once: each correction records it."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


@bp.post("/corrections")
def add_correction():
    if not enabled(current_app):
        raise NotFound("corrections are switched off on this server")
    kept = current_app.extensions[KEY]
    # Counted before the upload is read: a client over its allowance costs nothing more.
    wait = kept["limit"].wait(request.remote_addr or "")
    if wait:
        response = error_response("too many corrections: wait a little and send it again", 429)
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    image = uploaded_bytes()  # the limits of /predict: 413 over the size, 408 too slow
    label, reading = form_fields()
    # Only an image the server can read is kept, and it is refused as /predict refuses
    # it (415, 413); the decoded pixels are not needed.
    off_the_event_loop(get_reader().decode, image)
    correction = Correction(image, label, reading, kept["model_sha256"], utc_text())
    try:
        number = in_store(get_store().add, correction, get_settings().corrections_max)
    except StoreFull as full:
        # No Retry-After: waiting won't help; an operator must export and clear it.
        return error_response(f"{full}: it takes more once an operator exports and clears it", 403)
    except StoreUnavailable as error:
        current_app.logger.warning("corrections store unavailable: %s", error)
        return error_response("the corrections store is unavailable: try again later", 503)
    return jsonify(id=number), 201


def form_fields() -> tuple[str, str | None]:
    """The label (1 to 12 ASCII digits) and the reading (optional, short), or 400."""
    label = request.form.get("label", "")
    if not LABEL.fullmatch(label):
        raise BadRequest("label must be the digits the drawing shows: 1 to 12 of 0-9")
    reading = request.form.get("reading") or None
    if reading is not None and (len(reading) > MOST_READING_CHARS or not reading.isprintable()):
        raise BadRequest(f"reading must be printable text, at most {MOST_READING_CHARS} characters")
    return label, reading


def in_store(function, *args):
    """``function(*args)``, a store call, taking turns for one of the worker's STORE_SLOTS,
    and never stopping gevent's event loop: SQLite's calls block, so they run in native
    threads; psycopg's wait cooperatively in the greenlet."""
    with current_app.extensions[KEY]["slots"]:
        if not (get_store().dialect.blocking and monkey.is_module_patched("threading")):
            return function(*args)
        return in_thread(store_threads(), function, *args)


@functools.cache
def store_threads() -> ThreadPool:
    """This worker's threads for SQLite, made after the fork."""
    return ThreadPool(STORE_SLOTS)
