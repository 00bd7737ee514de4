"""The installed size of a requirements file's packages and everything they depend on, in
the running environment (so test tools installed beside them are left out)."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(names: set[str]) -> set[str]:
    seen, todo = set(), list(names)
    while todo:
        name = canonical(todo.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for requirement in dist.requires or []:
            if "extra ==" not in requirement:  # optional extras are not installed for us
                todo.append(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0])
    return seen


def installed_mb(requirements: str) -> float:
    names = {
        re.split(r"[\s=<>!~\[]", line, maxsplit=1)[0]
        for line in Path(requirements).read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    total = 0
    for name in closure(names):
        for file in metadata.distribution(name).files or []:
            path = Path(file.locate())
            if path.is_file():
                total += path.stat().st_size
    return round(total / 2**20, 1)
