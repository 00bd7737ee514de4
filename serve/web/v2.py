"""The Open Inference Protocol (KServe v2, REST), beside the product's own API.

Inference tooling that speaks it (KServe, Triton's clients, MLServer's) can use the model
directly: the server's and the model's metadata (the model's taken from the ONNX file
itself), health, readiness, and inference on a batch of model inputs (a large batch in
parts on all of the worker's CPU threads at once). Tensors travel as JSON (row-major
"data") or, in the binary tensor data extension that tritonclient uses by default, as raw
little-endian bytes after a JSON header whose length the Inference-Header-Content-Length
header gives. The model has one version, "1", reachable with or without /versions/1.
Errors are the protocol's {"error": "..."} with a 4xx status.
"""

from __future__ import annotations

import json
import math

import numpy as np
from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from serve.core.contract import INPUT_SHAPE, IS_DIGIT_NAME, OUTPUT_NAME, OUTPUT_SHAPES
from serve.web.context import get_reader, get_settings
from serve.web.offload import predict_off_the_event_loop
from serve.web.openapi import DOCUMENT

MODEL = "mnist"
VERSION = "1"
EXTENSIONS = ["binary_tensor_data"]
HEADER_LENGTH = "Inference-Header-Content-Length"
FP32 = np.dtype("<f4")  # binary tensors are little-endian, whatever the machine
IMAGE_NUMBERS = math.prod(INPUT_SHAPE[1:])  # 784: one 28x28x1 image
IMAGE_BYTES = IMAGE_NUMBERS * FP32.itemsize  # 3,136
# For the largest batch the 413 names: the JSON around the tensors (names, shapes,
# parameters) stays under ENVELOPE_BYTES, and a number in [0, 1] as JSON writes a float32
# ("0.00012345678901234567, ") takes at most JSON_NUMBER_BYTES.
ENVELOPE_BYTES = 1024
JSON_NUMBER_BYTES = 24

bp = Blueprint("v2", __name__, url_prefix="/v2")


class ProtocolError(ValueError):
    """A request the protocol refuses: answered 400 with {"error": ...}."""


def tensor(name: str, shape) -> dict:
    return {"name": name, "datatype": "FP32", "shape": [-1 if d is None else d for d in shape]}


@bp.errorhandler(ProtocolError)
def protocol_error(error: ProtocolError):
    return jsonify(error=str(error)), 400


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """The upload limit's 413, with the largest batch that fits it: a client that splits
    its batches needs that number, not the byte count."""
    limit = get_settings().max_upload_bytes
    room = max(0, limit - ENVELOPE_BYTES)
    binary = room // IMAGE_BYTES
    in_json = room // (IMAGE_NUMBERS * JSON_NUMBER_BYTES)
    message = (
        f"the request is larger than the limit of {limit:,} bytes: the largest batch is "
        f"{binary:,} images as binary tensors ({IMAGE_BYTES:,} bytes each, plus the JSON "
        f"header), {in_json:,} in JSON (where a number takes up to {JSON_NUMBER_BYTES} bytes)"
    )
    return jsonify(error=message), 413


@bp.get("")
def server_metadata():
    return jsonify(
        name=DOCUMENT["info"]["title"], version=DOCUMENT["info"]["version"], extensions=EXTENSIONS
    )


@bp.get("/health/live")
def live():
    return jsonify(live=True)


@bp.get("/health/ready")
def ready():
    return jsonify(ready=True)  # the model is loaded before the app serves anything


@bp.get(f"/models/{MODEL}")
@bp.get(f"/models/{MODEL}/versions/<version>")
def metadata(version=VERSION):
    known_version(version)
    return jsonify(
        name=MODEL,
        versions=[VERSION],
        platform="onnxruntime_onnx",
        inputs=[tensor(get_reader().predictor.input_name, INPUT_SHAPE)],
        outputs=[tensor(name, shape) for name, shape in OUTPUT_SHAPES.items()],
    )


@bp.get(f"/models/{MODEL}/ready")
@bp.get(f"/models/{MODEL}/versions/<version>/ready")
def model_ready(version=VERSION):
    known_version(version)
    return jsonify(name=MODEL, ready=True)


@bp.post(f"/models/{MODEL}/infer")
@bp.post(f"/models/{MODEL}/versions/<version>/infer")
def infer(version=VERSION):
    known_version(version)
    body, tensors = request_parts()
    batch = input_batch(body, tensors)
    wanted = requested_outputs(body)
    probs, is_digit = predict_off_the_event_loop(get_reader().predictor.predict, batch)
    values = {OUTPUT_NAME: probs, IS_DIGIT_NAME: is_digit}
    outputs, raw = [], []
    for name, binary in wanted:
        output = {"name": name, "datatype": "FP32", "shape": list(values[name].shape)}
        if binary:
            raw.append(values[name].astype(FP32).tobytes())
            output["parameters"] = {"binary_data_size": len(raw[-1])}
        else:
            output["data"] = values[name].ravel().tolist()
        outputs.append(output)
    answer = {"model_name": MODEL, "model_version": VERSION, "outputs": outputs}
    if isinstance(body.get("id"), str):
        answer["id"] = body["id"]
    if not any(binary for _, binary in wanted):
        return jsonify(answer)
    header = json.dumps(answer, separators=(",", ":")).encode()
    response = Response(header + b"".join(raw), mimetype="application/octet-stream")
    response.headers[HEADER_LENGTH] = str(len(header))
    return response


def known_version(version: str) -> None:
    if version != VERSION:
        raise NotFound(
            f"model '{MODEL}' has no version {version!r}: its one version is {VERSION!r}"
        )


def request_parts():
    """The JSON header, and the bytes after it when Inference-Header-Content-Length says
    where it ends (None without that header: the whole body is JSON)."""
    data = request.get_data()
    length = request.headers.get(HEADER_LENGTH)
    if length is None:
        return parsed(data, f" (binary tensors after it need the {HEADER_LENGTH} header)"), None
    if not (length.isascii() and length.isdigit() and int(length) <= len(data)):
        raise ProtocolError(
            f"{HEADER_LENGTH} must be the JSON header's length in bytes, at most the body's "
            f"{len(data):,}, not {length!r}"
        )
    return parsed(data[: int(length)]), data[int(length) :]


def parsed(data: bytes, hint: str = ""):
    """JSON, whatever the Content-Type (clients differ), or ProtocolError. A pathologically
    nested body exhausts the parser's recursion: that is a bad request too."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise ProtocolError("the body is not valid JSON" + hint) from None


def input_batch(body, tensors: bytes | None) -> np.ndarray:
    """The request's one input as float32 [N, 28, 28, 1], from its JSON "data" or from the
    binary tensors after the header, or ProtocolError."""
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
    size = parameters(given).get("binary_data_size")
    if size is not None:
        data = binary_input(given, shape, size, tensors)
    elif tensors:
        raise ProtocolError(
            f"the body holds {len(tensors):,} bytes after the JSON header, but input "
            f"'{expected}' has no parameters.binary_data_size"
        )
    else:
        data = json_input(given, shape)
    if not np.isfinite(data).all():
        raise ProtocolError(f"input '{expected}' must hold finite numbers")
    return data.reshape(shape)


def json_input(given: dict, shape: list) -> np.ndarray:
    try:
        data = np.asarray(given.get("data"), dtype=np.float32).ravel()
    except (TypeError, ValueError):
        raise ProtocolError("'data' must hold numbers") from None
    if data.size != math.prod(shape):
        raise ProtocolError(
            f"'data' holds {data.size} numbers; shape {shape} needs {math.prod(shape)}"
        )
    return data


def binary_input(given: dict, shape: list, size, tensors: bytes | None) -> np.ndarray:
    """The input's raw bytes, once the declared size, the shape's and the bytes actually
    sent agree. With one input, its bytes are all those after the header."""
    name, needed = given["name"], math.prod(shape) * FP32.itemsize
    if tensors is None:
        raise ProtocolError(
            f"input '{name}' has parameters.binary_data_size, so the request needs the "
            f"{HEADER_LENGTH} header"
        )
    if "data" in given:
        raise ProtocolError(f"input '{name}' has both 'data' and parameters.binary_data_size")
    if not isinstance(size, int) or isinstance(size, bool):
        raise ProtocolError(f"binary_data_size must be a whole number of bytes, not {size!r}")
    if size != needed:
        raise ProtocolError(
            f"input '{name}' declares binary_data_size {size:,}; FP32 shape {shape} is "
            f"{needed:,} bytes"
        )
    if len(tensors) != size:
        raise ProtocolError(
            f"the body holds {len(tensors):,} bytes after the JSON header; input '{name}' "
            f"declares {size:,}"
        )
    return np.frombuffer(tensors, FP32).astype(np.float32, copy=False)


def requested_outputs(body: dict) -> list[tuple[str, bool]]:
    """The outputs asked for (all when none are named), each with whether it goes back in
    binary: its own parameters.binary_data, else the request's binary_data_output (what
    tritonclient sets when it names no outputs), else JSON. Or ProtocolError."""
    default = flag(parameters(body), "binary_data_output", False)
    asked = body.get("outputs")
    if asked is None:
        return [(name, default) for name in OUTPUT_SHAPES]
    if not isinstance(asked, list) or not all(isinstance(o, dict) for o in asked):
        raise ProtocolError("'outputs' must be a list of {\"name\": ...}")
    names = [o.get("name") for o in asked]
    unknown = [n for n in names if n not in OUTPUT_SHAPES]
    if unknown:
        raise ProtocolError(
            f"unknown output {unknown[0]!r}: the model's are {', '.join(OUTPUT_SHAPES)}"
        )
    return [(o["name"], flag(parameters(o), "binary_data", default)) for o in asked]


def parameters(node: dict) -> dict:
    found = node.get("parameters", {})
    if not isinstance(found, dict):
        raise ProtocolError("'parameters' must be a JSON object")
    return found


def flag(found: dict, key: str, default: bool) -> bool:
    value = found.get(key, default)
    if not isinstance(value, bool):
        raise ProtocolError(f"parameter '{key}' must be true or false, not {value!r}")
    return value
