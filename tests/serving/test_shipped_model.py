"""The committed models/ folder is consistent and good enough to serve on a fresh clone."""

import hashlib
import json

import numpy as np

from serve.core.predictor import Predictor
from support.drawings import SHIPPED_MODEL, mnist_sample

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
    probs, is_digit = predictor.predict(images[..., None].astype(np.float32) / 255.0)
    assert np.mean(probs.argmax(1) == labels) >= 0.99
    assert np.mean(is_digit >= predictor.thresholds.not_a_digit_below) >= 0.99


def test_the_card_reports_every_kind_of_non_digit_and_the_held_out_ones_apart():
    meta = json.loads(META.read_text())
    honest = meta["honest_answers"]
    assert meta["calibration"]["thresholds"] == honest["thresholds"]
    held_out = {kind for kind, r in honest["non_digits"].items() if r["held_out"]}
    negatives = meta["training"]["negatives"]
    # Every kind training kept out is marked so, and so is any kind made after it was
    # trained; no kind it was trained on is.
    assert set(negatives["held_out"]) <= held_out and not held_out & set(negatives["trained"])
    assert set(honest["non_digits"]) == held_out | set(negatives["trained"])
    card = (SHIPPED_MODEL.parent / "README.md").read_text()
    assert all(f"| {kind} | **held out**" in card for kind in held_out)


def test_the_card_reports_numbers_by_mnist_writers_and_by_other_writers():
    numbers = json.loads(META.read_text())["honest_answers"]["numbers"]
    assert set(numbers) == {"2-4 MNIST test digits", "2-3 digits by other writers"}
    card = (SHIPPED_MODEL.parent / "README.md").read_text()
    for name, r in numbers.items():
        assert f"| {name} | {r['count']:,} | {r['read_exactly']:.2%} |" in card


def test_serving_environment_has_no_tensorflow():
    import importlib.util

    for name in ("tensorflow", "keras", "tf2onnx"):
        assert importlib.util.find_spec(name) is None, f"{name} is installed in the serving env"
