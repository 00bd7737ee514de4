"""docs/performance.md, made from benchmarks/results.json (``python -m benchmarks.report``
writes it; the tests check that the committed page is what the file makes).

Every figure the file holds goes into the page, in one table per part, each under a line
that says when, at which commit and on what machine it was measured (the part's own
"measured"). A part this script does not know is shown as a plain list of its figures, so
a new benchmark's figures are never left out.
"""

from __future__ import annotations

import sys
from pathlib import Path

from serve.settings import ROOT
from support.results import load

PAGE = ROOT / "docs" / "performance.md"

# The script that records each part, for the "measured" line.
SCRIPTS = {
    "baseline_vs_ours": "benchmarks.compare_baseline",
    "cold_start_s": "benchmarks.compare_baseline",
    "sweep": "benchmarks.sweep",
    "sweep_confirmation": "benchmarks.sweep",
    "batch": "benchmarks.batch_throughput",
    "v2_infer": "benchmarks.v2_latency",
}
FOLDERS = {"28x28": "28×28 MNIST-style PNGs", "280x280": "280×280 canvas PNGs"}
PRINTED_ONLY = (  # scripts whose figures are printed, not recorded in results.json
    "serve_latency",
    "robustness",
    "soak",
    "honest_answers",
    "read_numbers",
)

INTRO = """\
# Performance

Made by `benchmarks/report.py` from `benchmarks/results.json`; do not edit it by hand.
`make bench` runs the benchmarks, which record their figures in `results.json`, and
rewrites this page (run it on a quiet machine: the figures move with the machine's load).
Each part below names when, at which commit and on what machine it was measured.

"The baseline" is the original design, TensorFlow inside Flask: one process, Flask's own
threaded server, `model.predict` on every request, rebuilt with the same weights,
calibration and preprocessing in `benchmarks/baseline_app.py`. How honest the model's
answers are (accuracy, calibration, verdicts on digits and non-digits) is in the model
card, [models/README.md](../models/README.md)."""


def figure(value) -> str:
    """One number as every table writes it (and as the tests look for it)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,g}"


def measured_line(part: dict, script: str | None) -> str:
    m = part.get("measured")
    if not m:
        return "When and where these figures were measured was not recorded."
    by = f" by `python -m {script}`" if script else ""
    return (
        f"Measured {str(m.get('date'))[:10]} at commit `{m.get('commit')}` on {m.get('cpus')} "
        f"CPUs ({m.get('system')}, {m.get('machine')}, Python {m.get('python')}){by}."
    )


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}×" if b else "–"


def comparison(c: dict) -> list[str]:
    base, ours = c["baseline"], c["ours"]
    lines = [
        "| | the baseline: TensorFlow in Flask | this server: gunicorn + onnxruntime | ratio |",
        "|---|---|---|---|",
    ]
    for label, group, key in (
        ("`/predict` p50, 1 client", "one_client", "p50_ms"),
        ("`/predict` p95, 1 client", "one_client", "p95_ms"),
        ("`/predict` p50, 16 clients", "sixteen_clients", "p50_ms"),
        ("`/predict` p95, 16 clients", "sixteen_clients", "p95_ms"),
    ):
        a, b = base[group][key], ours[group][key]
        lines.append(f"| {label} | {figure(a)} ms | {figure(b)} ms | {ratio(a, b)} |")
    a, b = base["sixteen_clients"]["requests_per_s"], ours["sixteen_clients"]["requests_per_s"]
    lines.append(f"| requests/s, 16 clients | {figure(a)} | {figure(b)} | {ratio(b, a)} |")
    a, b = base["sixteen_clients"].get("errors"), ours["sixteen_clients"].get("errors")
    lines.append(f"| errors, 16 clients | {figure(a)} | {figure(b)} | |")
    for label, a, b, unit in (
        (
            "cold start (process start → first `/predict` answered)",
            base["cold_start_s"],
            ours["cold_start_s"],
            "s",
        ),
        ("import time of the app's modules", c["import_s"]["baseline"], c["import_s"]["ours"], "s"),
        ("memory per serving process (RSS)", base["worker_rss_mb"], ours["worker_rss_mb"], "MB"),
        (
            "environment (installed packages)",
            c["environment_mb"]["baseline"],
            c["environment_mb"]["ours"],
            "MB",
        ),
    ):
        lines.append(f"| {label} | {figure(a)} {unit} | {figure(b)} {unit} | {ratio(a, b)} |")
    lines.append(
        f"| memory of every process of the server (RSS), MB | {processes(base)} "
        f"| {processes(ours)} | |"
    )
    lines += [
        "",
        "Cold start counts the whole server (ours: gunicorn's master and its workers, each "
        "importing the app and opening its onnxruntime session). The environment is what "
        "each requirements file installs, test tools left out (`benchmarks/sizes.py`).",
    ]
    return lines


def processes(side: dict) -> str:
    return ", ".join(figure(mb) for mb in side.get("rss_mb", {}).values())


def cold_start(part: dict) -> list[str]:
    return [
        "| | the baseline | this server |",
        "|---|---|---|",
        f"| cold start | {figure(part['baseline'])} s | {figure(part['ours'])} s |",
    ]


SWEEP_HEADER = [
    "| `WORKERS` | `CPU_THREADS` | `ORT_THREADS` | requests/s | p50 ms | p95 ms | errors |",
    "|---|---|---|---|---|---|---|",
]


def sweep(part: dict) -> list[str]:
    return [
        f"The real server, started as `make serve` starts it, under {figure(part['clients'])} "
        f"clients posting canvases for {figure(part['seconds'])} s per run; one run per row.",
        "",
        *SWEEP_HEADER,
        *(sweep_row(row) for row in part["rows"]),
        "",
        "The most requests/s:",
        "",
        *SWEEP_HEADER,
        sweep_row(part["best"]),
    ]


def sweep_row(row: dict) -> str:
    keys = ("workers", "cpu_threads", "ort_threads", "requests_per_s", "p50_ms", "p95_ms")
    return "| " + " | ".join(figure(row[k]) for k in (*keys, "errors")) + " |"


def batch(part: dict) -> list[str]:
    lines = [
        "`python -m serve.batch` in a fresh process on a folder of images.",
        "",
        "| folder | workers | images | images/s, as the command reports | "
        "images/s, wall time with start-up |",
        "|---|---|---|---|---|",
    ]
    for name, run in part["throughput"].items():
        folder, _, workers = name.partition(", ")
        workers = workers.removesuffix(" workers")
        lines.append(
            f"| {FOLDERS.get(folder, folder)} | {workers} | {figure(run['images'])} | "
            f"{figure(run['images_per_s_reported'])} | {figure(run['images_per_s_wall'])} |"
        )
    split = part.get("cpu_split")
    if split:
        lines += [
            "",
            "CPU time per 28×28 image: the parent process (finding files, writing rows) "
            f"{figure(split['parent_ms_per_image'])} ms, the workers (decoding, "
            f"preprocessing, the model, making rows) {figure(split['workers_ms_per_image'])} "
            f"ms; the parent's share {figure(split['parent_share'])} "
            f"({split['parent_share']:.1%}).",
        ]
    return lines


def v2_infer(part: dict) -> list[str]:
    lines = [
        "`POST /v2/models/mnist/infer` on the real server through `tritonclient`'s HTTP "
        "client (JSON tensors, and binary ones where measured), the whole call timed.",
        "",
        "| tensors | batch | p50 ms | p95 ms |",
        "|---|---|---|---|",
    ]
    for name, times in part.items():
        if name != "measured":
            tensors, _, size = name.rpartition("batch_")
            kind = "binary" if tensors else "JSON"
            p50, p95 = figure(times["p50_ms"]), figure(times["p95_ms"])
            lines.append(f"| {kind} | {size} | {p50} | {p95} |")
    return lines


def plain(part) -> list[str]:
    """Any other part: every figure, by where it lies in the part."""
    lines = ["| figure | value |", "|---|---|"]
    for path, value in leaves(part):
        lines.append(f"| {' / '.join(path)} | {figure(value)} |")
    return lines


def leaves(part, path=()):
    """(path, value) of every figure in a part, its "measured" left out."""
    if isinstance(part, dict):
        for key, value in part.items():
            if key != "measured":
                yield from leaves(value, (*path, str(key)))
    elif isinstance(part, list):
        for i, value in enumerate(part):
            yield from leaves(value, (*path, str(i + 1)))
    else:
        yield path, part


SECTIONS = {  # part -> (heading, table maker)
    "baseline_vs_ours": ("The baseline against this server", comparison),
    "cold_start_s": ("Cold start", cold_start),
    "sweep": ("Workers and threads: the sweep", sweep),
    "sweep_confirmation": ("Workers and threads: the leading runs again", sweep),
    "batch": ("The batch command", batch),
    "v2_infer": ("Open Inference Protocol: infer", v2_infer),
}


def page(results: dict) -> str:
    parts = [INTRO]
    ordered = [name for name in SECTIONS if name in results and not repeated(results, name)]
    ordered += [name for name in results if name not in SECTIONS]
    for name in ordered:
        part = results[name]
        heading, make = SECTIONS.get(name, (f"`{name}`", plain))
        lines = [f"## {heading}", "", measured_line(part, SCRIPTS.get(name)), ""]
        parts.append("\n".join(lines + make(part)))
    printed = ", ".join(f"`benchmarks/{name}.py`" for name in PRINTED_ONLY)
    parts.append(
        "## Printed, not recorded\n\n"
        f"{printed} print their figures when run and record none here; the model card "
        "holds the honest answers of the shipped model."
    )
    return "\n\n".join(parts) + "\n"


def repeated(results: dict, name: str) -> bool:
    """compare_baseline records the cold starts twice, on their own and in the comparison;
    the comparison's table shows them, so their own part is shown only when it differs."""
    if name != "cold_start_s" or "baseline_vs_ours" not in results:
        return False
    c = results["baseline_vs_ours"]
    shown = {"baseline": c["baseline"]["cold_start_s"], "ours": c["ours"]["cold_start_s"]}
    return dict(leaves(results[name])) == {(k,): v for k, v in shown.items()}


def write(path: Path, results: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page(results))


def main() -> int:
    results = load()
    if not results:
        print("benchmarks/results.json is missing or empty: run `make bench`", file=sys.stderr)
        return 1
    write(PAGE, results)
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0
