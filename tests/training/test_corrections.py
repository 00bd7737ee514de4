"""Corrections people sent, read into training digits (train/corrections.py) and folded
into a quick training run (``--corrections``)."""

import json

import numpy as np
import pytest

from export.card import corrections_section
from serve.corrections.export import export
from serve.corrections.store import Correction, open_store, utc_text
from support.drawings import SHIPPED_MODEL, mnist_sample, png_bytes
from train.corrections import (
    OTHER_COUNT,
    REPEATS,
    UNREADABLE,
    BadExport,
    is_held_out,
    load,
    shipped_reader,
)
from train.data import file_sha256
from train.drawn import draw_number, redraw
from train.negatives import fashion_images
from train.train import main

SINGLES, NUMBERS = 30, 10


def add_drawings(store, rng, singles: int, numbers: int) -> None:
    """Digits and numbers of MNIST test digits as the page sends them, labelled right."""
    images, labels = mnist_sample()
    picks = iter(rng.permutation(len(labels)))
    sha256 = file_sha256(SHIPPED_MODEL)
    for _ in range(singles):
        i = next(picks)
        add(store, png_bytes(redraw(images[i], rng)), str(labels[i]), sha256)
    for n in range(numbers):
        digits = [next(picks) for _ in range(2 + n % 2)]
        # Gaps wide enough that the segmentation parts the digits.
        number = draw_number(images[digits], rng, gaps=(0.25, 0.45))
        add(store, png_bytes(number), "".join(str(labels[i]) for i in digits), "another model")


def add(store, image: bytes, label: str, sha256: str) -> None:
    store.add(Correction(image, label, "?", sha256, utc_text()))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('store') / 'corrections.db'}")
    add_drawings(store, np.random.default_rng(0), SINGLES, NUMBERS)
    add(store, b"GIF89a but not really", "3", "x")  # stored bytes no decoder reads
    # Two digits written as one: the reading finds one digit, not the label's three.
    add(store, png_bytes(redraw(mnist_sample()[0][0], np.random.default_rng(1))), "123", "x")
    yield store
    store.close()


@pytest.fixture(scope="module")
def exported(store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    export(store, folder)
    return folder


@pytest.fixture(scope="module")
def reader():
    return shipped_reader()


@pytest.fixture(scope="module")
def corrections(exported, reader):
    return load(exported, reader)


def test_every_row_is_read_or_skipped_with_a_reason(corrections):
    assert corrections.rows == SINGLES + NUMBERS + 2
    assert corrections.skipped.get(UNREADABLE) == 1
    assert corrections.skipped.get(OTHER_COUNT, 0) >= 1  # the "123" written as one digit
    # Most numbers drawn apart are parted into their digits.
    assert sum(corrections.skipped.values()) <= 2 + NUMBERS // 3
    kept = corrections.trained_rows + len(corrections.held_out_ids)
    assert kept + sum(corrections.skipped.values()) == corrections.rows
    # A digit per single and two or three per number: more digits than rows kept.
    digits = len(corrections.trained[1]) + len(corrections.held_out[1])
    assert kept < digits <= kept + 2 * NUMBERS
    for images, labels in (corrections.trained, corrections.held_out):
        assert images.dtype == np.uint8 and images.shape[1:] == (28, 28)
        assert labels.dtype == np.int32 and len(labels) == len(images)
    assert "skipped" in corrections.summary()


def test_digits_are_laid_out_as_mnist_and_paired_with_their_labels(corrections, reader):
    images = np.concatenate([corrections.trained[0], corrections.held_out[0]])
    labels = np.concatenate([corrections.trained[1], corrections.held_out[1]])
    # White ink on black, as MNIST: the border is paper.
    assert images[:, 0, :].max() < 30 and images.max() > 200
    # The shipped model reads these MNIST test digits right nearly always: digits paired
    # with the wrong place of a number's label would read far worse.
    probs, _ = reader.predictor.predict(images[..., None].astype(np.float32) / 255)
    assert np.mean(probs.argmax(axis=1) == labels) >= 0.85


def test_trained_digits_are_repeated_and_held_out_ones_never(corrections):
    x, y = corrections.repeated()
    assert len(x) == len(y) == REPEATS * len(corrections.trained[1])
    np.testing.assert_array_equal(y[: len(corrections.trained[1])], corrections.trained[1])


def test_held_out_rows_are_chosen_by_id_and_stay_so_in_later_exports(
    corrections, store, tmp_path, reader
):
    ids = [str(i) for i in range(1, 2001)]
    assert 0.17 < sum(map(is_held_out, ids)) / len(ids) < 0.23
    assert all(is_held_out(i) for i in corrections.held_out_ids)
    add_drawings(store, np.random.default_rng(2), 5, 0)
    export(store, tmp_path)
    later = load(tmp_path, reader)
    assert later.rows == corrections.rows + 5
    assert set(corrections.held_out_ids) <= set(later.held_out_ids)
    assert set(later.held_out_ids) - set(corrections.held_out_ids) <= {
        str(i) for i in range(corrections.rows + 1, later.rows + 1)
    }


def test_the_shipped_model_is_measured_on_the_held_out_digits(corrections):
    before = corrections.before
    assert before["model"] == "mnist.onnx"
    assert before["model_sha256"] == file_sha256(SHIPPED_MODEL)
    assert before["rows_it_read"] == SINGLES  # the numbers say "another model" read them
    if len(corrections.held_out[1]):
        assert 0.5 <= before["accuracy"] <= 1


def test_a_missing_or_malformed_export_is_refused(tmp_path, reader):
    with pytest.raises(BadExport, match="make corrections"):
        load(tmp_path / "nowhere", reader)
    (tmp_path / "labels.csv").write_text("name,digit\nimages/1.png,3\n")
    with pytest.raises(BadExport, match="no column"):
        load(tmp_path, reader)
    (tmp_path / "labels.csv").write_text("id,file,label\n1\n")
    with pytest.raises(BadExport, match="line 2"):
        load(tmp_path, reader)


def test_rows_with_a_missing_image_or_a_bad_label_are_skipped(tmp_path, reader):
    (tmp_path / "labels.csv").write_text(
        "id,file,label\n1,images/none.png,3\n2,../outside.png,3\n3,images/none.png,three\n"
    )
    corrections = load(tmp_path, reader)
    assert corrections.rows == 3 and sum(corrections.skipped.values()) == 3
    assert len(corrections.trained[1]) == len(corrections.held_out[1]) == 0


def test_the_card_reports_before_and_after_only_when_trained_on_corrections():
    assert corrections_section(None) == ""
    figures = {
        "rows": 42,
        "trained_rows": 30,
        "trained_digits": 33,
        "repeats": REPEATS,
        "held_out_rows": 10,
        "held_out_digits": 12,
        "skipped": {UNREADABLE: 2},
        "before": {
            "model": "mnist.onnx",
            "model_sha256": "ab" * 32,
            "rows_it_read": 40,
            "accuracy": 0.5,
        },
        "after": {"accuracy": 0.75},
    }
    section = corrections_section(figures)
    assert section.startswith("## Corrections people sent")
    assert "50.00%" in section and "75.00%" in section and "2 image" in section


@pytest.mark.slow  # MNIST is loaded first
def test_a_missing_export_stops_training_with_a_message(tmp_path, capsys):
    status = main(
        ["--quick", "--corrections", str(tmp_path / "nowhere"), "--models-dir", str(tmp_path)]
    )
    assert status == 2
    assert "labels.csv not found" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(fashion_images() is None, reason="training needs dataset-fashion-mnist")
def test_quick_training_on_corrections_measures_them_before_and_after(exported, tmp_path):
    status = main(
        [
            "--quick",
            "--corrections",
            str(exported),
            "--models-dir",
            str(tmp_path / "models"),
            "--checkpoint",
            str(tmp_path / "c.weights.h5"),
        ]
    )
    assert status == 0
    metrics = json.loads((tmp_path / "models" / "metrics.json").read_text())
    figures = metrics["corrections"]
    assert figures["rows"] == SINGLES + NUMBERS + 2 and figures["repeats"] == REPEATS
    assert figures["trained_digits"] > 0 and figures["held_out_digits"] > 0
    assert 0 <= figures["before"]["accuracy"] <= 1 and 0 <= figures["after"]["accuracy"] <= 1
    # Two short epochs read far better than chance (10 %) on held-out MNIST drawings.
    assert figures["after"]["accuracy"] >= 0.3
    assert metrics["train_digits"] >= 2048 + REPEATS * figures["trained_digits"]
