"""Which WORKERS x CPU_THREADS x ORT_THREADS serves best on this machine?

    .venv-serve/bin/python -m benchmarks.sweep [--seconds 5]

Starts the real server (gunicorn as `make serve` runs it) once per combination and has 16
clients post canvases for a few seconds; prints requests/s, p50 and p95 of each (with
--record, into benchmarks/results.json too: "sweep"). The defaults in serve/settings.py
follow the best of them.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys

from benchmarks.compare_baseline import canvases, ms, start
from benchmarks.serve_latency import many_clients
from serve.settings import ROOT
from support.results import add_record_option, record
from support.server import free_port

WORKERS = (1, 2, 4)
CPU_THREADS = (1, 2, 4)
ORT_THREADS = (1, 2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--workers", type=int, nargs="+", default=WORKERS)
    parser.add_argument("--cpu-threads", type=int, nargs="+", default=CPU_THREADS)
    parser.add_argument("--ort-threads", type=int, nargs="+", default=ORT_THREADS)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each combination")
    add_record_option(parser)
    args = parser.parse_args(argv)
    data = canvases()
    rows = []
    print(f"{os.cpu_count()} cores; 16 clients for {args.seconds:g} s each")
    print("workers cpu_threads ort_threads  requests/s  p50 ms  p95 ms")
    combinations = itertools.product(args.workers, args.cpu_threads, args.ort_threads)
    for (workers, threads, ort), _ in itertools.product(combinations, range(args.repeat)):
        port = free_port()
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
            "WORKERS": str(workers),
            "CPU_THREADS": str(threads),
            "ORT_THREADS": str(ort),
        }
        command = [
            str(ROOT / ".venv-serve" / "bin" / "gunicorn"),
            "--config",
            "serve/gunicorn_conf.py",
            "serve.web.app:create_app()",
        ]
        process, _ = start(command, port, data[0], env)
        try:
            loaded = many_clients(port, data, 16, args.seconds)
        finally:
            process.terminate()
            process.wait(30)
        row = {
            "workers": workers,
            "cpu_threads": threads,
            "ort_threads": ort,
            "requests_per_s": round(len(loaded["times"]) / loaded["seconds"], 1),
            "p50_ms": ms(loaded["times"], 0.5),
            "p95_ms": ms(loaded["times"], 0.95),
            "errors": loaded["errors"],
        }
        rows.append(row)
        print(
            f"{workers:7d} {threads:11d} {ort:11d}  {row['requests_per_s']:10.1f}  "
            f"{row['p50_ms']:6.2f}  {row['p95_ms']:6.2f}",
            flush=True,
        )
    best = max(rows, key=lambda r: r["requests_per_s"])
    print(f"best: {best}")
    record(args.record, sweep={"clients": 16, "seconds": args.seconds, "rows": rows, "best": best})
    return 0


if __name__ == "__main__":
    sys.exit(main())
