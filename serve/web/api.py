"""The JSON API: /predict, /healthz, /openapi.json."""

from __future__ import annotations

import base64
import dataclasses
import io
import time

import numpy as np
from flask import Blueprint, current_app, jsonify, request
from PIL import Image
from werkzeug.exceptions import BadRequest

from serve.core.contract import IS_DIGIT_NAME, OUTPUT_NAME
from serve.core.number import read_number
from serve.core.postprocess import postprocess
from serve.core.preprocess import preprocess_image
from serve.web.offload import off_the_event_loop
from serve.web.openapi import openapi_document
from serve.web.uploads import uploaded_bytes

bp = Blueprint("api", __name__)


def read_digit(data: bytes, settings, predictor) -> tuple[np.ndarray, dict]:
    """Upload bytes -> (model input, the answer)."""
    model_input = preprocess_image(data, settings.max_image_pixels, settings.max_photo_pixels)
    probs, is_digit = predictor.predict(model_input)
    return model_input, postprocess(probs[0], is_digit[0], predictor.thresholds)


def model_view_png(model_input: np.ndarray) -> str:
    """A 28x28 model input as a PNG data URL: what the model actually saw."""
    pixels = np.round(model_input.reshape(28, 28) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


READERS = {"digit": read_digit, "number": read_number}


@bp.post("/predict")
def predict():
    started = time.perf_counter()
    read = request.args.get("read", "digit")
    if read not in READERS:
        raise BadRequest(f"read must be 'digit' (the default) or 'number', not {read[:40]!r}")
    data = uploaded_bytes()
    model_input, answer = off_the_event_loop(
        READERS[read],
        data,
        current_app.extensions["settings"],
        current_app.extensions["predictor"],
    )
    # The model's-eye view costs as much as the model itself, so only callers that show
    # it (the page) ask for it: /predict?include=model_input.
    if "model_input" in request.args.get("include", "").split(","):
        if read == "number":
            for digit, view in zip(answer["digits"], model_input, strict=True):
                digit["model_input"] = model_view_png(view)
        else:
            answer["model_input"] = model_view_png(model_input)
    answer["ms"] = round((time.perf_counter() - started) * 1000, 2)
    if read == "digit":  # for the access log and metrics
        request.environ["serve.digit"] = answer["digit"]
        request.environ["serve.verdict"] = answer["verdict"]
    else:
        request.environ["serve.number"] = answer["number"]
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
    return jsonify(
        openapi_document(
            current_app.extensions["settings"], current_app.extensions["predictor"].thresholds
        )
    )
