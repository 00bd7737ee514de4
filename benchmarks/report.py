"""Write the README's performance table from benchmarks/results.json.

    .venv-serve/bin/python -m benchmarks.report

Replaces what lies between the README's two "benchmarks/report.py" marker comments, so
the table always shows the file's figures and where they were measured.
"""

from __future__ import annotations

import sys

from benchmarks.results import load
from serve.settings import ROOT

README = ROOT / "README.md"
START = "<!-- made by benchmarks/report.py from benchmarks/results.json: start -->"
END = "<!-- made by benchmarks/report.py from benchmarks/results.json: end -->"


def table(results: dict) -> str:
    c = results["baseline_vs_ours"]
    m = c["measured"]
    base, ours = c["baseline"], c["ours"]
    rows = [
        ("`/predict` p50, 1 client", "one_client", "p50_ms", "ms"),
        ("`/predict` p95, 1 client", "one_client", "p95_ms", "ms"),
        ("`/predict` p50, 16 clients", "sixteen_clients", "p50_ms", "ms"),
        ("`/predict` p95, 16 clients", "sixteen_clients", "p95_ms", "ms"),
        ("requests/s, 16 clients", "sixteen_clients", "requests_per_s", ""),
    ]
    lines = [
        f"Measured {m['date'][:10]} at commit `{m['commit']}` on {m['cpus']} CPUs "
        f"({m['system']}, Python {m['python']}) by `make bench`:",
        "",
        "| | original: TensorFlow in Flask | ours: gunicorn + onnxruntime | ratio |",
        "|---|---|---|---|",
    ]
    for label, group, key, unit in rows:
        a, b = base[group][key], ours[group][key]
        ratio = a / b if key != "requests_per_s" else b / a
        lines.append(f"| {label} | {a:g} {unit} | {b:g} {unit} | {ratio:.1f}× |")
    lines += [
        f"| cold start (process start → first `/predict` answered) | {base['cold_start_s']:.2f} s "
        f"| {ours['cold_start_s']:.2f} s | {base['cold_start_s'] / ours['cold_start_s']:.1f}× |",
        f"| import time of the app's modules | {c['import_s']['baseline']:.2f} s | "
        f"{c['import_s']['ours']:.2f} s | "
        f"{c['import_s']['baseline'] / c['import_s']['ours']:.1f}× |",
        f"| memory per serving process (RSS) | {base['worker_rss_mb']:g} MB | "
        f"{ours['worker_rss_mb']:g} MB | {base['worker_rss_mb'] / ours['worker_rss_mb']:.1f}× |",
        f"| environment (installed packages) | {c['environment_mb']['baseline']:g} MB | "
        f"{c['environment_mb']['ours']:g} MB | "
        f"{c['environment_mb']['baseline'] / c['environment_mb']['ours']:.1f}× |",
    ]
    return "\n".join(lines)


def main() -> int:
    text = README.read_text()
    if START not in text or END not in text:
        print(f"README.md has no {START!r} ... {END!r} markers", file=sys.stderr)
        return 1
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    README.write_text(f"{before}{START}\n{table(load())}\n{END}{after}")
    print(table(load()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
