"""benchmarks/results.json: every benchmark's figures, with where and when they were made.

Each script records its own part (``record(args.record, name=figures)``), with where and
when it was measured in the part's "measured"; the file keeps the other parts. A script
writes only when run with --record (`make bench` does): the file is committed, and a run
to try something out must leave it as it is. benchmarks/report.py makes
docs/performance.md from it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess

from serve.settings import ROOT

RESULTS = ROOT / "benchmarks" / "results.json"


def machine() -> dict:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": commit or None,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def load() -> dict:
    try:
        return json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        return {}


def add_record_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--record",
        action="store_true",
        help="write the figures into benchmarks/results.json (without it: print only)",
    )


def record(asked: bool, **parts) -> bool:
    """Write ``parts`` into results.json when ``asked`` (--record); True when written."""
    if not asked:
        print(f"(not written into {RESULTS.name}: run with --record for that)")
        return False
    results = load()
    measured = machine()
    for name, figures in parts.items():
        results[name] = {**figures, "measured": measured} if isinstance(figures, dict) else figures
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return True
