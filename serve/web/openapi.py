"""The OpenAPI 3 description of the API: serve/web/openapi.json, kept next to the code it
describes (and tested), with this server's limits and thresholds written in."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

# A few descriptions name a setting or a threshold in braces, as str.format does, e.g.
# "Body over {max_upload_bytes:,} bytes"; no other string in the document has braces.
DOCUMENT = json.loads(Path(__file__).with_name("openapi.json").read_text())


def openapi_document(settings, thresholds) -> dict:
    # The thresholds in force (the settings' when set, else the model's) win over the
    # settings' fields of the same names, which may be unset.
    values = dataclasses.asdict(settings) | dataclasses.asdict(thresholds)
    return filled_in(DOCUMENT, values)


def filled_in(node, values: dict):
    if isinstance(node, dict):
        return {key: filled_in(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [filled_in(item, values) for item in node]
    if isinstance(node, str):
        return node.format_map(values)
    return node
