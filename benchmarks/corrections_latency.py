"""Latency of POST /corrections against POST /predict on one real gunicorn server.

    .venv-serve/bin/python -m benchmarks.corrections_latency [--requests 300] [--url URL]

Starts `make serve`'s gunicorn (serve/gunicorn_conf.py) on a free port with a new store
(an SQLite file in a temporary folder, or CORRECTIONS_URL=--url, e.g. a PostgreSQL
database), then sends the same canvases to both endpoints, interleaved on one keep-alive
connection so both meet the same conditions, and prints the median (p50) and p90 of each
and their ratio. A correction costs a decode (its check that the server can read the
image) and a committed, synced write; a prediction a decode and the model.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from support.drawings import mnist_sample, png_bytes, redraw
from support.server import multipart, running_server

WARM_UP = 20


def timed(connection, path: str, body: bytes, content_type: str) -> tuple[float, int]:
    started = time.perf_counter()
    connection.request("POST", path, body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    response.read()
    return time.perf_counter() - started, response.status


def latency(port: int, requests: int, canvases: list[bytes], labels: list[int]) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = {"predict": [], "corrections": []}
    for i in range(requests + WARM_UP):
        image, label = canvases[i % len(canvases)], str(labels[i % len(labels)])
        body, kind = multipart(image)
        p, status = timed(connection, "/predict", body, kind)
        assert status == 200, status
        body, kind = multipart(image, fields={"label": label, "reading": label})
        c, status = timed(connection, "/corrections", body, kind)
        assert status == 201, status
        if i >= WARM_UP:
            times["predict"].append(p)
            times["corrections"].append(c)
    return times


def ms(values, q) -> float:
    return float(np.percentile(values, q)) * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--url", help="CORRECTIONS_URL (default: a new SQLite file)")
    args = parser.parse_args(argv)

    images, labels = mnist_sample()
    rng = np.random.default_rng(0)
    canvases = [png_bytes(redraw(images[i], rng, "transparent")) for i in range(50)]
    with tempfile.TemporaryDirectory(prefix="digit-corrections-") as scratch:
        url = args.url or f"sqlite:///{Path(scratch) / 'corrections.db'}"
        with running_server(
            WORKERS=args.workers, CORRECTIONS_URL=url, CORRECTIONS_PER_MINUTE=0
        ) as server:
            times = latency(server.port, args.requests, canvases, list(labels[:50]))
    store = "PostgreSQL" if url.startswith("postgres") else "SQLite (WAL, synchronous=FULL)"
    p50, c50 = statistics.median(times["predict"]), statistics.median(times["corrections"])
    print(
        f"server: gunicorn, {args.workers} gevent workers; store: {store}; "
        f"{args.requests} requests each, interleaved, 280x280 canvas PNGs"
    )
    for name, values in (("/predict", times["predict"]), ("/corrections", times["corrections"])):
        print(f"POST {name:13} p50 {ms(values, 50):6.2f} ms   p90 {ms(values, 90):6.2f} ms")
    print(f"ratio p50(/corrections) / p50(/predict) = {c50 / p50:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
