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

from serve.core.contract import check_model


class Predictor:
    def __init__(self, model_path: str | Path, threads: int = 1):
        self.model_path = Path(model_path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(self.model_path), options, providers=["CPUExecutionProvider"]
        )
        self.input_name, self.output_name = check_model(
            self.session.get_inputs(), self.session.get_outputs()
        )
        self.metadata = read_metadata(self.model_path)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """float32 (N, 28, 28, 1) -> (N, 10) probabilities. Safe from several threads."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        (probs,) = self.session.run([self.output_name], {self.input_name: batch})
        return probs


def read_metadata(model_path: Path) -> dict:
    """models/mnist.json beside the ONNX file, or {} when it is missing or unreadable."""
    try:
        return json.loads(model_path.with_suffix(".json").read_text())
    except (OSError, ValueError):
        return {}
