"""The Open Inference Protocol (KServe v2, REST), beside the product's own API.

Inference tooling that speaks it (KServe, Triton's clients, MLServer's) can use the model
directly: health, readiness, the model's metadata taken from the ONNX file itself, and
inference on a batch of model inputs through one onnxruntime run. Tensors travel as JSON
(row-major "data"); the binary-data extension is not offered. Errors are the protocol's
{"error": "..."} with a 4xx status.
"""

from __future__ import annotations

import json
import math

import numpy as np
from flask import Blueprint, jsonify, request

from serve.core.contract import INPUT_SHAPE, IS_DIGIT_NAME, OUTPUT_NAME, OUTPUT_SHAPES
from serve.web.context import get_reader
from serve.web.offload import off_the_event_loop

MODEL = "mnist"
bp = Blueprint("v2", __name__, url_prefix="/v2")


class ProtocolError(ValueError):
    """A request the protocol refuses: answered 400 with {"error": ...}."""


def tensor(name: str, shape) -> dict:
    return {"name": name, "datatype": "FP32", "shape": [-1 if d is None else d for d in shape]}


@bp.errorhandler(ProtocolError)
def protocol_error(error: ProtocolError):
    return jsonify(error=str(error)), 400


@bp.get("/health/live")
def live():
    return jsonify(live=True)


@bp.get("/health/ready")
def ready():
    return jsonify(ready=True)  # the model is loaded before the app serves anything


@bp.get(f"/models/{MODEL}")
def metadata():
    return jsonify(
        name=MODEL,
        versions=["1"],
        platform="onnxruntime_onnx",
        inputs=[tensor(get_reader().predictor.input_name, INPUT_SHAPE)],
        outputs=[tensor(name, shape) for name, shape in OUTPUT_SHAPES.items()],
    )


@bp.get(f"/models/{MODEL}/ready")
def model_ready():
    return jsonify(name=MODEL, ready=True)


@bp.post(f"/models/{MODEL}/infer")
def infer():
    body = request_body()
    batch = input_batch(body)
    wanted = requested_outputs(body)
    probs, is_digit = off_the_event_loop(get_reader().predictor.predict, batch)
    values = {OUTPUT_NAME: probs, IS_DIGIT_NAME: is_digit}
    answer = {
        "model_name": MODEL,
        "model_version": "1",
        "outputs": [
            {
                "name": name,
                "datatype": "FP32",
                "shape": list(values[name].shape),
                "data": values[name].ravel().tolist(),
            }
            for name in wanted
        ],
    }
    if isinstance(body.get("id"), str):
        answer["id"] = body["id"]
    return jsonify(answer)


def request_body():
    """The JSON body, whatever its Content-Type (clients differ), or ProtocolError. A
    pathologically nested body exhausts the parser's recursion: that is a bad request too."""
    try:
        return json.loads(request.get_data())
    except (ValueError, RecursionError):
        raise ProtocolError("the body is not valid JSON") from None


def input_batch(body) -> np.ndarray:
    """The request's one input as float32 [N, 28, 28, 1], or ProtocolError."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise ProtocolError("the body must be a JSON object with an 'inputs' list")
    expected = get_reader().predictor.input_name
    if len(body["inputs"]) != 1 or not isinstance(body["inputs"][0], dict):
        raise ProtocolError(f"the model takes one input, '{expected}'")
    given = body["inputs"][0]
    if given.get("name") != expected:
        raise ProtocolError(f"unknown input {given.get('name')!r}: the model's is '{expected}'")
    if given.get("datatype") != "FP32":
        raise ProtocolError(f"input '{expected}' is FP32, not {given.get('datatype')!r}")
    shape = given.get("shape")
    if (
        not isinstance(shape, list)
        or len(shape) != len(INPUT_SHAPE)
        or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape)
        or shape[0] < 1
        or shape[1:] != list(INPUT_SHAPE[1:])
    ):
        raise ProtocolError(f"input shape must be [N, 28, 28, 1] with N >= 1, not {shape!r}")
    try:
        data = np.asarray(given.get("data"), dtype=np.float32).ravel()
    except (TypeError, ValueError):
        raise ProtocolError("'data' must hold numbers") from None
    if data.size != math.prod(shape):
        raise ProtocolError(
            f"'data' holds {data.size} numbers; shape {shape} needs {math.prod(shape)}"
        )
    if not np.isfinite(data).all():
        raise ProtocolError("'data' must hold finite numbers")
    return data.reshape(shape)


def requested_outputs(body) -> list[str]:
    """The names of the outputs asked for (all when none are named), or ProtocolError."""
    asked = body.get("outputs")
    if asked is None:
        return list(OUTPUT_SHAPES)
    if not isinstance(asked, list) or not all(isinstance(o, dict) for o in asked):
        raise ProtocolError("'outputs' must be a list of {\"name\": ...}")
    names = [o.get("name") for o in asked]
    unknown = [n for n in names if n not in OUTPUT_SHAPES]
    if unknown:
        raise ProtocolError(
            f"unknown output {unknown[0]!r}: the model's are {', '.join(OUTPUT_SHAPES)}"
        )
    return names
