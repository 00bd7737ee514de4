"""`python -m serve.batch` over a mixed folder tree: every image has its row."""

import csv
import json

import numpy as np
import pytest
from PIL import Image

from serve.batch import COLUMNS, main
from tests.serving.drawings import jpeg_bytes, mnist_sample, png_bytes, redraw, scan

BROKEN = {"broken/empty.png", "broken/text.png", "broken/truncated.jpg"}


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """digits/ with canvases, MNIST-style PNGs, JPEG scans, nested folders, junk."""
    root = tmp_path_factory.mktemp("tree") / "digits"
    images, labels = mnist_sample()
    rng = np.random.default_rng(7)
    truth = {}
    for i in range(300):
        kind = ("canvas", "mnist", "scans/grey")[i % 3]
        folder = root / kind / f"batch{i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        digit = images[1000 + i]  # not the digits the drawn-digit test uses
        if kind == "canvas":
            name, data = f"{i:04d}.png", png_bytes(redraw(digit, rng, "transparent"))
        elif kind == "mnist":
            name, data = f"{i:04d}.png", png_bytes(Image.fromarray(digit))
        else:
            name, data = f"{i:04d}.jpg", jpeg_bytes(scan(digit, rng))
        (folder / name).write_bytes(data)
        truth[f"digits/{kind}/batch{i % 2}/{name}"] = int(labels[1000 + i])
    (root / "README.txt").write_text("not an image")
    (root / "notes.csv").write_text("a,b\n1,2\n")
    (root / "broken").mkdir()
    (root / "broken" / "empty.png").write_bytes(b"")
    (root / "broken" / "text.png").write_text("I am not a PNG")
    good = jpeg_bytes(scan(images[5], rng))
    (root / "broken" / "truncated.jpg").write_bytes(good[: len(good) // 3])
    return root, truth


def read_rows(path):
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines()]
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("out_name", ["predictions.csv", "predictions.jsonl"])
def test_every_image_gets_a_row_and_broken_ones_carry_an_error(tree, tmp_path, out_name,
                                                              capsys):
    root, truth = tree
    out = tmp_path / out_name
    status = main([str(root), "-o", str(out), "--quiet"])
    assert status == 1  # some images failed

    rows = read_rows(out)
    assert list(rows[0]) == COLUMNS
    paths = [r["path"] for r in rows]
    assert paths == sorted(paths)
    assert set(paths) == set(truth) | {f"digits/{b}" for b in BROKEN}

    failed = {r["path"] for r in rows if r["error"]}
    assert failed == {f"digits/{b}" for b in BROKEN}
    good = [r for r in rows if not r["error"]]
    correct = sum(int(r["digit"]) == truth[r["path"]] for r in good)
    print(f"batch accuracy {correct / len(good):.2%} on {len(good)} readable images")
    assert correct / len(good) >= 0.98
    for r in good:
        probs = [float(r[f"p{d}"]) for d in range(10)]
        assert sum(probs) == pytest.approx(1, abs=1e-4)
        assert float(r["prob"]) == probs[int(r["digit"])]


def test_summary_counts_predicted_failed_and_skipped(tree, tmp_path, capsys):
    root, truth = tree
    status = main([str(root), "-o", str(tmp_path / "out.csv")])
    err = capsys.readouterr().err
    assert status == 1
    assert f"predicted {len(truth)}, failed 3, skipped 2" in err
    assert "images/s" in err


def test_all_good_images_exit_zero_and_files_can_be_named(tree, tmp_path):
    root, truth = tree
    files = sorted((root / "mnist" / "batch0").iterdir())[:5]
    out = tmp_path / "few.csv"
    assert main([*map(str, files), "-o", str(out), "--quiet", "--workers", "1"]) == 0
    assert len(read_rows(out)) == 5


def test_missing_path_is_a_clear_error(tmp_path, capsys):
    assert main([str(tmp_path / "nowhere"), "-o", str(tmp_path / "x.csv")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_folder_without_images_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x")
    assert main([str(tmp_path / "docs"), "-o", str(tmp_path / "x.csv"), "--quiet"]) == 2
    assert "no image files found" in capsys.readouterr().err
