"""docs/performance.md is made from benchmarks/results.json, with every figure it holds, and
the README quotes no figure that the generated pages do not say."""

import json
import re

import pytest

from serve.settings import ROOT
from support import performance as report
from support.results import RESULTS
from support.sizes import closure, installed_mb

MODEL_CARD = ROOT / "models" / "README.md"


def committed_results() -> dict:
    return json.loads(RESULTS.read_text())


def test_the_performance_page_is_the_one_results_json_makes():
    assert report.PAGE.read_text() == report.page(committed_results())


def test_every_figure_in_results_json_is_on_the_page():
    results = committed_results()
    page = report.page(results)
    figures = [
        (name, path, value) for name in results for path, value in report.leaves(results[name])
    ]
    assert len(figures) > 100
    for name, path, value in figures:
        assert report.figure(value) in page, f"{name} / {' / '.join(path)} = {value}"


def test_each_part_says_when_and_at_which_commit_it_was_measured():
    results = committed_results()
    page = report.page(results)
    for name, part in results.items():
        m = part["measured"]
        assert f"Measured {m['date'][:10]} at commit `{m['commit']}`" in page, name
    assert page.count("Measured ") >= len(results) - 1  # the cold starts share the comparison


def test_the_comparison_shows_both_designs_and_their_ratios():
    results = committed_results()
    comparison = results["baseline_vs_ours"]
    baseline, ours = comparison["baseline"], comparison["ours"]
    assert comparison["p50_ratio"] == round(
        baseline["one_client"]["p50_ms"] / ours["one_client"]["p50_ms"], 1
    )
    assert {"baseline", "ours"} <= set(results["cold_start_s"])
    page = report.page(results)
    row = next(line for line in page.splitlines() if line.startswith("| `/predict` p50, 1 client"))
    assert row.endswith(f"| {comparison['p50_ratio']:.1f}× |")


def test_a_part_the_report_does_not_know_is_shown_figure_by_figure():
    measured = {"date": "2030-01-02T03:04:05+00:00", "commit": "abc1234", "cpus": 8}
    results = {
        "new_benchmark": {"runs": [{"p50_ms": 12.5}, {"p50_ms": 7.25}], "measured": measured}
    }
    page = report.page(results)
    assert "## `new_benchmark`" in page
    assert "Measured 2030-01-02 at commit `abc1234` on 8 CPUs" in page
    assert "| runs / 1 / p50_ms | 12.5 |" in page and "| runs / 2 / p50_ms | 7.25 |" in page


def test_the_cold_starts_get_their_own_table_only_when_they_differ_from_the_comparison():
    results = committed_results()
    assert "## Cold start" not in report.page(results)
    results["cold_start_s"] = {**results["cold_start_s"], "ours": 123.456}
    assert "| cold start | 8.562 s | 123.456 s |" in report.page(results)


def test_write_makes_the_folder_and_the_page(tmp_path):
    path = tmp_path / "docs" / "performance.md"
    report.write(path, committed_results())
    assert path.read_text() == report.page(committed_results())


def test_figures_are_written_one_way():
    assert report.figure(20000) == "20,000"
    assert report.figure(1115.48) == "1,115.48"
    assert report.figure(92.0) == "92"
    assert report.figure(0.0223) == "0.0223"


def test_the_readme_links_the_generated_pages_and_quotes_only_their_figures():
    readme = (ROOT / "README.md").read_text()
    assert "docs/performance.md" in readme and "models/README.md" in readme
    assert "<!-- made by benchmarks/report.py" not in readme  # figures live on the page
    generated = report.PAGE.read_text() + MODEL_CARD.read_text()
    # A measured figure: a decimal with a unit (99.65%, 3.54 ms, 20.3×, 0.69 s), or any
    # number of images/s, requests/s or MB.
    quoted = re.findall(r"\b(\d[\d,]*\.\d+) ?(?=%|ms\b|×|s\b)", readme)
    quoted += re.findall(r"\b(\d[\d,]*(?:\.\d+)?) ?(?=images/s|requests/s|MB\b)", readme)
    for value in quoted:
        assert value in generated, f"the README quotes {value}, which no generated page says"


def test_the_serving_environment_size_leaves_the_test_tools_out():
    names = closure({"flask", "onnxruntime"})
    assert {"flask", "werkzeug", "onnxruntime", "numpy"} <= names
    assert "pytest" not in names and "tensorflow" not in names
    assert 50 < installed_mb(str(ROOT / "requirements-serve.txt")) < 400


def test_an_extra_asked_for_brings_its_own_requirements():
    pytest.importorskip("ray")
    assert "pyarrow" in closure({"ray[data]"}) and "pyarrow" not in closure({"ray"})
