"""The Open Inference Protocol (KServe v2 REST), spoken by the official Triton HTTP client
against the real server, and its errors through Flask's test client."""

import json

import numpy as np
import pytest

from serve.core.contract import to_model_input
from serve.core.predictor import Predictor
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
    given.set_data_from_numpy(batch, binary_data=False)
    probs = triton.infer("mnist", [given]).as_numpy("probs")
    assert probs.shape == (5, 10)


@pytest.mark.parametrize("raw", [b"[" * 100_000, b"\xff\xfe\x00", b"", b"{", b"1e999"])
def test_bodies_that_are_not_json_get_a_400_not_a_500(client, raw):
    response = client.post("/v2/models/mnist/infer", data=raw)
    assert response.status_code == 400 and response.get_json()["error"]
