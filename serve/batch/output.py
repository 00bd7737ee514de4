"""Writing the rows: CSV, or JSON Lines, chosen by the output file's extension."""

from __future__ import annotations

import csv
import json
from pathlib import Path


class RowWriter:
    """Writes rows of ``columns`` to ``stream``: CSV (a header first, None as an empty
    field) or, for .jsonl, .ndjson and .json, one JSON object a line."""

    def __init__(self, stream, path: Path, columns: list[str]):
        self.jsonl = path.suffix.lower() in (".jsonl", ".ndjson", ".json")
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
