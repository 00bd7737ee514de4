"""The JSON API: /predict, /healthz, /openapi.json."""

from __future__ import annotations

import base64
import dataclasses
import io
import time

import numpy as np
from flask import Blueprint, g, jsonify, request
from PIL import Image
from werkzeug.exceptions import BadRequest

from serve.core.contract import IS_DIGIT_NAME, OUTPUT_NAME
from serve.core.read import READS
from serve.web.context import get_reader, get_settings
from serve.web.offload import off_the_event_loop
from serve.web.openapi import openapi_document
from serve.web.uploads import uploaded_bytes

bp = Blueprint("api", __name__)


def model_view_png(model_input: np.ndarray) -> str:
    """A 28x28 model input as a PNG data URL: what the model actually saw."""
    pixels = np.round(model_input.reshape(28, 28) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@bp.post("/predict")
def predict():
    started = time.perf_counter()
    what = request.args.get("read", "digit")
    if what not in READS:
        raise BadRequest(f"read must be 'digit' (the default) or 'number', not {what[:40]!r}")
    reading = off_the_event_loop(get_reader().read, uploaded_bytes(), what)
    # The model's-eye view costs as much as the model itself, so only callers that show
    # it (the page) ask for it: /predict?include=model_input.
    if "model_input" in request.args.get("include", "").split(","):
        for digit, view in zip(reading.digits, reading.model_inputs, strict=True):
            digit["model_input"] = model_view_png(view)
    reading.answer["ms"] = round((time.perf_counter() - started) * 1000, 2)
    g.reading = reading  # for the access log and the metrics
    return jsonify(reading.answer)


@bp.get("/healthz")
def healthz():
    predictor = get_reader().predictor
    meta = predictor.metadata
    return jsonify(
        status="ok",
        model={
            "path": str(predictor.model_path.name),
            "input": predictor.input_name,
            "outputs": [OUTPUT_NAME, IS_DIGIT_NAME],
            "test_accuracy": meta.get("test_accuracy"),
            "opset": meta.get("opset"),
            "onnx_sha256": meta.get("onnx_sha256"),
            "exported_at": meta.get("exported_at"),
            "thresholds": dataclasses.asdict(predictor.thresholds),
        },
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document(get_settings(), get_reader().predictor.thresholds))
