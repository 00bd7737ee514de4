"""Proof that the ONNX file answers like the Keras model it came from."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from serve.core.contract import OUTPUT_SHAPES

MAX_ABS_DIFF = 1e-5


@dataclass
class Parity:
    digits: int
    max_abs_diff: float
    argmax_mismatches: int
    keras_accuracy: float
    onnx_accuracy: float

    @property
    def ok(self) -> bool:
        return (
            self.max_abs_diff <= MAX_ABS_DIFF
            and self.argmax_mismatches == 0
            and self.keras_accuracy == self.onnx_accuracy
        )

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def onnx_session(path):
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def onnx_predict(session, x: np.ndarray, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(probs, is_digit) from the ONNX session, batch by batch."""
    name = session.get_inputs()[0].name
    parts = [
        session.run(list(OUTPUT_SHAPES), {name: x[i : i + batch_size]})
        for i in range(0, len(x), batch_size)
    ]
    return tuple(np.concatenate(outputs) for outputs in zip(*parts, strict=True))


def compare(
    keras_model, session, x: np.ndarray, y: np.ndarray, batch_size: int = 512
) -> tuple[Parity, tuple[np.ndarray, np.ndarray]]:
    """Run both on the same digits; return the figures and ONNX's (probs, is_digit)."""
    keras_probs, keras_is_digit = keras_model.predict(x, batch_size=batch_size, verbose=0)
    onnx_probs, onnx_is_digit = onnx_predict(session, x, batch_size)
    parity = Parity(
        digits=int(len(x)),
        max_abs_diff=float(
            max(
                np.max(np.abs(keras_probs - onnx_probs)),
                np.max(np.abs(keras_is_digit - onnx_is_digit)),
            )
        ),
        argmax_mismatches=int(np.sum(keras_probs.argmax(1) != onnx_probs.argmax(1))),
        keras_accuracy=float(np.mean(keras_probs.argmax(1) == y)),
        onnx_accuracy=float(np.mean(onnx_probs.argmax(1) == y)),
    )
    return parity, (onnx_probs, onnx_is_digit)
