"""The batch command on Ray Data gives the local engine's rows, row for row."""

import pytest

from serve.batch.cli import main
from serve.batch.files import BucketFile
from serve.batch.rows import RowMaker
from serve.settings import Settings
from tests.serving.conftest import rows_of_the_bucket

pytest.importorskip("ray")
pytestmark = pytest.mark.slow


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


def test_without_address_ray_starts_its_own_even_where_a_cluster_is_named(
    mixed_tree, tmp_path, monkeypatch, capfd
):
    """RAY_ADDRESS names a cluster that is gone, as a stale /tmp/ray/ray_current_cluster
    would: a run without --address ignores both, and Ray says nothing is deprecated."""
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:9")  # nothing listens there
    local, on_ray = tmp_path / "local.csv", tmp_path / "ray.csv"
    assert main([str(mixed_tree), "-o", str(local), "--quiet"]) == 1
    argv = [str(mixed_tree), "-o", str(on_ray), "--engine", "ray", "--workers", "2", "--quiet"]
    assert main(argv) == 1  # the broken files, as locally
    assert on_ray.read_text() == local.read_text()
    assert "deprecated" not in capfd.readouterr().err.lower()


# --- a bucket: moto's S3 on this machine (conftest.py), read by pyarrow as any S3 bucket ---


def test_ray_reads_a_bucket_as_the_local_engine_reads_the_folder(mixed_tree, bucket, tmp_path):
    local, on_ray = tmp_path / "local.csv", tmp_path / "ray.csv"
    assert main([str(mixed_tree), "-o", str(local), "--quiet"]) == 1
    argv = ["s3://images/scans", "-o", str(on_ray), "--engine", "ray", "--workers", "2"]
    assert main([*argv, "--quiet"]) == 1  # the broken and the empty file
    rows = on_ray.read_text().splitlines()
    assert len(rows) == 1 + 62
    assert rows == rows_of_the_bucket(local.read_text().splitlines())


def test_a_file_gone_from_the_bucket_gets_its_row(bucket):
    gone = BucketFile("s3://images/scans", "images/scans/gone.png")
    maker = RowMaker(Settings.from_environment().model_path)
    assert maker.load(gone) == (
        None,
        [],
        "the file is gone: it was deleted or moved after the folders were listed",
    )


def test_a_missing_prefix_or_a_bucket_without_ray_is_a_usage_error(bucket, tmp_path, capsys):
    out = str(tmp_path / "out.csv")
    assert main(["s3://images/nothing-here", "-o", out, "--engine", "ray", "--quiet"]) == 2
    assert "no such file or folder: s3://images/nothing-here" in capsys.readouterr().err
    assert main(["s3://images/scans", "-o", out, "--quiet"]) == 2
    assert "read buckets with --engine ray" in capsys.readouterr().err
