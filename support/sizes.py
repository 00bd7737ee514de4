"""The installed size of a requirements file's packages and everything they depend on, in
the running environment (so test tools installed beside them are left out)."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(names: set[str]) -> set[str]:
    """The distributions ``names`` need (each a name, or a requirement with extras such as
    "ray[data]"), themselves included; extras only where asked for."""
    seen, todo = set(), [Requirement(name) for name in names]
    while todo:
        wanted = todo.pop()
        name = canonical(wanted.name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        extras = {(name, extra) for extra in wanted.extras}
        if name in seen and extras <= seen:
            continue
        seen |= {name} | extras
        for line in dist.requires or []:
            requirement = Requirement(line)
            if needed(requirement, wanted.extras):
                todo.append(requirement)
    return {entry for entry in seen if isinstance(entry, str)}


def needed(requirement: Requirement, extras: set[str]) -> bool:
    """Whether a distribution's requirement applies here, given the extras asked of it."""
    marker = requirement.marker
    if marker is None:
        return True
    if "extra" not in str(marker):
        return marker.evaluate({"extra": ""})
    return any(marker.evaluate({"extra": extra}) for extra in extras)


def requirements_of(path: str) -> set[str]:
    return {
        re.split(r"[\s=<>!~]", line.split("#")[0].strip(), maxsplit=1)[0]
        for line in Path(path).read_text().splitlines()
        if line.split("#")[0].strip()
    }


def size_mb(names: set[str]) -> float:
    total = 0
    for name in names:
        for file in metadata.distribution(name).files or []:
            path = Path(file.locate())
            if path.is_file():
                total += path.stat().st_size
    return round(total / 2**20, 1)


def installed_mb(requirements: str, beside: str | None = None) -> float:
    """The installed size of a requirements file's closure; with ``beside``, only what it
    adds to that file's closure."""
    names = closure(requirements_of(requirements))
    if beside:
        names -= closure(requirements_of(beside))
    return size_mb(names)
