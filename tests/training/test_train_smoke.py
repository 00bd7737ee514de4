"""Quick-mode training end to end: 2,048 digits, two short epochs, every artefact."""

import json

import numpy as np
import pytest

from serve.core.contract import LOGITS
from train.negatives import fashion_images
from train.train import main

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(fashion_images() is None, reason="training needs dataset-fashion-mnist"),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    status = main(
        [
            "--quick",
            "--models-dir",
            str(out / "models"),
            "--checkpoint",
            str(out / "checkpoints" / "best.weights.h5"),
        ]
    )
    assert status == 0
    return out


def test_quick_training_writes_every_artefact(trained):
    assert (trained / "checkpoints" / "best.weights.h5").stat().st_size > 100_000
    assert (trained / "models" / "model.weights.h5").stat().st_size > 100_000
    png = (trained / "models" / "history.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_metrics_describe_the_run(trained):
    metrics = json.loads((trained / "models" / "metrics.json").read_text())
    assert metrics["quick"] is True and metrics["epochs_run"] == 2
    # 2,048 digits and two short epochs already read far better than chance (10 %).
    assert metrics["test_accuracy"] >= 0.5
    assert (
        metrics["data_sha256"] == "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16"
    )
    assert metrics["versions"]["keras"].startswith("3.")


def test_saved_weights_reload_into_a_rebuilt_model_with_identical_outputs(trained):
    from train.model import build_model

    digits = np.random.default_rng(0).random((16, 28, 28, 1), dtype=np.float32)
    first, second = build_model(), build_model()
    first.load_weights(str(trained / "models" / "model.weights.h5"))
    second.load_weights(str(trained / "checkpoints" / "best.weights.h5"))
    out_first = first.predict(digits, verbose=0)
    np.testing.assert_array_equal(out_first, second.predict(digits, verbose=0))
    assert out_first.shape == (16, LOGITS)  # ten digits and "not a digit", as logits
    # A freshly initialised model answers differently, so the comparison above means something.
    assert not np.allclose(out_first, build_model().predict(digits, verbose=0))


def test_training_fits_the_calibration_on_validation(trained):
    from train.model import build_model, serving_model

    metrics = json.loads((trained / "models" / "metrics.json").read_text())
    calibration = metrics["calibration"]
    assert 0.05 <= calibration["temperature"] <= 20
    thresholds = calibration["thresholds"]
    assert 0 <= thresholds["not_a_digit_below"] <= 1 and 0.5 <= thresholds["sure_from"] <= 1
    assert metrics["train_non_digits"] > 0 and metrics["val_non_digits"] > 0
    model = build_model()
    model.load_weights(str(trained / "models" / "model.weights.h5"))
    digits = np.random.default_rng(1).random((8, 28, 28, 1), dtype=np.float32)
    probs, is_digit = serving_model(model, calibration["temperature"]).predict(digits, verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert is_digit.shape == (8,) and ((is_digit >= 0) & (is_digit <= 1)).all()


def test_missing_data_exits_with_a_message_not_a_traceback(tmp_path, capsys):
    status = main(
        ["--quick", "--data", str(tmp_path / "nowhere"), "--models-dir", str(tmp_path / "m")]
    )
    assert status == 2
    assert "Could not load MNIST" in capsys.readouterr().err
