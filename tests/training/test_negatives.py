"""Non-digits drawn as people would, shaped by the server's own preprocessing."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from train import negatives
from train.negatives import (
    DRAWN,
    HELD_OUT,
    KINDS,
    TRAINED,
    fashion_images,
    looks_like_a_one,
    make_negatives,
)


def extents(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Height and width of each image's ink (first to last row and column with ink)."""

    def span(has_ink):
        first = has_ink.argmax(axis=1)
        last = has_ink.shape[1] - 1 - has_ink[:, ::-1].argmax(axis=1)
        return last - first + 1

    ink = images > 0
    return span(ink.any(axis=2)), span(ink.any(axis=1))


def mnist_like_digits(n=50):
    digits = np.zeros((n, 28, 28), np.uint8)
    digits[:, 6:22, 12:16] = 255  # a "1"
    return digits


@pytest.mark.parametrize("kind", [*DRAWN, "pair"])
def test_every_kind_looks_like_what_the_server_feeds_the_model(kind):
    images = make_negatives(kind, 40, seed=3, digits=mnist_like_digits())
    assert images.shape == (40, 28, 28) and images.dtype == np.uint8
    # As the preprocessing leaves it: ink peaks at full strength and the ink's longer
    # side is 20 px.
    assert (images.max(axis=(1, 2)) == 255).all()
    height, width = extents(images)
    assert np.all(np.maximum(height, width) >= 19) and np.all(np.maximum(height, width) <= 21)


def test_the_same_seed_gives_the_same_images_and_another_seed_others():
    first, again = make_negatives("scribble", 10, seed=5), make_negatives("scribble", 10, seed=5)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, make_negatives("scribble", 10, seed=6))


def test_a_pair_is_wider_than_one_digit():
    pairs = make_negatives("pair", 20, seed=1, digits=mnist_like_digits())
    height, width = extents(pairs)
    # Two "1"s side by side make a wide shape, where one "1" alone is tall and thin.
    assert np.all(width > height)


def test_held_out_kinds_are_never_trained_on():
    assert set(HELD_OUT) <= set(KINDS) and not set(HELD_OUT) & set(TRAINED)
    assert set(HELD_OUT) | set(TRAINED) == set(KINDS)


def stroke(start, end, width):
    image = Image.new("L", (28, 28))
    ImageDraw.Draw(image).line([start, end], fill=255, width=width)
    return np.asarray(image)


def test_no_drawn_non_digit_looks_like_a_one():
    one = np.zeros((28, 28), np.uint8)
    one[4:24, 12:16] = 255
    assert looks_like_a_one(one) and not looks_like_a_one(one.T)
    # A fat pen leaning right is a 1 too; lying down, it is not.
    assert looks_like_a_one(stroke((9, 24), (19, 4), width=6))
    assert not looks_like_a_one(stroke((4, 20), (24, 9), width=6))
    for kind in ("scribble", "doodle", "shape", "zigzag", "hatching"):
        assert not any(looks_like_a_one(image) for image in make_negatives(kind, 200, seed=4))


@pytest.mark.skipif(fashion_images() is None, reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_from_debian_trained_on_its_training_images_measured_on_its_test_ones():
    assert len(fashion_images("train")) == 60000 and len(fashion_images("test")) == 10000
    assert "fashion" in TRAINED
    clothes = make_negatives("fashion", 30, seed=0, part="train")
    assert clothes.shape == (30, 28, 28) and (clothes.max(axis=(1, 2)) == 255).all()
    # The measures draw from the test images: none of them is a training image.
    measured = make_negatives("fashion", 30, seed=0)
    assert not any((image == clothes).all(axis=(1, 2)).any() for image in measured)


def test_training_without_fashion_mnist_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(negatives, "FASHION", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        make_negatives("fashion", 5, part="train")
