"""The committed models/ folder is consistent and good enough to serve on a fresh clone."""

import hashlib
import json

import numpy as np

from serve.core.predictor import Predictor
from tests.support import SHIPPED_MODEL, mnist_sample

META = SHIPPED_MODEL.with_suffix(".json")


def test_metadata_describes_the_shipped_onnx_file():
    meta = json.loads(META.read_text())
    assert meta["onnx_sha256"] == hashlib.sha256(SHIPPED_MODEL.read_bytes()).hexdigest()
    weights = SHIPPED_MODEL.parent / "model.weights.h5"
    assert meta["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert meta["test_accuracy"] >= 0.99 and meta["parity"]["ok"]


def test_shipped_model_reads_mnist_test_digits():
    images, labels = mnist_sample()
    predictor = Predictor(SHIPPED_MODEL)
    probs = predictor.predict(images[..., None].astype(np.float32) / 255.0)
    assert np.mean(probs.argmax(1) == labels) >= 0.99


def test_serving_environment_has_no_tensorflow():
    import importlib.util

    for name in ("tensorflow", "keras", "tf2onnx"):
        assert importlib.util.find_spec(name) is None, f"{name} is installed in the serving env"
