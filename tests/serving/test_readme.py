"""The README's API examples, run as written against a real server started as `make serve`
starts it: each `$ curl` line of a ```sh block, from the repository root, answers 200 with
the fields shown under it, and each ```python block runs without error. The server listens
on a free port, put in place of the README's 5000."""

import json
import re
import shutil
import subprocess
import sys

import pytest

from support.drawings import ROOT
from support.server import running_server

pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text()
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README) if lang == language]


def curl_examples() -> list[tuple[str, str]]:
    """Each `$ curl ...` line of the shell blocks, with the answer shown under it."""
    examples = []
    for block in blocks("sh"):
        for command in re.split(r"^\$ ", block, flags=re.M)[1:]:
            line, _, shown = command.partition("\n")
            if line.startswith("curl "):
                examples.append((line, shown))
    return examples


CURLS = curl_examples()
PYTHONS = blocks("python")


def test_the_readme_has_examples_to_run():
    assert len(CURLS) >= 2 and len(PYTHONS) >= 1


@pytest.fixture(scope="module")
def port():
    with running_server(WORKERS=1) as server:
        yield server.port


def on_port(text: str, port: int) -> str:
    return text.replace("127.0.0.1:5000", f"127.0.0.1:{port}")


def keys(value) -> set[str]:
    """Every key of a JSON value, at any depth."""
    if isinstance(value, dict):
        return set(value).union(*(keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value))
    return set()


def shown_values(shown: str) -> dict:
    """The first shown value of each key, where it is whole: a string, an integer or null
    (floats and "..." are left out: they are illustrations, not promises)."""
    values = {}
    for key, literal in re.findall(r'"(\w+)": ("[^"]*"|-?\d+(?=[,}\]])|null)', shown):
        values.setdefault(key, json.loads(literal))
    return values


@pytest.mark.parametrize("command, shown", CURLS, ids=[c for c, _ in CURLS])
def test_a_curl_example_answers_as_shown(port, command, shown):
    if not shutil.which("curl"):
        pytest.skip("curl is not installed")
    # As written, plus the status on a last line of its own.
    run = subprocess.run(
        on_port(command, port) + " --silent --show-error --write-out '\\n%{http_code}'",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    body, _, status = run.stdout.rpartition("\n")
    assert status == "200", body
    answer = json.loads(body)
    assert set(re.findall(r'"(\w+)":', shown)) <= keys(answer)
    for key, value in shown_values(shown).items():
        if key in answer and not isinstance(answer[key], (dict, list)):
            assert answer[key] == value, key


@pytest.mark.parametrize("code", PYTHONS, ids=[f"python-{i}" for i in range(len(PYTHONS))])
def test_a_python_example_runs(port, code):
    run = subprocess.run(
        [sys.executable, "-c", on_port(code, port)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
