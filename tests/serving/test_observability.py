"""One JSON access-log line per request, request ids, and /metrics counting real requests."""

import json
import logging
import re

import pytest

from support.drawings import ROOT
from support.server import post_image


@pytest.fixture
def access_lines():
    lines = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Collect()
    logger = logging.getLogger("serve.access")
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)


def test_each_request_logs_one_json_line(client, seven_png, access_lines):
    response = post_image(client, seven_png)
    client.get("/nowhere")
    assert len(access_lines) == 2
    first, second = (json.loads(line) for line in access_lines)
    assert first["path"] == "/predict" and first["status"] == 200 and first["digit"] == 7
    assert first["latency_ms"] > 0 and first["request_id"] == response.headers["X-Request-ID"]
    assert second["status"] == 404 and second["digit"] is None


def test_a_callers_request_id_is_kept(client, access_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-1234"})
    assert response.headers["X-Request-ID"] == "lb-1234"
    assert json.loads(access_lines[-1])["request_id"] == "lb-1234"


def metric(client, pattern):
    text = client.get("/metrics").get_data(as_text=True)
    found = re.search(pattern + r" ([\d.e+]+)", text)
    return float(found.group(1)) if found else 0.0


def test_metrics_count_the_requests_made(client, seven_png):
    sevens = r'digit_predictions_total\{digit="7"\}'
    ok = r'digit_http_requests_total\{endpoint="/predict",method="POST",status="200"\}'
    bad = r'digit_http_requests_total\{endpoint="/predict",method="POST",status="415"\}'
    before = [metric(client, p) for p in (sevens, ok, bad)]
    for _ in range(3):
        post_image(client, seven_png)
    post_image(client, b"junk")
    after = [metric(client, p) for p in (sevens, ok, bad)]
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 3, 1]
    assert metric(client, r'digit_http_request_seconds_count\{endpoint="/predict"\}') >= 4


def test_the_pages_number_reading_is_counted_and_logged(client, access_lines):
    # The page asks for a number with what the model saw; samples/number.png is "42".
    data = (ROOT / "samples" / "number.png").read_bytes()
    counters = [
        r'digit_predictions_total\{digit="4"\}',
        r'digit_predictions_total\{digit="2"\}',
        r'digit_verdicts_total\{verdict="digit"\}',
    ]
    before = [metric(client, p) for p in counters]
    response = post_image(client, data, path="/predict?read=number&include=model_input")
    after = [metric(client, p) for p in counters]
    assert response.status_code == 200 and response.get_json()["number"] == "42"
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    (logged,) = [json.loads(line) for line in access_lines if '"/predict"' in line]
    assert logged["number"] == "42" and logged["digits"] == [4, 2]
    assert logged["verdict"] == "digit" and logged["digit"] is None
