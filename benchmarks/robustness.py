"""What hostile clients can do to a real server: the work one costly upload takes, and
how /healthz and /predict answer while costly uploads or slow connections keep coming.

    .venv-serve/bin/python -m benchmarks.robustness [--seconds 10]

Three measurements, each on a fresh server started as `make serve` starts it (loopback
only, bounded in time):
  1. CPU per upload: one worker, each of the costliest accepted uploads sent 20 times; the
     worker's CPU time (/proc) divided by the count.
  2. 8 clients keep posting the costliest upload; a ninth asks /healthz every 20 ms.
  3. 200 connections trickle their headers or bodies a byte a second; a normal client asks
     /healthz and posts a canvas meanwhile; afterwards, how many slow ones were cut.
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import threading
import time
from pathlib import Path

import numpy as np

from support.drawings import canvas_png, seven
from support.hostile import costly_uploads
from support.server import multipart, post_upload, request, running_server

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_per_upload(uploads: dict[str, bytes], repeats: int = 20) -> dict[str, float]:
    costs = {}
    with running_server(WORKERS=1) as server:
        (worker,) = server.worker_pids()
        for name, data in uploads.items():
            body, content_type = multipart(data)
            post_upload(server.port, data)  # warm-up
            before = cpu_seconds(worker)
            for _ in range(repeats):
                request(server.port, "POST", "/predict", body, {"Content-Type": content_type})
            costs[name] = (cpu_seconds(worker) - before) / repeats * 1000
    return costs


def poll(port: int, stop: float, path="/healthz", body=None, headers=None) -> list[float]:
    """Latencies (ms) of requests sent every 20 ms until ``stop``, each on a new connection."""
    latencies = []
    while time.monotonic() < stop:
        started = time.perf_counter()
        status, _, _ = request(port, "POST" if body else "GET", path, body, headers)
        latencies.append((time.perf_counter() - started) * 1000)
        assert status == 200, status
        time.sleep(0.02)
    return latencies


def under_costly_uploads(data: bytes, clients: int, seconds: float) -> dict:
    body, content_type = multipart(data)
    sent = []
    with running_server() as server:
        stop = time.monotonic() + seconds

        def keep_posting():
            while time.monotonic() < stop:
                request(server.port, "POST", "/predict", body, {"Content-Type": content_type})
                sent.append(1)

        threads = [threading.Thread(target=keep_posting) for _ in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        health = poll(server.port, stop)
        for thread in threads:
            thread.join()
    return {"healthz_ms": health, "uploads": len(sent)}


def slow_connections(port: int, count: int) -> list[socket.socket]:
    """Half send an unfinished request line and headers, half a body that never ends."""
    sockets = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", port))
        if i % 2:
            s.sendall(
                b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                b"Content-Length: 100000\r\n\r\n"
            )
        else:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        sockets.append(s)
    return sockets


def trickle(sockets: list[socket.socket], stop: float) -> dict:
    """One byte a second on every connection until the server closes it; when it did."""
    cut = {}
    started = time.monotonic()
    while time.monotonic() < stop and len(cut) < len(sockets):
        for s in sockets:
            if s in cut:
                continue
            try:
                s.sendall(b"X")
            except OSError:
                cut[s] = time.monotonic() - started
        with selectors.DefaultSelector() as selector:  # an answer or EOF means cut off
            for s in sockets:
                if s not in cut:
                    selector.register(s, selectors.EVENT_READ)
            for key, _ in selector.select(timeout=1.0):
                cut[key.fileobj] = time.monotonic() - started
    return cut


def under_slow_clients(count: int, seconds: float) -> dict:
    canvas = canvas_png(seven)
    body, content_type = multipart(canvas)
    with running_server() as server:
        sockets = slow_connections(server.port, count)
        stop = time.monotonic() + seconds
        cut = {}
        tricker = threading.Thread(target=lambda: cut.update(trickle(sockets, stop + 5)))
        tricker.start()
        time.sleep(0.5)
        health = poll(server.port, stop)
        predict = poll(server.port, stop + 3, "/predict", body, {"Content-Type": content_type})
        tricker.join()
        for s in sockets:
            s.close()
    return {
        "healthz_ms": health,
        "predict_ms": predict,
        "cut_after_s": sorted(cut.values()),
        "connections": count,
    }


def pct(values, q) -> float:
    return float(np.percentile(values, q))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--slow", type=int, default=200)
    args = parser.parse_args(argv)

    uploads = costly_uploads()
    costs = cpu_per_upload(uploads)
    print("1. CPU per accepted upload, one worker, mean of 20 (budget <= 150 ms):")
    for name, ms in sorted(costs.items(), key=lambda item: -item[1]):
        print(f"   {name:28s} {len(uploads[name]):>9,} bytes  {ms:6.1f} ms")
    costliest = max(costs, key=costs.get)

    loaded = under_costly_uploads(uploads[costliest], args.clients, args.seconds)
    health = loaded["healthz_ms"]
    print(
        f"2. {args.clients} clients posting '{costliest}' for {args.seconds:.0f} s "
        f"({loaded['uploads']} uploads): /healthz p50 {pct(health, 50):.1f} ms, "
        f"p99 {pct(health, 99):.1f} ms, max {max(health):.1f} ms over {len(health)} "
        "(budget p99 <= 100 ms)"
    )

    slow = under_slow_clients(args.slow, args.seconds)
    cut = slow["cut_after_s"]
    print(
        f"3. {args.slow} connections trickling headers or bodies: /healthz p99 "
        f"{pct(slow['healthz_ms'], 99):.1f} ms, /predict p99 {pct(slow['predict_ms'], 99):.1f}"
        f" ms (budget <= 100 ms); {len(cut)} of {args.slow} cut off by the server, after "
        + (f"{min(cut):.1f}-{max(cut):.1f} s" if cut else "-")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
