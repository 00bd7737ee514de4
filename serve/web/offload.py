"""CPU-bound work off gevent's event loop.

Decoding an upload and running the model take milliseconds of CPU (up to about a tenth
of a second for the largest accepted image). Under gevent that would stop the worker from
answering anything else meanwhile, health checks included, so the work runs in native
threads and the event loop goes on serving other connections. A large batch of model
inputs (the v2 protocol's infer) runs in parts on all of them at once.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from gevent import monkey
from gevent.threadpool import ThreadPool

from serve.web.context import get_settings


@functools.cache
def cpu_threads(size: int) -> ThreadPool:
    """This worker's threads (CPU_THREADS, 2 by default), made after the fork. Two keep a
    core busy while one waits for onnxruntime or Pillow (which release the GIL); more
    would only hold more decoded images in memory at once (benchmarks/sweep.py)."""
    return ThreadPool(size)


def off_the_event_loop(function, *args):
    """function(*args), in a native thread when serving under gevent."""
    if not monkey.is_module_patched("threading"):
        return function(*args)
    return in_thread(cpu_threads(get_settings().cpu_threads), function, *args)


# onnxruntime runs each call on one thread (ORT_THREADS), so a lone large batch would
# use one core: in parts of about this many images it runs on every CPU thread at once,
# and under load its parts queue with the other requests' work.
BATCH_PART = 64


def predict_off_the_event_loop(predict, batch: np.ndarray) -> tuple[np.ndarray, ...]:
    """predict(batch) off the event loop: a large batch in parts side by side, their
    answers joined back in order."""
    if len(batch) <= BATCH_PART or not monkey.is_module_patched("threading"):
        return off_the_event_loop(predict, batch)
    pool = cpu_threads(get_settings().cpu_threads)
    parts = np.array_split(batch, math.ceil(len(batch) / BATCH_PART))
    # spawn waits while every thread is busy, so the parts queue as requests do.
    running = [pool.spawn(outcome, predict, part) for part in parts]
    answers = [result_of(job.get()) for job in running]  # each part's (probs, is_digit)
    return tuple(np.concatenate(output) for output in zip(*answers, strict=True))


def in_thread(pool: ThreadPool, function, *args):
    """function(*args) in one of ``pool``'s native threads; its exception raised here."""
    return result_of(pool.apply(outcome, (function, *args)))


def result_of(pair: tuple):
    """The result of ``outcome``'s (result, error), or its error raised here."""
    result, error = pair
    if error is not None:
        raise error
    return result


def outcome(function, *args):
    """(result, None) or (None, error): gevent reports any exception that leaves its
    thread pool as unhandled, with a traceback in the log, even one the caller handles."""
    try:
        return function(*args), None
    except Exception as error:
        return None, error
