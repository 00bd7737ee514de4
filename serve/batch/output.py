"""Writing the rows: CSV, or JSON Lines, chosen by the output file's extension."""

from __future__ import annotations

import csv
import json
from pathlib import Path

# The extension of -o names the format; any other is refused, so that `-o rows.json` or
# `-o rows.tsv` never gets a file whose content its name belies.
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def format_of(path: Path) -> str | None:
    """The format of the output ``path``, "csv" or "jsonl"; None for any other extension."""
    return FORMATS.get(path.suffix.lower())


class RowWriter:
    """Writes rows of ``columns`` to ``stream``: CSV (a header first, None as an empty
    field) or, for .jsonl and .ndjson, one JSON object a line."""

    def __init__(self, stream, path: Path, columns: list[str]):
        self.jsonl = format_of(path) == "jsonl"
        self.stream = stream
        self.columns = columns
        if not self.jsonl:
            self.csv = csv.writer(stream)
            self.csv.writerow(columns)

    def write(self, values: list) -> None:
        if self.jsonl:
            self.stream.write(json.dumps(dict(zip(self.columns, values, strict=True))) + "\n")
        else:
            self.csv.writerow(["" if value is None else value for value in values])
