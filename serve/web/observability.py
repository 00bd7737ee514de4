"""One JSON access-log line per request, and Prometheus metrics at /metrics.

With several gunicorn workers each process counts for itself; prometheus_client's
multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set by serve/gunicorn_conf.py) adds them up
when /metrics is scraped, whichever worker answers.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "digit_http_requests_total",
    "HTTP requests by endpoint and status",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "digit_http_request_seconds",
    "Request latency by endpoint",
    ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
PREDICTIONS = Counter(
    "digit_predictions_total",
    "Digits read, by digit: one per digit a request read (each digit of a number), "
    "except those answered not_a_digit",
    ["digit"],
)
VERDICTS = Counter(
    "digit_verdicts_total",
    "Readings by verdict: one per request that read a digit or a number, by its answer's verdict",
    ["verdict"],
)

access_log = logging.getLogger("serve.access")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def configure_logging(level: str) -> None:
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.propagate = False
    access_log.setLevel(level)


def metrics_registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def read_digits(reading) -> list[int]:
    """The digits a reading found, left to right: the one digit, or each digit of a number.
    A part answered not_a_digit is no digit read, whatever the model's likeliest class."""
    if reading is None:
        return []
    return [d["digit"] for d in reading.digits if d.get("verdict") != "not_a_digit"]


def register(app: Flask, log_level: str) -> None:
    configure_logging(log_level)

    @app.before_request
    def start_timer():
        g.started = time.perf_counter()
        # Keep a caller's id (from a load balancer) so logs can be joined across hops,
        # when it is a plausible id: it is echoed in a header and written to the log.
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def record(response):
        latency = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        # What /predict read (serve/web/api.py): one digit, or a number and its digits.
        reading = g.get("reading")
        answer = reading.answer if reading else {}
        digits = read_digits(reading)
        REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        LATENCY.labels(endpoint).observe(latency)
        for digit in digits:
            PREDICTIONS.labels(str(digit)).inc()
        if answer.get("verdict") is not None:
            VERDICTS.labels(answer["verdict"]).inc()
        response.headers["X-Request-ID"] = g.get("request_id", "")
        access_log.info(
            json.dumps(
                {
                    "ts": round(time.time(), 3),
                    "request_id": g.get("request_id"),
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "latency_ms": round(latency * 1000, 2),
                    "digit": answer.get("digit"),
                    "number": answer.get("number"),
                    "digits": digits,
                    "verdict": answer.get("verdict"),
                    "remote": request.remote_addr,
                }
            )
        )
        return response

    @app.get("/metrics")
    def metrics():
        return Response(generate_latest(metrics_registry()), mimetype=CONTENT_TYPE_LATEST)
