"""`python -m serve.batch` over a mixed folder tree: every image has its row."""

import ast
import csv
import graphlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from serve.batch import cli
from serve.batch.cli import main
from serve.batch.files import find_images
from serve.batch.rows import COLUMNS, RowMaker
from serve.settings import Settings
from support.drawings import jpeg_bytes, mnist_sample, png_bytes, redraw, scan
from train import negatives

REPO = Path(__file__).resolve().parents[2]

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
    nonsense = root / "not_digits"
    nonsense.mkdir()
    for i in range(20):
        drawing = (negatives.scribble, negatives.letter)[i % 2](rng)
        (nonsense / f"{i:02d}.png").write_bytes(png_bytes(drawing))
        truth[f"digits/not_digits/{i:02d}.png"] = None
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
def test_every_image_gets_a_row_and_broken_ones_carry_an_error(tree, tmp_path, out_name, capsys):
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
    good = [r for r in rows if not r["error"] and truth[r["path"]] is not None]
    correct = sum(int(r["digit"]) == truth[r["path"]] for r in good)
    print(f"batch accuracy {correct / len(good):.2%} on {len(good)} readable images")
    assert correct / len(good) >= 0.98
    assert sum(r["verdict"] == "digit" for r in good) / len(good) >= 0.95
    refused = [r["verdict"] == "not_a_digit" for r in rows if truth.get(r["path"], 0) is None]
    assert len(refused) == 20 and sum(refused) >= 16
    for r in rows:
        assert r["verdict"] in (None, "", "digit", "unsure", "not_a_digit")
        assert (r["verdict"] in (None, "")) == bool(r["error"])
    for r in good:
        assert 0 <= float(r["is_digit"]) <= 1
        probs = [float(r[f"p{d}"]) for d in range(10)]
        assert sum(probs) == pytest.approx(1, abs=1e-4)
        assert float(r["prob"]) == probs[int(r["digit"])]


def test_summary_counts_predicted_failed_and_skipped(tree, tmp_path, capsys):
    root, truth = tree
    status = main([str(root), "-o", str(tmp_path / "out.csv")])
    err = capsys.readouterr().err
    assert status == 1
    said = re.search(r"predicted (\d+) \((\d+) digit, (\d+) unsure, (\d+) not_a_digit\)", err)
    assert said and int(said[1]) == len(truth) == sum(map(int, said.groups()[1:]))
    assert int(said[4]) >= 16  # the 20 drawings that are no digit
    assert "failed 3, skipped 2" in err
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


# --- usage errors: one line, exit status 2, before any work, no output file ---------------

# Each: the arguments after the image, given the work folder; what the line says.
USAGE_ERRORS = {
    "output cannot be written": (lambda d: ["-o", "/sys/x.csv"], "cannot write /sys/x.csv"),
    "output is a folder": (lambda d: ["-o", str(d / "out.csv")], "it is a folder"),
    "output under a file": (lambda d: ["-o", str(d / "file.txt" / "x.csv")], "is a file"),
    "batch size 0": (lambda d: ["--batch-size", "0"], "--batch-size must be 1 or more"),
    "batch size negative": (lambda d: ["--batch-size", "-3"], "--batch-size must be 1 or more"),
    "workers 0": (lambda d: ["--workers", "0"], "--workers must be 1 or more"),
    "workers negative": (lambda d: ["--workers", "-2"], "--workers must be 1 or more"),
    "model is no model": (lambda d: ["--model", str(d / "file.txt")], "cannot be loaded"),
    "model missing": (lambda d: ["--model", str(d / "none.onnx")], "not found"),
    "output .json": (lambda d: ["-o", str(d / "p.json")], "must end in .csv, .jsonl or .ndjson"),
    "output .tsv": (lambda d: ["-o", str(d / "p.tsv")], "must end in .csv, .jsonl or .ndjson"),
    "output without extension": (lambda d: ["-o", str(d / "p")], "must end in .csv"),
}


@pytest.mark.parametrize("case", USAGE_ERRORS)
def test_usage_error_is_one_line_exit_2_and_no_output(case, tmp_path, digit_png, capsys):
    work = tmp_path / "work"
    work.mkdir()
    (work / "file.txt").write_text("not a model, not a folder")
    (work / "out.csv").mkdir()  # a folder named like the output
    image = tmp_path / "one.png"
    image.write_bytes(digit_png)
    before = sorted(work.rglob("*"))
    arguments, said = USAGE_ERRORS[case]
    # The last of an option given twice counts: the case's own -o or --workers.
    argv = [str(image), "-o", str(work / "rows.csv"), "--workers", "1", *arguments(work)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and said in err, err
    assert "Traceback" not in err
    assert sorted(work.rglob("*")) == before  # nothing written, no folder made
    assert not Path("/sys/x.csv").exists()


def test_a_text_file_as_model_is_a_usage_error_for_the_real_command(tmp_path, digit_png):
    (tmp_path / "one.png").write_bytes(digit_png)
    (tmp_path / "model.onnx").write_text("not a model")
    argv = ["one.png", "-o", "rows.csv", "--model", "model.onnx"]
    done = subprocess.run(
        [sys.executable, "-m", "serve.batch", *argv],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: model model.onnx cannot be loaded as an ONNX model")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "rows.csv").exists()


def test_missing_folders_of_the_output_are_made_and_said(tmp_path, digit_png, capsys):
    (tmp_path / "one.png").write_bytes(digit_png)
    out = tmp_path / "new" / "sub" / "rows.csv"
    assert main([str(tmp_path / "one.png"), "-o", str(out), "--quiet"]) == 0
    assert len(read_rows(out)) == 1
    assert f"note: created the folder {out.parent} for the output" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["rows.csv", "rows.CSV", "rows.jsonl", "rows.ndjson"])
def test_the_format_follows_the_extension(name, tmp_path, digit_png):
    (tmp_path / "one.png").write_bytes(digit_png)
    out = tmp_path / name
    assert main([str(tmp_path / "one.png"), "-o", str(out), "--quiet"]) == 0
    lines = out.read_text().splitlines()
    if out.suffix.lower() == ".csv":
        assert lines[0] == ",".join(COLUMNS) and len(lines) == 2
    else:
        (row,) = map(json.loads, lines)
        assert list(row) == COLUMNS and row["path"].endswith("one.png")


# --- faults of the file system: every one gets its row, nothing hangs --------------------


@pytest.fixture(scope="module")
def digit_png():
    images, _ = mnist_sample()
    return png_bytes(Image.fromarray(images[0]))


@pytest.fixture(scope="module")
def maker():
    """What each worker process holds: the model, and rows made from files."""
    return RowMaker(Settings.from_environment().model_path)


@pytest.fixture
def deadline():
    """Fail, rather than hang the whole test run, if reading blocks (a named pipe)."""

    def expired(signum, frame):
        raise TimeoutError("the batch run hung")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def make_fifo(path, png):
    os.mkfifo(path)


def make_broken_link(path, png):
    path.symlink_to(path.parent / "missing.png")


def make_link_loop(path, png):
    path.symlink_to(path.parent / "other.png")
    (path.parent / "other.png").symlink_to(path)


def make_empty(path, png):
    path.write_bytes(b"")


FAULTS = {
    "fifo": (make_fifo, "not a regular file: it is a named pipe (FIFO), so it was not read"),
    "broken link": (make_broken_link, "broken symbolic link: the file it points to does not exist"),
    "link loop": (make_link_loop, "symbolic link loop: the link never leads to a file"),
    "empty": (make_empty, "the file is empty"),
}


def run_in_process(args, tmp_path):
    out = tmp_path / "out.csv"
    status = main([*map(str, args), "-o", str(out), "--quiet", "--workers", "1"])
    return status, {r["path"]: r for r in read_rows(out)}


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_in_a_folder_gets_a_row_with_a_clear_error(fault, tmp_path, digit_png, deadline):
    make, message = FAULTS[fault]
    root = tmp_path / "tree"
    root.mkdir()
    (root / "good.png").write_bytes(digit_png)
    make(root / "bad.png", digit_png)
    status, rows = run_in_process([root], tmp_path)
    assert status == 1
    assert rows["tree/bad.png"]["error"] == message
    assert rows["tree/bad.png"]["digit"] == ""
    assert rows["tree/good.png"]["error"] == "" and rows["tree/good.png"]["digit"] != ""
    if fault == "link loop":  # both links of the loop are images of the folder
        assert rows["tree/other.png"]["error"] == message


@pytest.mark.parametrize("fault", ["fifo", "broken link"])
def test_fault_named_on_the_command_line_gets_a_row(fault, tmp_path, digit_png, deadline):
    make, message = FAULTS[fault]
    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    good.write_bytes(digit_png)
    make(bad, digit_png)
    status, rows = run_in_process([good, bad], tmp_path)
    assert status == 1  # a row with its error, not a usage error (2)
    assert rows[bad.as_posix()]["error"] == message
    assert rows[good.as_posix()]["error"] == ""


def test_folder_named_like_an_image_is_walked_not_read(tmp_path, digit_png):
    root = tmp_path / "tree"
    (root / "x.png").mkdir(parents=True)
    (root / "x.png" / "inside.png").write_bytes(digit_png)
    status, rows = run_in_process([root], tmp_path)
    assert status == 0
    assert list(rows) == ["tree/x.png/inside.png"]


def test_link_to_a_parent_folder_is_not_followed(tmp_path, digit_png):
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "1.png").write_bytes(digit_png)
    (root / "sub" / "up").symlink_to(root, target_is_directory=True)  # a loop if followed
    images, skipped = find_images([str(root)])
    assert [shown for shown, _ in images] == ["tree/sub/1.png"]
    assert skipped == 0


def test_file_deleted_during_the_run_gets_a_row_and_the_run_goes_on(
    tmp_path, digit_png, monkeypatch
):
    root = tmp_path / "tree"
    root.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        (root / name).write_bytes(digit_png)

    def find_then_delete(paths):  # the walk saw b.png; it is gone when it is read
        found = find_images(paths)
        (root / "b.png").unlink()
        return found

    monkeypatch.setattr(cli, "find_images", find_then_delete)
    status, rows = run_in_process([root], tmp_path)
    assert status == 1
    assert list(rows) == ["tree/a.png", "tree/b.png", "tree/c.png"]
    assert rows["tree/b.png"]["error"] == (
        "the file is gone: it was deleted or moved after the folders were listed"
    )
    assert rows["tree/a.png"]["digit"] == rows["tree/c.png"]["digit"] != ""


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their permissions"
)
def test_file_without_read_permission_gets_a_row(tmp_path, digit_png):
    root = tmp_path / "tree"
    root.mkdir()
    (root / "good.png").write_bytes(digit_png)
    (root / "locked.png").write_bytes(digit_png)
    (root / "locked.png").chmod(0)
    status, rows = run_in_process([root], tmp_path)
    assert status == 1
    assert rows["tree/locked.png"]["error"] == "cannot read the file: permission denied"


def test_permission_denied_on_open_gets_a_row(tmp_path, digit_png, maker, monkeypatch):
    """The same as above, for any user: opening the file is refused."""
    locked = tmp_path / "locked.png"
    locked.write_bytes(digit_png)
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    assert maker.load(locked) == (None, [], "cannot read the file: permission denied")


def test_file_swapped_for_a_pipe_after_the_check_is_not_read(
    tmp_path, digit_png, maker, monkeypatch, deadline
):
    """A race: the path passes the stat check, then is a named pipe when it is opened.

    The open must not wait for a writer (O_NONBLOCK) and the pipe must not be read.
    """
    regular = tmp_path / "regular.png"
    regular.write_bytes(digit_png)
    pipe = tmp_path / "pipe.png"
    os.mkfifo(pipe)
    real_stat = os.stat
    monkeypatch.setattr(
        os,
        "stat",
        lambda path, *a, **k: real_stat(regular if Path(path) == pipe else path, *a, **k),
    )
    model_input, number, error = maker.load(pipe)
    assert model_input is None and number == []
    assert error == "not a regular file: it is a named pipe (FIFO), so it was not read"


def test_all_faults_in_one_tree_with_the_real_command(tmp_path, digit_png):
    root = tmp_path / "faults"
    (root / "good" / "x.png").mkdir(parents=True)
    (root / "good" / "0.png").write_bytes(digit_png)
    (root / "good" / "1.png").write_bytes(digit_png)
    (root / "good" / "x.png" / "2.png").write_bytes(digit_png)  # inside a folder "x.png"
    (root / "good" / "up").symlink_to(root, target_is_directory=True)
    os.mkfifo(root / "y.png")
    (root / "z.png").symlink_to(root / "missing.png")
    (root / "a.png").symlink_to(root / "b.png")
    (root / "b.png").symlink_to(root / "a.png")
    (root / "empty.png").write_bytes(b"")
    expected = {  # shown path -> its error
        "faults/good/0.png": "",
        "faults/good/1.png": "",
        "faults/good/x.png/2.png": "",
        "faults/y.png": FAULTS["fifo"][1],
        "faults/z.png": FAULTS["broken link"][1],
        "faults/a.png": FAULTS["link loop"][1],
        "faults/b.png": FAULTS["link loop"][1],
        "faults/empty.png": "the file is empty",
    }
    if os.geteuid() != 0:  # root could read it anyway
        (root / "locked.png").write_bytes(digit_png)
        (root / "locked.png").chmod(0)
        expected["faults/locked.png"] = "cannot read the file: permission denied"
    named_pipe, named_link = tmp_path / "named.png", tmp_path / "dangling.png"
    os.mkfifo(named_pipe)
    named_link.symlink_to(tmp_path / "nowhere.png")
    expected[named_pipe.as_posix()] = FAULTS["fifo"][1]
    expected[named_link.as_posix()] = FAULTS["broken link"][1]

    out = tmp_path / "out.csv"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "serve.batch",
            str(root),
            str(named_pipe),
            str(named_link),
            "-o",
            str(out),
            "--workers",
            "2",
            "--batch-size",
            "2",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    failed = len(expected) - 3
    assert "predicted 3 (" in done.stderr and f"failed {failed}, skipped 0" in done.stderr

    rows = read_rows(out)
    assert [r["path"] for r in rows] == sorted(expected)
    assert {r["path"]: r["error"] for r in rows} == expected
    for r in rows:
        assert (r["digit"] == "") == bool(r["error"])


def test_read_number_adds_number_and_count_columns(tmp_path):
    from train.drawn import draw_number

    images, labels = mnist_sample()
    rng = np.random.default_rng(8)
    folder = tmp_path / "numbers"
    folder.mkdir()
    truth = {}
    for i in range(6):
        picked = [3 * i, 3 * i + 1, 3 * i + 2][: 1 + i % 3]
        (folder / f"{i}.png").write_bytes(png_bytes(draw_number(images[picked], rng)))
        truth[f"numbers/{i}.png"] = "".join(str(labels[p]) for p in picked)
    (folder / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "numbers.csv"
    assert main([str(folder), "-o", str(out), "--quiet", "--read", "number"]) == 1
    rows = read_rows(out)
    assert list(rows[0]) == [*COLUMNS[:-1], "number", "count", "error"]
    by_path = {r["path"]: r for r in rows}
    assert by_path["numbers/broken.png"]["error"] and not by_path["numbers/broken.png"]["number"]
    read = [by_path[path]["number"] == number for path, number in truth.items()]
    assert sum(read) >= 5
    assert all(int(by_path[p]["count"]) == len(n) for p, n in truth.items() if by_path[p]["number"])


def test_a_number_the_reader_fails_on_is_said_in_the_row_not_left_blank(
    tmp_path, digit_png, monkeypatch
):
    (tmp_path / "digit.png").write_bytes(digit_png)
    maker = RowMaker(Settings.from_environment().model_path, read="number")
    (_, number, error) = maker.load(tmp_path / "digit.png")
    assert number[1] == 1 and error == ""

    def fails(image):
        raise ValueError("a bug in the number reader")

    monkeypatch.setattr(maker.reader, "number", fails)
    (row,) = maker.rows([("digit.png", tmp_path / "digit.png")])
    columns = [*COLUMNS[:-1], "number", "count", "error"]
    values = dict(zip(columns, row, strict=True))
    # The digit is still read; the number is missing, and the row says why.
    assert values["verdict"] == "digit" and values["number"] is None
    assert values["error"] == "number not read: ValueError: a bug in the number reader"


def test_a_row_with_an_error_counts_as_failed(tmp_path, digit_png, monkeypatch):
    (tmp_path / "digit.png").write_bytes(digit_png)
    real_rows = RowMaker.rows

    def with_an_error(self, files):
        return [[*values[:-1], "number not read: ValueError"] for values in real_rows(self, files)]

    monkeypatch.setattr(RowMaker, "rows", with_an_error)
    out = tmp_path / "out.csv"
    args = [str(tmp_path / "digit.png"), "-o", str(out), "--quiet", "--workers", "1"]
    assert main([*args, "--read", "number"]) == 1


def batch_imports(path: Path) -> set[str]:
    """The modules of serve.batch that the module at ``path`` imports, anywhere in it."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "serve.batch":
            names |= {f"serve.batch.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    return {name for name in names if name.split(".")[:2] == ["serve", "batch"]}


def test_the_batch_modules_import_one_way_only():
    """cli -> engines -> rows -> files: no module imports one that imports it back."""
    package = REPO / "serve" / "batch"
    imports = {
        "serve.batch" + ("" if path.stem == "__init__" else f".{path.stem}"): batch_imports(path)
        for path in package.glob("*.py")
    }
    assert "serve.batch.cli" in imports and "serve.batch.files" in imports
    order = list(graphlib.TopologicalSorter(imports).static_order())  # CycleError if not
    assert order.index("serve.batch.files") < order.index("serve.batch.rows")
    assert order.index("serve.batch.rows") < order.index("serve.batch.local")
    assert order.index("serve.batch.local") < order.index("serve.batch.cli")
    assert imports["serve.batch.files"] == set()
