"""Latency of the Open Inference Protocol's infer (KServe v2 REST) on the real server.

    .venv-serve/bin/python -m benchmarks.v2_latency [--requests 100] [--record]

Starts the server as `make serve` does and times tritonclient's HTTP client on batches
of 1 and of 256 MNIST test digits, with JSON tensors (figures "batch_N") and with the
binary tensor data extension, the client's default ("binary_batch_N"): p50 and p95 of the
whole call, client-side encoding and decoding included.
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
        for prefix, binary in (("", False), ("binary_", True)):
            for batch in (1, 256):
                name = f"{prefix}batch_{batch}"
                figures[name] = timed(client, images[:batch], binary, args.requests)
                print(f"{name:>16}: {figures[name]}", flush=True)
    record(args.record, v2_infer=figures)
    return 0


def timed(client, images: np.ndarray, binary: bool, requests: int) -> dict:
    """p50 and p95 in ms of infer on these images, tensors sent and answered in binary or
    in JSON."""
    x = to_model_input(images)
    given = httpclient.InferInput("input", list(x.shape), "FP32")
    given.set_data_from_numpy(x, binary_data=binary)
    wanted = [httpclient.InferRequestedOutput("probs", binary_data=binary)]
    times = []
    for i in range(requests + 5):
        started = time.perf_counter()
        client.infer("mnist", [given], outputs=wanted)
        if i >= 5:  # warm-up
            times.append(time.perf_counter() - started)
    return {
        "p50_ms": round(statistics.median(times) * 1000, 2),
        "p95_ms": round(float(np.quantile(times, 0.95)) * 1000, 2),
    }


if __name__ == "__main__":
    sys.exit(main())
