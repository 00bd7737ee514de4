"""The README's performance table is made from benchmarks/results.json, as it says."""

import json

from benchmarks import report
from benchmarks.results import RESULTS
from benchmarks.sizes import closure, installed_mb
from serve.settings import ROOT


def test_the_readme_table_shows_the_figures_in_results_json():
    results = json.loads(RESULTS.read_text())
    readme = (ROOT / "README.md").read_text()
    made = readme.split(report.START, 1)[1].split(report.END, 1)[0].strip()
    assert made == report.table(results)
    comparison = results["baseline_vs_ours"]
    baseline, ours = comparison["baseline"], comparison["ours"]
    assert comparison["p50_ratio"] == round(
        baseline["one_client"]["p50_ms"] / ours["one_client"]["p50_ms"], 1
    )
    assert {"baseline", "ours"} <= set(results["cold_start_s"])


def test_the_serving_environment_size_leaves_the_test_tools_out():
    names = closure({"flask", "onnxruntime"})
    assert {"flask", "werkzeug", "onnxruntime", "numpy"} <= names
    assert "pytest" not in names and "tensorflow" not in names
    assert 50 < installed_mb(str(ROOT / "requirements-serve.txt")) < 400
