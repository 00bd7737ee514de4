"""The network's layout is the contract's, and its calibration layer answers what
train/calibration.py computes in numpy (training fits the thresholds on one, the ONNX file
carries the other)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from serve.core.contract import DIGITS, INPUT_NAME, LOGITS, OUTPUT_SHAPES  # noqa: E402
from train.calibration import digit_answers  # noqa: E402
from train.model import CalibratedAnswers, build_model, serving_model  # noqa: E402


def test_the_network_answers_the_contracts_logits():
    model = build_model()
    assert model.input.name == INPUT_NAME
    assert model.output.shape == (None, LOGITS)
    probs, is_digit = serving_model(model, 1.0).output
    assert [probs.shape, is_digit.shape] == list(OUTPUT_SHAPES.values())
    assert probs.shape[1] == DIGITS


@pytest.mark.parametrize("temperature", [0.3, 1.0, 1.7, 4.0])
def test_the_keras_layer_answers_like_numpy(temperature):
    logits = np.random.default_rng(round(temperature * 10)).normal(0, 6, (512, LOGITS))
    logits = logits.astype(np.float32)
    probs, is_digit = CalibratedAnswers(temperature)(logits)
    expected_probs, expected_is_digit = digit_answers(logits, temperature)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(probs), expected_probs, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(is_digit), expected_is_digit, atol=1e-6)
