"""Our server against the original TensorFlow-in-Flask design, measured in one run.

    .venv-serve/bin/python -m benchmarks.compare_baseline [--seconds 10] [--requests 300]

Starts each design on a free loopback port in turn: the original (benchmarks/baseline_app.py,
in .venv-train, which needs Flask there: `make bench` installs it) and ours (gunicorn as
`make serve` runs it). For each: cold start (process start to the first successful
/predict), /predict p50 and p95 with 1 client and with 16, requests/s, and the memory of
the serving processes; then the import time of each app's modules and the size of each
environment. Prints a table; with --record, writes them into benchmarks/results.json
("baseline_vs_ours").
The load generator is the standard library's http.client, one connection per client.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.serve_latency import many_clients, rss_mb, timed
from serve.settings import ROOT
from support.drawings import mnist_sample, png_bytes, redraw
from support.results import add_record_option, record
from support.server import free_port, multipart

TRAIN_PY = ROOT / ".venv-train" / "bin" / "python"
SERVE_PY = ROOT / ".venv-serve" / "bin" / "python"


def canvases(count: int = 50) -> list[bytes]:
    images, _ = mnist_sample()
    rng = np.random.default_rng(5)
    return [png_bytes(redraw(images[i], rng)) for i in range(count)]


def post(connection, data: bytes) -> tuple[float, int]:
    body, kind = multipart(data)
    return timed(connection, "POST", "/predict", body, {"Content-Type": kind})


def start(command: list[str], port: int, data: bytes, env: dict) -> tuple[subprocess.Popen, float]:
    """Start a server; return it and the seconds until its first successful /predict."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    while time.perf_counter() - started < 120:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            _, status = post(connection, data)
            connection.close()
            if status == 200:
                return process, time.perf_counter() - started
        except OSError:
            time.sleep(0.01)
    process.kill()
    raise RuntimeError(f"{command[0]} did not answer within 120 s")


def one_client(port: int, data: list[bytes], requests: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for i in range(requests + 10):
        seconds, status = post(connection, data[i % len(data)])
        assert status == 200, status
        if i >= 10:  # warm-up
            times.append(seconds)
    return times


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def ms(values: list[float], q: float) -> float:
    return round(float(np.quantile(values, q)) * 1000, 2)


def measure(name, command, port, data, env, requests, seconds) -> dict:
    process, cold = start(command, port, data[0], env)
    try:
        single = one_client(port, data, requests)
        loaded = many_clients(port, data, 16, seconds)
        workers = children(process.pid) or [process.pid]
        memory = {str(pid): round(rss_mb(pid), 1) for pid in [process.pid, *workers]}
    finally:
        process.terminate()
        process.wait(30)
    result = {
        "cold_start_s": round(cold, 3),
        "one_client": {"p50_ms": ms(single, 0.5), "p95_ms": ms(single, 0.95)},
        "sixteen_clients": {
            "p50_ms": ms(loaded["times"], 0.5),
            "p95_ms": ms(loaded["times"], 0.95),
            "requests_per_s": round(len(loaded["times"]) / loaded["seconds"], 1),
            "errors": loaded["errors"],
        },
        "rss_mb": memory,
        "worker_rss_mb": round(statistics.median(rss_mb_list(memory, process.pid)), 1),
    }
    print(f"{name}: {json.dumps(result)}", flush=True)
    return result


def rss_mb_list(memory: dict, master: int) -> list[float]:
    workers = [mb for pid, mb in memory.items() if int(pid) != master]
    return workers or list(memory.values())


def import_seconds(python: Path, modules: str) -> float:
    """Median of 3 fresh interpreters importing ``modules``."""
    code = f"import time; t = time.perf_counter(); import {modules}; print(time.perf_counter() - t)"
    runs = [
        float(
            subprocess.run(
                [python, "-c", code],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
            ).stdout.split()[-1]
        )
        for _ in range(3)
    ]
    return round(statistics.median(runs), 3)


def environment_mb(python: Path, requirements: Path) -> float:
    """The installed size of what ``requirements`` pulls in (test tools left out)."""
    code = "import sys; from support.sizes import installed_mb; print(installed_mb(sys.argv[1]))"
    out = subprocess.run(
        [python, "-c", code, str(requirements)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.split()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of the 16-client run")
    parser.add_argument("--requests", type=int, default=300, help="requests from one client")
    add_record_option(parser)
    args = parser.parse_args(argv)
    data = canvases()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "LOG_LEVEL": "WARNING"}

    port = free_port()
    baseline = measure(
        "baseline (TensorFlow in Flask)",
        [str(TRAIN_PY), "-m", "benchmarks.baseline_app", str(port)],
        port,
        data,
        env,
        args.requests,
        args.seconds,
    )
    port = free_port()
    ours = measure(
        "ours (gunicorn + onnxruntime)",
        [
            str(ROOT / ".venv-serve" / "bin" / "gunicorn"),
            "--config",
            "serve/gunicorn_conf.py",
            "serve.web.app:create_app()",
        ],
        port,
        data,
        {**env, "HOST": "127.0.0.1", "PORT": str(port)},
        args.requests,
        args.seconds,
    )
    result = {
        "baseline": baseline,
        "ours": ours,
        "p50_ratio": round(baseline["one_client"]["p50_ms"] / ours["one_client"]["p50_ms"], 1),
        "p50_ratio_16_clients": round(
            baseline["sixteen_clients"]["p50_ms"] / ours["sixteen_clients"]["p50_ms"], 1
        ),
        "import_s": {
            "baseline": import_seconds(TRAIN_PY, "flask, tensorflow, keras"),
            "ours": import_seconds(SERVE_PY, "serve.web.app"),
        },
        "environment_mb": {
            "baseline": environment_mb(TRAIN_PY, ROOT / "requirements-train.txt"),
            "ours": environment_mb(SERVE_PY, ROOT / "requirements-serve.txt"),
        },
    }
    record(
        args.record,
        baseline_vs_ours=result,
        cold_start_s={"baseline": baseline["cold_start_s"], "ours": ours["cold_start_s"]},
    )
    print(json.dumps({k: v for k, v in result.items() if k not in ("baseline", "ours")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
