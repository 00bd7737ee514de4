"""The JSON API: /predict, /healthz, /openapi.json."""

from __future__ import annotations

import base64
import io
import time

import numpy as np
import python_multipart
from flask import Blueprint, current_app, jsonify, request
from PIL import Image

from serve.openapi import openapi_document
from serve.postprocess import postprocess
from serve.preprocess import PreprocessError, preprocess_image

bp = Blueprint("api", __name__)

UPLOAD_FIELDS = ("image", "file")


def multipart_files() -> dict:
    """The files of a multipart/form-data body, by field name, parsed with python-multipart.

    Werkzeug's own form parser compiles two regular expressions for every new boundary,
    and browsers send a new boundary with every request: about half a millisecond, more
    than the model takes. python-multipart streams the body without that cost.
    """
    files = {}

    def on_file(upload):
        files[upload.field_name.decode("latin-1")] = upload

    headers = {"Content-Type": request.headers.get("Content-Type", "").encode("latin-1"),
               "Content-Length": str(request.content_length or "").encode("latin-1")}
    limit = current_app.config["MAX_CONTENT_LENGTH"] or 2**31
    try:
        parser = python_multipart.create_form_parser(
            headers, on_field=lambda field: None, on_file=on_file,
            config={"MAX_MEMORY_FILE_SIZE": limit})  # never spill to disk
        for chunk in iter(lambda: request.stream.read(65536), b""):
            parser.write(chunk)
        parser.finalize()
    except (python_multipart.exceptions.FormParserError, ValueError) as error:
        raise PreprocessError(f"the multipart body could not be parsed: {error}") from None
    return files


def uploaded_bytes() -> bytes:
    """The image from multipart field 'image' (or 'file'), or a raw image/* body."""
    if request.mimetype == "multipart/form-data":
        files = multipart_files()
        for field in UPLOAD_FIELDS:
            if field in files:
                upload = files[field].file_object
                upload.seek(0)
                return upload.read()
    elif request.mimetype.startswith("image/"):
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
    return jsonify(openapi_document(current_app.config))
