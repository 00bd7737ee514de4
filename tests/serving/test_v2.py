"""The Open Inference Protocol (KServe v2 REST), spoken by the official Triton HTTP client
against the real server, and its errors through Flask's test client."""

import json
import re

import numpy as np
import pytest

from serve.core.contract import to_model_input
from serve.core.predictor import Predictor
from serve.web.v2 import HEADER_LENGTH, IMAGE_BYTES
from support.drawings import SHIPPED_MODEL, mnist_sample
from support.server import running_server

httpclient = pytest.importorskip("tritonclient.http")


@pytest.fixture(scope="module")
def triton():
    with running_server(WORKERS=1) as server:
        yield httpclient.InferenceServerClient(url=f"127.0.0.1:{server.port}")


def test_health_readiness_and_metadata_describe_the_real_model(triton):
    assert triton.is_server_live() and triton.is_server_ready()
    assert triton.is_model_ready("mnist")
    meta = triton.get_model_metadata("mnist")
    assert meta["name"] == "mnist"
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 28, 28, 1]}]
    outputs = {o["name"]: o for o in meta["outputs"]}
    assert outputs["probs"] == {"name": "probs", "datatype": "FP32", "shape": [-1, 10]}
    assert outputs["is_digit"]["shape"] == [-1]


@pytest.mark.parametrize("batch", [1, 64])
def test_inference_agrees_with_the_onnx_model_run_directly(triton, batch):
    images, labels = mnist_sample()
    x = to_model_input(images[:batch])
    given = httpclient.InferInput("input", list(x.shape), "FP32")
    given.set_data_from_numpy(x, binary_data=False)
    wanted = [
        httpclient.InferRequestedOutput(name, binary_data=False) for name in ("probs", "is_digit")
    ]
    result = triton.infer("mnist", [given], outputs=wanted)
    probs, is_digit = result.as_numpy("probs"), result.as_numpy("is_digit")
    expected_probs, expected_is_digit = Predictor(SHIPPED_MODEL).predict(x)
    assert probs.shape == (batch, 10) and is_digit.shape == (batch,)
    np.testing.assert_allclose(probs, expected_probs, atol=1e-6)
    np.testing.assert_allclose(is_digit, expected_is_digit, atol=1e-6)
    assert np.mean(probs.argmax(axis=1) == labels[:batch]) >= 0.98


def test_one_output_can_be_asked_for(triton):
    x = to_model_input(mnist_sample()[0][:3])
    given = httpclient.InferInput("input", list(x.shape), "FP32")
    given.set_data_from_numpy(x, binary_data=False)
    result = triton.infer(
        "mnist", [given], outputs=[httpclient.InferRequestedOutput("is_digit", binary_data=False)]
    )
    assert result.as_numpy("probs") is None and result.as_numpy("is_digit").shape == (3,)


def infer(client, body) -> tuple[int, dict]:
    response = client.post("/v2/models/mnist/infer", data=json.dumps(body))
    return response.status_code, response.get_json()


def request_for(shape, data=None, **changes) -> dict:
    size = int(np.prod(shape))
    given = {"name": "input", "datatype": "FP32", "shape": shape, "data": data or [0.5] * size}
    return {"inputs": [{**given, **changes}]}


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"inputs": "no"},
        {"inputs": []},
        request_for([1, 28, 28, 1], name="image"),
        request_for([1, 28, 28, 1], datatype="INT8"),
        request_for([1, 28, 28]),
        request_for([0, 28, 28, 1]),
        request_for([1, 28, 28, 1], data=[0.5] * 10),
        request_for([1, 28, 28, 1], data=["a"] * 784),
        {
            "inputs": [
                {
                    "name": "input",
                    "datatype": "FP32",
                    "shape": [1, 28, 28, True],
                    "data": [0.5] * 784,
                }
            ]
        },
        {**request_for([1, 28, 28, 1]), "outputs": [{"name": "logits"}]},
        {**request_for([1, 28, 28, 1]), "outputs": "probs"},
    ],
)
def test_malformed_requests_get_the_protocols_error(client, body):
    status, answer = infer(client, body)
    assert status == 400 and isinstance(answer["error"], str) and answer["error"]


def test_not_a_number_is_refused(client):
    body = request_for([1, 28, 28, 1])
    text = json.dumps(body).replace("0.5", "NaN", 1)
    response = client.post("/v2/models/mnist/infer", data=text)
    assert response.status_code == 400


def test_the_request_id_comes_back(client):
    status, answer = infer(client, {**request_for([2, 28, 28, 1]), "id": "abc"})
    assert status == 200 and answer["id"] == "abc" and answer["outputs"][0]["shape"] == [2, 10]


def test_the_readme_example_works_with_the_clients_defaults(triton):
    batch = to_model_input(mnist_sample()[0][:5])
    given = httpclient.InferInput("input", [5, 28, 28, 1], "FP32")
    given.set_data_from_numpy(batch)
    probs = triton.infer("mnist", [given]).as_numpy("probs")
    assert probs.shape == (5, 10)


def test_json_inputs_with_the_clients_default_outputs_work(triton):
    batch = to_model_input(mnist_sample()[0][:5])
    given = httpclient.InferInput("input", [5, 28, 28, 1], "FP32")
    given.set_data_from_numpy(batch, binary_data=False)
    probs = triton.infer("mnist", [given]).as_numpy("probs")
    assert probs.shape == (5, 10)


@pytest.mark.parametrize("raw", [b"[" * 100_000, b"\xff\xfe\x00", b"", b"{", b"1e999"])
def test_bodies_that_are_not_json_get_a_400_not_a_500(client, raw):
    response = client.post("/v2/models/mnist/infer", data=raw)
    assert response.status_code == 400 and response.get_json()["error"]


# The binary tensor data extension: tritonclient's defaults send the input and ask for the
# outputs as raw little-endian bytes after a JSON header.


def test_the_clients_defaults_binary_in_and_out_agree_with_the_onnx_model(triton):
    images, labels = mnist_sample()
    x = to_model_input(images[:1000])
    given = httpclient.InferInput("input", list(x.shape), "FP32")
    given.set_data_from_numpy(x)
    result = triton.infer("mnist", [given])
    expected_probs, expected_is_digit = Predictor(SHIPPED_MODEL).predict(x)
    np.testing.assert_allclose(result.as_numpy("probs"), expected_probs, atol=1e-6)
    np.testing.assert_allclose(result.as_numpy("is_digit"), expected_is_digit, atol=1e-6)
    assert np.mean(result.as_numpy("probs").argmax(axis=1) == labels[:1000]) >= 0.98
    probs = result.get_output("probs")
    assert "data" not in probs and probs["parameters"]["binary_data_size"] == 1000 * 10 * 4


@pytest.mark.parametrize("binary_input", [True, False])
def test_json_and_binary_tensors_mix(triton, binary_input):
    x = to_model_input(mnist_sample()[0][:7])
    given = httpclient.InferInput("input", list(x.shape), "FP32")
    given.set_data_from_numpy(x, binary_data=binary_input)
    wanted = [
        httpclient.InferRequestedOutput("probs", binary_data=False),
        httpclient.InferRequestedOutput("is_digit"),  # binary, the client's default
    ]
    result = triton.infer("mnist", [given], outputs=wanted)
    expected_probs, expected_is_digit = Predictor(SHIPPED_MODEL).predict(x)
    np.testing.assert_allclose(result.as_numpy("probs"), expected_probs, atol=1e-6)
    np.testing.assert_allclose(result.as_numpy("is_digit"), expected_is_digit, atol=1e-6)
    assert "data" in result.get_output("probs") and "data" not in result.get_output("is_digit")


ONE_IMAGE = np.full(784, 0.5, "<f4").tobytes()


def binary_input(batch=1, size=None, **changes) -> dict:
    declared = batch * IMAGE_BYTES if size is None else size
    given = {
        "name": "input",
        "datatype": "FP32",
        "shape": [batch, 28, 28, 1],
        "parameters": {"binary_data_size": declared},
    }
    return {"inputs": [{**given, **changes}]}


def post_binary(client, header, tensors: bytes, length=None, path="/v2/models/mnist/infer"):
    """The JSON header then the raw tensors, with the header's length (or ``length``)."""
    head = json.dumps(header).encode()
    length = len(head) if length is None else length
    return client.post(path, data=head + tensors, headers={HEADER_LENGTH: str(length)})


def test_a_binary_answer_is_the_json_header_then_the_raw_tensors(client):
    asked = {
        **binary_input(2),
        "outputs": [{"name": "probs", "parameters": {"binary_data": True}}, {"name": "is_digit"}],
    }
    response = post_binary(client, asked, ONE_IMAGE * 2)
    assert response.status_code == 200 and response.mimetype == "application/octet-stream"
    length = int(response.headers[HEADER_LENGTH])
    header, raw = json.loads(response.data[:length]), response.data[length:]
    probs, is_digit = header["outputs"]
    assert probs["parameters"] == {"binary_data_size": 2 * 10 * 4} and "data" not in probs
    assert "parameters" not in is_digit and len(is_digit["data"]) == 2  # JSON unless asked
    assert np.frombuffer(raw, "<f4").reshape(2, 10).sum(axis=1) == pytest.approx(1, abs=1e-5)


def test_binary_data_output_sends_every_output_not_asked_otherwise_in_binary(client):
    asked = {
        **binary_input(1),
        "parameters": {"binary_data_output": True},
        "outputs": [{"name": "probs"}, {"name": "is_digit", "parameters": {"binary_data": False}}],
    }
    response = post_binary(client, asked, ONE_IMAGE)
    header = json.loads(response.data[: int(response.headers[HEADER_LENGTH])])
    probs, is_digit = header["outputs"]
    assert probs["parameters"]["binary_data_size"] == 40 and "data" in is_digit
    assert len(response.data) == int(response.headers[HEADER_LENGTH]) + 40


def test_json_requests_get_json_answers_without_the_header(client):
    response = client.post("/v2/models/mnist/infer", data=json.dumps(request_for([1, 28, 28, 1])))
    assert response.mimetype == "application/json" and HEADER_LENGTH not in response.headers


@pytest.mark.parametrize(
    ("header", "tensors", "length"),
    [
        (binary_input(size=IMAGE_BYTES - 4), ONE_IMAGE[:-4], None),  # not the shape's size
        (binary_input(), ONE_IMAGE[:-4], None),  # fewer bytes than declared
        (binary_input(), ONE_IMAGE + bytes(4), None),  # more
        (binary_input(size=str(IMAGE_BYTES)), ONE_IMAGE, None),
        (binary_input(size=True), ONE_IMAGE, None),
        (binary_input(data=[0.5] * 784), ONE_IMAGE, None),  # both
        (request_for([1, 28, 28, 1]), ONE_IMAGE, None),  # bytes no input declares
        (binary_input(datatype="INT8"), ONE_IMAGE, None),
        (binary_input(), np.full(784, np.nan, "<f4").tobytes(), None),
        (binary_input(), ONE_IMAGE, "12x"),
        (binary_input(), ONE_IMAGE, "-1"),
        (binary_input(), ONE_IMAGE, 10**9),  # a header longer than the body
        (binary_input(), ONE_IMAGE, 10),  # a header cut short: not JSON
        ({**binary_input(), "parameters": [1]}, ONE_IMAGE, None),
        ({**binary_input(), "parameters": {"binary_data_output": "yes"}}, ONE_IMAGE, None),
        (
            {**binary_input(), "outputs": [{"name": "probs", "parameters": {"binary_data": 1}}]},
            ONE_IMAGE,
            None,
        ),
    ],
)
def test_bad_binary_requests_get_the_protocols_error(client, header, tensors, length):
    response = post_binary(client, header, tensors, length)
    assert response.status_code == 400 and response.get_json()["error"]


def test_a_size_mismatch_says_which_sizes_disagree(client):
    answer = post_binary(client, binary_input(2, size=IMAGE_BYTES), ONE_IMAGE).get_json()
    assert "3,136" in answer["error"] and "6,272" in answer["error"]
    answer = post_binary(client, binary_input(2), ONE_IMAGE).get_json()
    assert "3,136" in answer["error"] and "6,272" in answer["error"]


@pytest.mark.parametrize("tensors", [ONE_IMAGE, b""])
def test_binary_inputs_need_the_header_length(client, tensors):
    body = json.dumps(binary_input()).encode() + tensors
    response = client.post("/v2/models/mnist/infer", data=body)
    assert response.status_code == 400 and HEADER_LENGTH in response.get_json()["error"]


def test_the_413_names_the_largest_batch_and_that_batch_fits(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    tensors = bytes(limit)  # zeros: blank images
    too_large = post_binary(client, binary_input(limit // IMAGE_BYTES), tensors)
    assert too_large.status_code == 413
    message = too_large.get_json()["error"]
    numbers = re.search(r"largest batch is ([\d,]+) images .*\), ([\d,]+) in JSON", message)
    binary, in_json = (int(n.replace(",", "")) for n in numbers.groups())
    fits = post_binary(client, binary_input(binary), tensors[: binary * IMAGE_BYTES])
    assert fits.status_code == 200
    assert len(json.dumps(binary_input(binary)).encode()) + binary * IMAGE_BYTES <= limit
    # In JSON: 784 numbers an image, each as long as a float32 in [0, 1] gets, as
    # tritonclient writes it.
    longest = float(np.float32(0.00012345678901234567))
    data = [longest] * (in_json * 784)
    body = json.dumps(
        {"inputs": [{**request_for([in_json, 28, 28, 1])["inputs"][0], "data": data}]}
    )
    assert len(repr(longest)) == 22 and len(body) <= limit


def test_the_server_metadata_names_the_binary_extension(triton):
    meta = triton.get_server_metadata()
    assert meta["name"] == "draw-a-digit" and meta["version"]
    assert "binary_tensor_data" in meta["extensions"]


def test_version_1_has_its_own_paths(triton):
    assert triton.is_model_ready("mnist", "1")
    assert triton.get_model_metadata("mnist", "1") == triton.get_model_metadata("mnist")
    x = to_model_input(mnist_sample()[0][:3])
    given = httpclient.InferInput("input", list(x.shape), "FP32")
    given.set_data_from_numpy(x)
    result = triton.infer("mnist", [given], model_version="1")
    assert result.get_response()["model_version"] == "1"
    np.testing.assert_allclose(
        result.as_numpy("probs"), Predictor(SHIPPED_MODEL).predict(x)[0], atol=1e-6
    )


@pytest.mark.parametrize("path", ["", "/ready", "/infer"])
def test_another_version_is_not_found(client, path):
    url = f"/v2/models/mnist/versions/2{path}"
    response = client.post(url, data="{}") if path == "/infer" else client.get(url)
    assert response.status_code == 404 and "version" in response.get_json()["error"]
