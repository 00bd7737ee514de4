"""Soak: many clients for a minute, valid drawings mixed with hostile uploads, on a real
server (loopback only, bounded in time). Not part of the test suite: `make soak`.

    .venv-serve/bin/python -m benchmarks.soak [--clients 16] [--seconds 60]

Prints the requests made, how they were answered, the 5xx count (must be 0), latency
percentiles, and each worker's resident memory at the start and at the end of the run,
after a warm-up (growth must stay within 10 %); a run of two minutes or more also prints
each worker's memory minute by minute. Exit status 1 when a budget is exceeded.

One minute's growth is a noisy figure: it moves by several per cent from run to run with
no leak. glibc keeps up to its trim threshold (8 MB, serve/gunicorn_conf.py) free at the
top of the heap, so the heap steps up and down by about that much. The decoded arrays of
hostile uploads in flight come and go too. Whether memory levels off is what a longer run
(``--seconds 360``) shows, minute by minute.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import itertools
import threading
import time

import numpy as np

from benchmarks.serve_latency import rss_mb
from support.drawings import mnist_sample, png_bytes, redraw
from support.hostile import bombs, costly_uploads
from support.server import multipart, running_server

HOSTILE_SHARE = 0.2  # one request in five is hostile


def uploads() -> tuple[list[bytes], list[bytes]]:
    images, _ = mnist_sample()
    rng = np.random.default_rng(3)
    drawings = [png_bytes(redraw(images[i], rng, "transparent")) for i in range(100)]
    costly = list(costly_uploads().values())
    hostile = (
        list(bombs().values())
        + costly[:2]
        + [
            b"",
            b"junk" * 100,
            drawings[0][:200],
            b"%PDF-1.4",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        ]
    )
    return drawings, hostile


def client(port: int, stop: float, bodies, results: list, lock: threading.Lock) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for data in bodies:
        if time.monotonic() >= stop:
            return
        body, content_type = multipart(data)
        started = time.perf_counter()
        try:
            connection.request(
                "POST", "/predict", body=body, headers={"Content-Type": content_type}
            )
            response = connection.getresponse()
            response.read()
            status = response.status
        except OSError as error:
            status = type(error).__name__
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with lock:
            results.append((status, (time.perf_counter() - started) * 1000))


def mixed(drawings, hostile, seed: int):
    rng = np.random.default_rng(seed)
    for i in itertools.count():
        if rng.random() < HOSTILE_SHARE:
            yield hostile[int(rng.integers(len(hostile)))]
        else:
            yield drawings[i % len(drawings)]


def run_clients(port, clients, seconds, drawings, hostile) -> list:
    results, lock = [], threading.Lock()
    stop = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=client, args=(port, stop, mixed(drawings, hostile, n), results, lock)
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def sample_memory(pids: list[int], stop: threading.Event, every: float = 1.0) -> list:
    """Resident memory of each worker, once a second until ``stop``: [[MB, ...], ...]."""
    samples = []
    while not stop.wait(every):
        samples.append([rss_mb(pid) for pid in pids])
    return samples


def window_medians(samples: list, seconds: int) -> tuple[np.ndarray, np.ndarray]:
    """Each worker's median memory over the first and over the last ``seconds`` samples.

    A worker's memory swings by tens of MB from one second to the next (an upload
    decodes into a few large arrays that are freed right after), so single readings at
    start and end measure those swings, not a leak; medians over a window do not."""
    array = np.array(samples)
    return np.median(array[:seconds], axis=0), np.median(array[-seconds:], axis=0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warm-up", type=float, default=10)
    args = parser.parse_args(argv)
    drawings, hostile = uploads()
    with running_server() as server:
        run_clients(server.port, args.clients, args.warm_up, drawings, hostile)
        workers = server.worker_pids()
        stop, samples = threading.Event(), []
        sampler = threading.Thread(target=lambda: samples.extend(sample_memory(workers, stop)))
        sampler.start()
        results = run_clients(server.port, args.clients, args.seconds, drawings, hostile)
        stop.set()
        sampler.join()
        restarted = sorted(server.worker_pids()) != sorted(workers)
    statuses = collections.Counter(status for status, _ in results)
    server_errors = sum(n for s, n in statuses.items() if not isinstance(s, int) or s >= 500)
    latency = np.array([ms for _, ms in results])
    window = max(1, min(10, len(samples) // 4))
    start_mb, end_mb = window_medians(samples, window)
    growth = float(np.max((end_mb - start_mb) / start_mb))
    print(
        f"{args.clients} clients for {args.seconds:.0f} s ({HOSTILE_SHARE:.0%} hostile): "
        f"{len(results):,} requests, {len(results) / args.seconds:.0f}/s"
    )
    print("answers: " + ", ".join(f"{s}: {n:,}" for s, n in sorted(statuses.items(), key=str)))
    print(
        f"5xx or broken connections: {server_errors} (budget 0)"
        + ("; a worker was restarted" if restarted else "")
    )
    print(
        f"latency p50 {np.percentile(latency, 50):.1f} ms, p99 {np.percentile(latency, 99):.1f}"
        f" ms, max {latency.max():.1f} ms"
    )
    print(
        f"worker memory, median of the first and of the last {window} s: "
        + ", ".join(f"{a:.0f} -> {b:.0f} MB" for a, b in zip(start_mb, end_mb, strict=True))
        + f"; largest growth {growth:+.1%} (budget <= 10 %)"
    )
    if len(samples) >= 120:  # a long run: does the memory level off?
        minutes = [
            np.median(np.array(samples[i : i + 60]), axis=0) for i in range(0, len(samples), 60)
        ]
        print(
            "worker memory by minute (medians, MB): "
            + "; ".join(", ".join(f"{mb:.0f}" for mb in minute) for minute in minutes)
        )
    return 0 if server_errors == 0 and not restarted and growth <= 0.10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
