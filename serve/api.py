"""The JSON API: /predict, /healthz, /openapi.json."""

from __future__ import annotations

import base64
import functools
import io
import time

import gevent
import python_multipart
from gevent import monkey
from gevent.threadpool import ThreadPool
from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header
from flask import Blueprint, current_app, jsonify, request
from PIL import Image
import numpy as np

from serve.decode import PreprocessError
from serve.openapi import openapi_document
from serve.postprocess import postprocess
from serve.preprocess import preprocess_image

bp = Blueprint("api", __name__)

UPLOAD_FIELDS = ("image", "file")


def multipart_files() -> dict[str, bytes]:
    """The file parts of a multipart/form-data body, by field name.

    python-multipart's low-level parser: Werkzeug's form parser compiles two regular
    expressions for every new boundary, and browsers send a new boundary with every
    request (about half a millisecond, more than the model takes); python-multipart's
    FormParser builds file objects that one small upload does not need.
    """
    _, options = parse_options_header(request.headers.get("Content-Type", ""))
    if not options.get(b"boundary"):
        raise PreprocessError("the multipart body has no boundary")
    files, headers, chunks = {}, {}, []
    name, value = bytearray(), bytearray()

    def on_header_end():
        headers[bytes(name).lower()] = bytes(value)
        name.clear()
        value.clear()

    def on_part_end():
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        if b"filename" in disposition:  # a file, not a plain form field
            files[disposition.get(b"name", b"").decode("latin-1")] = b"".join(chunks)
        headers.clear()
        chunks.clear()

    parser = MultipartParser(options[b"boundary"], {
        "on_header_field": lambda data, start, end: name.extend(data[start:end]),
        "on_header_value": lambda data, start, end: value.extend(data[start:end]),
        "on_header_end": on_header_end,
        "on_part_data": lambda data, start, end: chunks.append(data[start:end]),
        "on_part_end": on_part_end,
    })
    try:
        parser.write(request_body())
        parser.finalize()
    except (python_multipart.exceptions.FormParserError, ValueError) as error:
        raise PreprocessError(f"the multipart body could not be parsed: {error}") from None
    return files


class SlowUpload(PreprocessError):
    status = 408


def request_body() -> bytes:
    """The request body (Flask enforces the size limit), received within upload_timeout.

    Under gunicorn's gevent workers a slow sender holds only a greenlet, but it is still
    cut off: gevent.Timeout interrupts the wait for the rest of the body.
    """
    seconds = current_app.extensions["settings"].upload_timeout
    if not (seconds and monkey.is_module_patched("socket")):
        return request.get_data(cache=False)
    try:
        with gevent.Timeout(seconds):
            return request.get_data(cache=False)
    except gevent.Timeout:
        raise SlowUpload(f"the upload took longer than {seconds} s to arrive") from None


def uploaded_bytes() -> bytes:
    """The image from multipart field 'image' (or 'file'), or a raw image/* body."""
    if request.mimetype == "multipart/form-data":
        files = multipart_files()
        for field in UPLOAD_FIELDS:
            if field in files:
                return files[field]
    elif request.mimetype.startswith("image/"):
        return request_body()
    raise PreprocessError("no image: send it as multipart/form-data in the field 'image'")


def model_view_png(model_input: np.ndarray) -> str:
    """The 28x28 model input as a PNG data URL: what the model actually saw."""
    pixels = np.round(model_input[0, :, :, 0] * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@functools.cache
def cpu_threads() -> ThreadPool:
    """Native threads for the CPU work of this worker process, made after the fork. Two
    keep a core busy while one waits for onnxruntime or Pillow (which release the GIL);
    more would only hold more decoded images in memory at once."""
    return ThreadPool(2)


def off_the_event_loop(function, *args):
    """Run CPU-bound work in a native thread when serving under gevent, so that the event
    loop goes on answering other connections (health checks above all) meanwhile."""
    if not monkey.is_module_patched("threading"):
        return function(*args)
    result, error = cpu_threads().apply(outcome, (function, *args))
    if error is not None:
        raise error
    return result


def outcome(function, *args):
    """(result, None) or (None, error): gevent reports any exception that leaves its
    thread pool as unhandled, with a traceback in the log, even one the caller handles."""
    try:
        return function(*args), None
    except Exception as error:
        return None, error


def read_digit(data: bytes, settings, predictor) -> tuple[np.ndarray, np.ndarray]:
    """Upload bytes -> (model input, ten probabilities)."""
    model_input = preprocess_image(data, settings.max_image_pixels, settings.max_photo_pixels)
    return model_input, predictor.predict(model_input)[0]


@bp.post("/predict")
def predict():
    started = time.perf_counter()
    data = uploaded_bytes()
    model_input, probs = off_the_event_loop(read_digit, data, current_app.extensions["settings"],
                                            current_app.extensions["predictor"])
    answer = postprocess(probs)
    # The model's-eye view costs as much as the model itself, so only callers that show
    # it (the page) ask for it: /predict?include=model_input.
    if "model_input" in request.args.get("include", "").split(","):
        answer["model_input"] = model_view_png(model_input)
    answer["ms"] = round((time.perf_counter() - started) * 1000, 2)
    request.environ["serve.digit"] = answer["digit"]  # for the access log and metrics
    return jsonify(answer)


@bp.get("/healthz")
def healthz():
    predictor = current_app.extensions["predictor"]
    meta = predictor.metadata
    return jsonify(
        status="ok",
        model={
            "path": str(predictor.model_path.name),
            "input": predictor.input_name,
            "output": predictor.output_name,
            "test_accuracy": meta.get("test_accuracy"),
            "opset": meta.get("opset"),
            "onnx_sha256": meta.get("onnx_sha256"),
            "exported_at": meta.get("exported_at"),
        },
        predictions=predictor.predictions,
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(current_app.extensions["settings"]))
