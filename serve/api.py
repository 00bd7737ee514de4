"""The JSON API: /predict, /healthz, /openapi.json."""

from __future__ import annotations

import base64
import io
import time

import numpy as np
from flask import Blueprint, current_app, jsonify, request
from PIL import Image

from serve.openapi import openapi_document
from serve.postprocess import postprocess
from serve.preprocess import PreprocessError, preprocess_image

bp = Blueprint("api", __name__)

UPLOAD_FIELDS = ("image", "file")


def uploaded_bytes() -> bytes:
    """The image from multipart field 'image' (or 'file'), or a raw image/* body."""
    for field in UPLOAD_FIELDS:
        upload = request.files.get(field)
        if upload is not None:
            return upload.read()
    if request.mimetype.startswith("image/"):
        return request.get_data()
    raise PreprocessError("no image: send it as multipart/form-data in the field 'image'")


def model_view_png(model_input: np.ndarray) -> str:
    """The 28x28 model input as a PNG data URL: what the model actually saw."""
    pixels = np.round(model_input[0, :, :, 0] * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@bp.post("/predict")
def predict():
    started = time.perf_counter()
    data = uploaded_bytes()
    model_input = preprocess_image(data, current_app.config["MAX_IMAGE_PIXELS"])
    probs = current_app.extensions["predictor"].predict(model_input)[0]
    answer = postprocess(probs)
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
    return jsonify(openapi_document(current_app.config))
