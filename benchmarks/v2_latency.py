"""Latency of the Open Inference Protocol's infer (KServe v2 REST) on the real server.

    .venv-serve/bin/python -m benchmarks.v2_latency [--requests 100] [--record]

Starts the server as `make serve` does and times tritonclient's HTTP client (JSON
tensors) on batches of 1 and of 256 MNIST test digits: p50 and p95 of the whole call,
client-side encoding and decoding included.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import tritonclient.http as httpclient

from serve.core.contract import to_model_input
from support.drawings import mnist_sample
from support.results import add_record_option, record
from support.server import running_server


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    add_record_option(parser)
    args = parser.parse_args(argv)
    images, _ = mnist_sample()
    figures = {}
    with running_server() as server:
        client = httpclient.InferenceServerClient(url=f"127.0.0.1:{server.port}")
        for batch in (1, 256):
            x = to_model_input(images[:batch])
            given = httpclient.InferInput("input", list(x.shape), "FP32")
            given.set_data_from_numpy(x, binary_data=False)
            wanted = [httpclient.InferRequestedOutput("probs", binary_data=False)]
            times = []
            for i in range(args.requests + 5):
                started = time.perf_counter()
                client.infer("mnist", [given], outputs=wanted)
                if i >= 5:  # warm-up
                    times.append(time.perf_counter() - started)
            figures[f"batch_{batch}"] = {
                "p50_ms": round(statistics.median(times) * 1000, 2),
                "p95_ms": round(float(np.quantile(times, 0.95)) * 1000, 2),
            }
            print(f"batch {batch:3d}: {figures[f'batch_{batch}']}", flush=True)
    record(args.record, v2_infer=figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
