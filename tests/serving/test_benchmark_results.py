"""Benchmarks write benchmarks/results.json only when run with --record, as `make bench` runs
them: the file is committed, and trying a benchmark must leave the tree clean."""

import re

import pytest

from support import results
from support.drawings import ROOT

BENCHMARKS = sorted((ROOT / "benchmarks").glob("*.py"))


@pytest.fixture
def results_file(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    path.write_text('{"kept": 1}\n')
    monkeypatch.setattr(results, "RESULTS", path)
    return path


def test_figures_are_written_only_when_asked(results_file):
    assert not results.record(False, part={"p50_ms": 1.0})
    assert results_file.read_text() == '{"kept": 1}\n'
    assert results.record(True, part={"p50_ms": 1.0})
    assert results.load()["part"]["p50_ms"] == 1.0 and results.load()["kept"] == 1


def recorders() -> set[str]:
    return {path.stem for path in BENCHMARKS if "record(" in path.read_text()}


@pytest.mark.parametrize("name", sorted(recorders()))
def test_each_benchmark_that_records_has_the_option(name):
    source = (ROOT / "benchmarks" / f"{name}.py").read_text()
    assert "add_record_option(parser)" in source
    assert re.search(r"\brecord\(\s*args\.record,", source)


def test_make_bench_records_every_benchmark_that_can():
    makefile = (ROOT / "Makefile").read_text()
    bench = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    runs = dict(re.findall(r"-m benchmarks\.(\w+)(.*)", bench))
    assert runs, bench
    for name, rest in runs.items():
        assert ("--record" in rest) == (name in recorders()), name
