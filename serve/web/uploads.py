"""Reading the uploaded image out of a request: a multipart file field, or a raw body."""

from __future__ import annotations

import contextlib
import io

import gevent
from flask import Request, request
from gevent import monkey
from werkzeug.exceptions import BadRequest, RequestTimeout

from serve.web.context import get_settings

UPLOAD_FIELDS = ("image", "file")


class InMemoryRequest(Request):
    """Uploaded files stay in memory (the body limit bounds them) instead of being spooled
    to temporary files: the server writes nothing to disk."""

    def _get_file_stream(
        self, total_content_length, content_type, filename=None, content_length=None
    ):
        return io.BytesIO()


def uploaded_bytes() -> bytes:
    """The image from multipart field 'image' (or 'file'), or a raw image/* body, received
    within the upload timeout."""
    with upload_deadline():
        if request.mimetype == "multipart/form-data":
            for field in UPLOAD_FIELDS:
                if field in request.files:
                    return request.files[field].read()
        elif request.mimetype.startswith("image/"):
            return request.get_data(cache=False)
    raise BadRequest("no image: send it as multipart/form-data in the field 'image'")


@contextlib.contextmanager
def upload_deadline():
    """Under gunicorn's gevent workers a slow sender holds only a greenlet, but it is
    still cut off: gevent.Timeout interrupts the wait for the rest of the body (408)."""
    seconds = get_settings().upload_timeout
    if not (seconds and monkey.is_module_patched("socket")):
        yield
        return
    try:
        with gevent.Timeout(seconds):
            yield
    except gevent.Timeout:
        raise RequestTimeout(f"the upload took longer than {seconds} s to arrive") from None
