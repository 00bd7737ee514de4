"""Latency of /predict against /healthz on one real gunicorn server, and a 16-client soak.

    .venv-serve/bin/python -m benchmarks.serve_latency [--requests 400] [--clients 16]

Starts `make serve`'s gunicorn (serve/gunicorn_conf.py) on a free port, then prints the
median (p50) and p90 of each endpoint measured in the same run, their ratio, and the
errors and throughput of N concurrent clients posting canvases for a number of seconds.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

from support.drawings import mnist_sample, png_bytes, redraw
from support.server import multipart, running_server


def timed(connection, method, path, body=None, headers=None) -> tuple[float, int]:
    started = time.perf_counter()
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.read()
    return time.perf_counter() - started, response.status


def latency(port: int, requests: int, canvases: list[bytes]) -> dict:
    """Interleaved /healthz and /predict on one keep-alive connection, same conditions."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    health, predict = [], []
    for i in range(requests + 20):
        h, _ = timed(connection, "GET", "/healthz")
        body, kind = multipart(canvases[i % len(canvases)])
        p, status = timed(connection, "POST", "/predict", body, {"Content-Type": kind})
        assert status == 200, status
        if i >= 20:  # warm-up
            health.append(h)
            predict.append(p)
    return {"healthz": health, "predict": predict}


def many_clients(
    port: int, canvases: list[bytes], clients: int, seconds: float, timeout: float = 30
) -> dict:
    """``clients`` threads posting canvases to /predict for ``seconds``, one keep-alive
    connection each: the seconds of every answered request, the failures, the wall time."""
    times, errors, lock = [], [0], threading.Lock()
    stop = time.perf_counter() + seconds

    def client(n: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        i = n
        while time.perf_counter() < stop:
            body, kind = multipart(canvases[i % len(canvases)])
            try:
                took, status = timed(connection, "POST", "/predict", body, {"Content-Type": kind})
            except OSError:
                took, status = 0.0, 0
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            with lock:
                if status == 200:
                    times.append(took)
                else:
                    errors[0] += 1
            i += clients

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"times": times, "errors": errors[0], "seconds": time.perf_counter() - started}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_memory(server) -> tuple[float, list[float]]:
    """Resident memory of the gunicorn master and of each worker (Linux /proc)."""
    return rss_mb(server.process.pid), [rss_mb(pid) for pid in server.worker_pids()]


def ms(values, q):
    return np.percentile(values, q) * 1000


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    images, _ = mnist_sample()
    rng = np.random.default_rng(0)
    canvases = [png_bytes(redraw(images[i], rng, "transparent")) for i in range(50)]
    with running_server(WORKERS=args.workers) as server:
        times = latency(server.port, args.requests, canvases)
        load = many_clients(server.port, canvases, args.clients, args.seconds, timeout=10)
        master_mb, workers_mb = worker_memory(server)
    h50, p50 = statistics.median(times["healthz"]), statistics.median(times["predict"])
    print(
        f"server: gunicorn, {args.workers} gevent workers; "
        f"{args.requests} requests each, 280x280 canvas PNGs ({len(canvases[0]):,} bytes)"
    )
    print(f"GET  /healthz  p50 {h50 * 1000:6.2f} ms   p90 {ms(times['healthz'], 90):6.2f} ms")
    print(f"POST /predict  p50 {p50 * 1000:6.2f} ms   p90 {ms(times['predict'], 90):6.2f} ms")
    print(f"ratio p50(/predict) / p50(/healthz) = {p50 / h50:.2f}  (budget <= 3)")
    print(
        f"{args.clients} concurrent clients for {load['seconds']:.1f} s: "
        f"{len(load['times'])} ok, {load['errors']} errors, "
        f"{len(load['times']) / load['seconds']:.0f} predictions/s"
    )
    print(
        f"memory (RSS) after the soak: master {master_mb:.0f} MB, workers "
        + ", ".join(f"{mb:.0f} MB" for mb in workers_mb)
    )
    return 0 if load["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
