"""The one object that owns the onnxruntime session.

Created per worker process, after gunicorn forks (an ORT session does not survive a
fork), with one intra-op thread by default: several workers each using every core would
only fight over the two cores this runs on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

# onnxruntime's telemetry (on by default in its Linux wheels since 1.25) would write a
# device id to the temporary folder and try to reach Microsoft; it must be switched off
# before the library is loaded.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
import onnxruntime as ort

from serve.core.contract import IS_DIGIT_NAME, OUTPUT_NAME, check_model
from serve.core.verdict import Thresholds, thresholds_for


class Predictor:
    """The model of an ONNX file, or of its bytes and ``metadata`` (what ``read_metadata``
    reads beside the file): a Ray actor on another machine gets the model that way."""

    def __init__(
        self,
        model: str | Path | bytes,
        threads: int = 1,
        not_a_digit_below: float | None = None,
        sure_from: float | None = None,
        metadata: dict | None = None,
    ):
        loaded = isinstance(model, bytes)
        self.model_path = None if loaded else Path(model)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            model if loaded else str(self.model_path),
            options,
            providers=["CPUExecutionProvider"],
        )
        self.input_name = check_model(self.session.get_inputs(), self.session.get_outputs())
        if metadata is None:
            metadata = {} if loaded else read_metadata(self.model_path)
        self.metadata = metadata
        # The thresholds belong with the model they were fitted for; settings may override.
        self.thresholds: Thresholds = thresholds_for(self.metadata, not_a_digit_below, sure_from)

    def predict(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float32 (N, 28, 28, 1) -> (probs (N, 10), is_digit (N,)), both calibrated.
        Safe from several threads."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        probs, is_digit = self.session.run([OUTPUT_NAME, IS_DIGIT_NAME], {self.input_name: batch})
        return probs, is_digit


def read_metadata(model_path: Path) -> dict:
    """models/mnist.json beside the ONNX file, or {} when it is missing or unreadable."""
    try:
        return json.loads(model_path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return {}
