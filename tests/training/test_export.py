"""Export a tiny (untrained) model inside the test and prove ONNX answers like Keras."""

import hashlib
import json

import numpy as np
import onnx
import pytest

from export import honesty
from export.convert import to_onnx
from export.export import main
from export.parity import compare, onnx_session
from serve.core import contract
from train.marks import MARKED
from train.model import build_model, serving_model

CALIBRATION = {"temperature": 1.5, "thresholds": {"not_a_digit_below": 0.3, "sure_from": 0.8}}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Weights of a freshly initialised model: real architecture, seconds to make."""
    import keras

    keras.utils.set_random_seed(3)
    folder = tmp_path_factory.mktemp("tiny")
    model = build_model()
    model.save_weights(str(folder / "model.weights.h5"))
    (folder / "metrics.json").write_text(json.dumps({"calibration": CALIBRATION}))
    return folder, serving_model(model, CALIBRATION["temperature"])


@pytest.mark.parametrize("batch", [1, 7, 256])
def test_onnx_matches_keras_at_every_batch_size(tiny, batch):
    folder, model = tiny
    path = folder / "parity.onnx"
    if not path.exists():
        to_onnx(model, path)
    session = onnx_session(path)
    x = np.random.default_rng(batch).random((batch, 28, 28, 1), dtype=np.float32)
    y = np.zeros(batch, dtype=np.int64)
    parity, (probs, is_digit) = compare(model, session, x, y, batch_size=batch)
    assert probs.shape == (batch, 10) and is_digit.shape == (batch,)
    assert parity.max_abs_diff <= 1e-5 and parity.argmax_mismatches == 0 and parity.ok


def test_export_writes_metadata_that_matches_the_file(tiny, capsys, monkeypatch):
    # An untrained model is unsure of everything, so the number reader tries every cut:
    # a few drawings of each kind on the pad show that the card has them.
    monkeypatch.setattr(honesty, "PAD_DRAWINGS", 10)
    folder, _ = tiny
    out = folder / "mnist.onnx"
    assert main(["--weights", str(folder / "model.weights.h5"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "parity on 10000 test digits" in printed and "argmax mismatches = 0" in printed

    meta = json.loads(out.with_suffix(".json").read_text())
    model = onnx.load(str(out))
    assert meta["onnx_sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    weights = (folder / "model.weights.h5").read_bytes()
    assert meta["weights_sha256"] == hashlib.sha256(weights).hexdigest()
    assert meta["input"]["name"] == model.graph.input[0].name == contract.INPUT_NAME
    assert [o["name"] for o in meta["outputs"]] == [o.name for o in model.graph.output]
    assert {o["name"]: o["shape"][1:] for o in meta["outputs"]} == {
        name: list(shape[1:]) for name, shape in contract.OUTPUT_SHAPES.items()
    }
    # The server reads its verdict thresholds from here.
    assert meta["calibration"] == CALIBRATION
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch"
    assert tuple(d.dim_value for d in dims[1:]) == contract.INPUT_SHAPE[1:]
    assert tuple(meta["input"]["shape"][1:]) == contract.INPUT_SHAPE[1:]
    assert meta["opset"] == next(
        o.version for o in model.opset_import if o.domain in ("", "ai.onnx")
    )
    assert meta["opset"] <= 18
    parity = meta["parity"]
    assert parity["ok"] and parity["digits"] == 10000 and parity["argmax_mismatches"] == 0
    assert parity["max_abs_diff"] <= 1e-5
    # The export agrees with Keras: the same accuracy, digit for digit.
    assert parity["keras_accuracy"] == parity["onnx_accuracy"]
    assert meta["test_accuracy"] == round(parity["onnx_accuracy"], 4)
    for name in ("README.md", "confusion_matrix.png", "confident_mistakes.png", "reliability.png"):
        assert (folder / name).stat().st_size > 500
    honest = meta["honest_answers"]
    assert set(honest["digits"]) == {
        "MNIST test",
        "drawn",
        "other writers",
        "low resolution",
        "1, short flag",
        "1, middling flag",
        "1, long flag",
        "crossed 7",
        "closed 4",
    }
    assert {k for k, r in honest["non_digits"].items() if r["held_out"]} >= {"printed", "symbol"}
    assert "held out" in (folder / "README.md").read_text()
    numbers = honest["numbers"]
    assert set(numbers) == {"2-4 MNIST test digits", "2-3 digits by other writers"}
    assert all(r["count"] == 1000 and 0 <= r["read_exactly"] <= 1 for r in numbers.values())
    assert "| 2-3 digits by other writers | 1,000 |" in (folder / "README.md").read_text()
    pad = honest["on_the_pad"]
    assert {"scribble", "letter", "printed", "symbol", "sign"} <= set(pad)
    assert all(r["count"] == 10 and 0 <= r["number_given"] <= 1 for r in pad.values())
    assert set(honest["with_marks"]) == set(MARKED)
    assert "| ring round a digit | 10 |" in (folder / "README.md").read_text()


def test_export_without_weights_says_to_train_first(tmp_path, capsys):
    assert (
        main(["--weights", str(tmp_path / "none.weights.h5"), "--out", str(tmp_path / "m.onnx")])
        == 2
    )
    assert "make train" in capsys.readouterr().err


def test_export_without_calibration_says_to_train_first(tiny, tmp_path, capsys):
    folder, _ = tiny
    weights = tmp_path / "model.weights.h5"
    weights.write_bytes((folder / "model.weights.h5").read_bytes())
    assert main(["--weights", str(weights), "--out", str(tmp_path / "m.onnx")]) == 2
    assert "calibration" in capsys.readouterr().err
