"""How the project's rooms depend on each other, read from the import statements.

No two modules import each other, directly or through others; tests and benchmarks share
what they both need through support/ and never import each other; training and export
take nothing from the server's settings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("serve", "train", "export", "support", "benchmarks", "tests")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if ".venv" not in path.parts
    }


def imports_of(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The project's modules that ``path`` imports, at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from .x import y
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            # "from serve import batch" imports serve.batch; "import serve.core.x" imports it.
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, name, modules) for name, path in modules.items()}


def cycle_from(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules along it, or None (depth-first search)."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = "open"
        for other in sorted(graph.get(name, ())):
            # A package's __init__ importing its own submodules is no cycle of design.
            if name and other.startswith(name + "."):
                continue
            if state.get(other) == "open":
                return path[path.index(other) :] + [other]
            if other not in state and (found := visit(other, [*path, other])):
                return found
        state[name] = "done"
        return None

    for name in sorted(graph):
        if name not in state and (found := visit(name, [name])):
            return found
    return None


def test_no_module_imports_one_that_imports_it_back(graph):
    assert cycle_from(graph) is None, " -> ".join(cycle_from(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert cycle_from({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_from({"a": {"b"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize(
    "room, never",
    [
        ("tests", "benchmarks"),
        ("benchmarks", "tests"),
        ("support", "tests"),
        ("support", "benchmarks"),
        ("serve", "train"),
        ("serve", "export"),
        ("serve", "support"),
        ("train", "serve.settings"),
        ("export", "serve.settings"),
        ("serve.core", "serve.web"),
        ("serve.core", "serve.batch"),
    ],
)
def test_rooms_do_not_lean_on_each_other(graph, room, never):
    leaning = sorted(
        f"{name} -> {other}"
        for name, others in graph.items()
        if name == room or name.startswith(room + ".")
        for other in others
        if other == never or other.startswith(never + ".")
    )
    assert not leaning
