"""The HTTP API through Flask's test client, with the shipped models/mnist.onnx."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from serve.settings import Settings
from serve.web.app import create_app
from support.drawings import SHIPPED_MODEL, canvas_png, letter_a, one, scribble, seven, zero
from support.server import post_image


@pytest.mark.parametrize("draw, expected", [(seven, 7), (one, 1), (zero, 0)])
def test_predict_reads_a_drawn_digit(client, draw, expected):
    response = post_image(client, canvas_png(draw))
    assert response.status_code == 200
    body = response.get_json()
    assert body["digit"] == expected
    assert body["prob"] == body["probs"][expected] > 0.5
    assert len(body["probs"]) == 10 and sum(body["probs"]) == pytest.approx(1, abs=1e-4)
    assert body["digit"] == int(np.argmax(body["probs"]))
    assert body["verdict"] == "digit" and body["is_digit"] > 0.9


@pytest.mark.parametrize("draw", [scribble, letter_a])
def test_what_is_no_digit_is_said_to_be_none(client, draw):
    body = post_image(client, canvas_png(draw)).get_json()
    assert body["verdict"] == "not_a_digit" and body["is_digit"] < 0.5
    # The closest digit is still there, for whoever wants it.
    assert body["digit"] == int(np.argmax(body["probs"]))


def test_thresholds_from_settings_override_the_model(seven_png):
    doubtful = create_app(Settings(model_path=SHIPPED_MODEL, sure_from=1.0), TESTING=True)
    body = post_image(doubtful.test_client(), seven_png).get_json()
    assert body["verdict"] == "unsure" and body["digit"] == 7
    refusing = create_app(Settings(model_path=SHIPPED_MODEL, not_a_digit_below=1.0))
    assert post_image(refusing.test_client(), seven_png).get_json()["verdict"] == "not_a_digit"


def test_answer_has_plain_rounded_floats_and_top3(client, seven_png):
    body = post_image(client, seven_png).get_json()
    for p in body["probs"]:
        assert isinstance(p, float) and p == round(p, 6)
    top3 = body["top3"]
    assert [t["prob"] for t in top3] == sorted(body["probs"], reverse=True)[:3]
    assert all(body["probs"][t["digit"]] == t["prob"] for t in top3)
    assert len({t["digit"] for t in top3}) == 3
    assert body["top3"][0] == {"digit": body["digit"], "prob": body["prob"]}


def test_model_view_is_the_28x28_input_when_asked_for(client, seven_png):
    assert "model_input" not in post_image(client, seven_png).get_json()
    body = post_image(client, seven_png, path="/predict?include=model_input").get_json()
    header, data = body["model_input"].split(",", 1)
    assert header == "data:image/png;base64"
    view = Image.open(io.BytesIO(base64.b64decode(data)))
    assert view.size == (28, 28) and view.mode == "L"
    assert np.asarray(view).max() == 255 and np.asarray(view)[0].max() == 0


def test_field_file_and_raw_body_are_accepted(client, seven_png):
    assert post_image(client, seven_png, field="file").get_json()["digit"] == 7
    raw = client.post("/predict", data=seven_png, content_type="image/png")
    assert raw.get_json()["digit"] == 7


def test_healthz_reports_the_model(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["model"]["input"] == "input"
    assert body["model"]["outputs"] == ["probs", "is_digit"]
    thresholds = body["model"]["thresholds"]
    assert 0 < thresholds["not_a_digit_below"] < 1 and 0.5 <= thresholds["sure_from"] <= 1
    assert body["model"]["test_accuracy"] >= 0.99


def test_index_serves_the_page(client):
    response = client.get("/")
    assert response.status_code == 200 and b'data-testid="pad"' in response.data
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# --- bad input: a JSON error with a 4xx, and the server goes on serving ------------------


def assert_json_error(response, status):
    assert response.status_code == status
    assert response.is_json and response.get_json()["error"]
    assert b"Traceback" not in response.data


def test_no_file_is_400(client):
    assert_json_error(client.post("/predict", data={}), 400)
    assert_json_error(client.post("/predict", data={"other": "x"}), 400)


@pytest.mark.parametrize("data", [b"not an image", b"%PDF-1.4 ..."])
def test_not_an_image_is_415(client, data):
    assert_json_error(post_image(client, data), 415)


def test_empty_file_is_415(client):
    # Built by hand: Werkzeug's test client writes an empty part without its final CRLF.
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="image"; '
        b'filename="c.png"\r\nContent-Type: image/png\r\n\r\n\r\n--b0undary--\r\n'
    )
    response = client.post(
        "/predict", data=body, content_type="multipart/form-data; boundary=b0undary"
    )
    assert_json_error(response, 415)
    assert "empty" in response.get_json()["error"]


def test_malformed_multipart_is_400(client):
    assert_json_error(client.post("/predict", data=b"abc", content_type="multipart/form-data"), 400)


def test_truncated_image_is_415(client, seven_png):
    assert_json_error(post_image(client, seven_png[:300]), 415)


def test_blank_canvas_is_422_and_says_to_draw_first(client):
    response = post_image(client, canvas_png(lambda d, ink, width: None))
    assert_json_error(response, 422)
    assert "draw a digit" in response.get_json()["error"]


def test_body_over_the_limit_is_413():
    small = create_app(Settings(model_path=SHIPPED_MODEL, max_upload_bytes=10_000), TESTING=True)
    noise = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    assert_json_error(post_image(small.test_client(), buffer.getvalue()), 413)


def test_decompression_bomb_is_413(client):
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000), 1).save(buffer, format="PNG")
    assert_json_error(post_image(client, buffer.getvalue()), 413)


def test_wrong_method_is_405(client):
    assert_json_error(client.get("/predict"), 405)
    assert_json_error(client.put("/healthz"), 405)


def test_unknown_path_is_404_json(client):
    assert_json_error(client.get("/nowhere"), 404)


def test_server_keeps_serving_after_errors(client, seven_png):
    for bad in (b"", b"junk", seven_png[:100]):
        post_image(client, bad)
    assert post_image(client, seven_png).get_json()["digit"] == 7
