"""The server as `make serve` starts it: a bad setting or model stops it with one line,
and the metrics folder it made for itself is gone when it stops."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.drawings import ROOT
from support.server import running_server

GUNICORN = Path(sys.executable).parent / "gunicorn"


def start(tmp_path, **settings) -> subprocess.CompletedProcess:
    env = {**os.environ, "PORT": "0", "WORKERS": "1", "TMPDIR": str(tmp_path), **settings}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return subprocess.run(
        [str(GUNICORN), "--config", "serve/gunicorn_conf.py", "serve.web.app:create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=10,  # a server that started anyway would be stopped here, failing the test
    )


@pytest.mark.parametrize(
    "settings, says",
    [
        ({"MODEL_PATH": "models/missing.onnx"}, "model models/missing.onnx not found"),
        ({"MODEL_PATH": "README.md"}, "model README.md is not an ONNX model"),
        ({"WORKERS": "many"}, "WORKERS='many' is not a whole number"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL='loud' is not one of"),
    ],
)
def test_a_bad_setting_stops_the_start_with_one_line(tmp_path, settings, says):
    done = start(tmp_path, **settings)
    output = (done.stdout + done.stderr).strip()
    assert done.returncode != 0
    assert output.startswith(f"error: {says}") and len(output.splitlines()) == 1, output
    assert not list(tmp_path.glob("digit-metrics-*"))  # nothing left behind


@pytest.mark.slow
def test_the_metrics_folder_made_for_the_server_is_removed_when_it_stops(tmp_path):
    with running_server(WORKERS=1, PROMETHEUS_MULTIPROC_DIR="", TMPDIR=tmp_path):
        (made,) = tmp_path.glob("digit-metrics-*")
    assert not made.exists()


@pytest.mark.slow
def test_a_metrics_folder_given_by_the_operator_is_kept(tmp_path):
    given = tmp_path / "metrics"
    given.mkdir()
    with running_server(WORKERS=1, PROMETHEUS_MULTIPROC_DIR=given):
        pass
    assert given.is_dir() and any(given.iterdir())  # the workers' files stay with it
