"""The batch command on Ray Data gives the local engine's rows, row for row."""

import os

import numpy as np
import pytest

from serve.batch import main
from tests.support import mnist_sample, png_bytes, redraw

pytest.importorskip("ray")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mixed_tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("ray") / "scans"
    (root / "sub").mkdir(parents=True)
    images, _ = mnist_sample()
    rng = np.random.default_rng(3)
    for i in range(60):
        folder = root / "sub" if i % 3 == 0 else root
        (folder / f"{i:03d}.png").write_bytes(png_bytes(redraw(images[i], rng)))
    (root / "broken.png").write_bytes(b"not an image")
    (root / "empty.jpg").write_bytes(b"")
    (root / "dangling.png").symlink_to(root / "nowhere.png")
    os.mkfifo(root / "pipe.png")
    (root / "notes.txt").write_text("skipped")
    return root


@pytest.mark.parametrize("read", ["digit", "number"])
def test_ray_rows_equal_the_local_engines_row_for_row(mixed_tree, tmp_path, read):
    local, on_ray = tmp_path / "local.csv", tmp_path / "ray.csv"
    common = ["--quiet", "--batch-size", "16", "--read", read]
    assert main([str(mixed_tree), "-o", str(local), *common]) == 1  # broken files: 1
    assert (
        main([str(mixed_tree), "-o", str(on_ray), "--engine", "ray", "--workers", "2", *common])
        == 1
    )
    rows = local.read_text().splitlines()
    assert len(rows) == 1 + 64
    assert on_ray.read_text().splitlines() == rows
