"""What the Dockerfile copies is self-sufficient and TensorFlow-free.

No Docker engine runs here, so the image is assembled by hand: the files named by the
Dockerfile's COPY lines go to a temporary /app, requirements-serve.txt goes into a fresh
virtual environment, and gunicorn is started from there exactly as the image's CMD does.
"""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from serve.settings import ROOT
from support.drawings import canvas_png, seven
from support.server import free_port, post_upload, request, wait_until_ready

pytestmark = pytest.mark.slow


def dockerfile_copies():
    """(sources, destination) of each COPY line (continuations joined)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        words = shlex.split(line)
        if words and words[0].upper() == "COPY":
            paths = [w for w in words[1:] if not w.startswith("--")]
            yield paths[:-1], paths[-1]


def dockerfile_cmd():
    line = next(
        text for text in (ROOT / "Dockerfile").read_text().splitlines() if text.startswith("CMD ")
    )
    return eval(line[4:])  # the JSON-array form


def assemble(app_dir: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for sources, dest in dockerfile_copies():
        for source in sources:
            src = ROOT / source
            target = app_dir / dest
            if src.is_dir():
                shutil.copytree(src, target, dirs_exist_ok=True, ignore=ignore)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target / src.name)


def get(port, path):
    status, _, body = request(port, "GET", path)
    return status, body


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    root = tmp_path_factory.mktemp("image")
    app_dir = root / "app"
    assemble(app_dir)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "-r", str(app_dir / "requirements-serve.txt")],
        check=True,
    )
    return app_dir, venv


@pytest.fixture(scope="module")
def server(image):
    app_dir, venv = image
    port = free_port()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(app_dir),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "2",
        "LOG_LEVEL": "INFO",
    }
    process = subprocess.Popen(
        dockerfile_cmd(),
        cwd=app_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until_ready(port, process, seconds=60)
    except RuntimeError as error:
        process.kill()
        pytest.fail(
            f"gunicorn from the assembled image: {error}; its output:\n{process.stdout.read()}"
        )
    yield port
    process.terminate()
    process.wait(10)


def test_image_contains_only_serving_files(image):
    app_dir, _ = image
    top = sorted(p.name for p in app_dir.iterdir())
    assert top == [
        "models",
        "requirements-postgres.txt",  # installed only with --build-arg POSTGRES=1
        "requirements-serve.txt",
        "serve",
        "static",
        "templates",
    ]
    assert sorted(p.name for p in (app_dir / "models").iterdir()) == ["mnist.json", "mnist.onnx"]


def test_image_environment_is_tensorflow_free_and_small(image):
    _, venv = image
    for module in ("tensorflow", "keras", "tf2onnx"):
        found = subprocess.run(
            [str(venv / "bin" / "python"), "-c", f"import {module}"], capture_output=True
        )
        assert found.returncode != 0, f"{module} is importable in the serving image"
    size = folder_mb(venv)
    print(f"serving virtual environment: {size:.0f} MB")
    assert size <= 250


def test_assembled_image_serves_the_api(server):
    port = server
    assert get(port, "/")[0] == 200
    assert get(port, "/static/vendor/chart.umd.min.js")[0] == 200
    status, _, answer = post_upload(port, canvas_png(seven))
    assert status == 200 and b'"digit":7' in answer.replace(b" ", b"")
    status, _, answer = post_upload(port, b"junk")
    assert status == 415 and b"error" in answer


def sevens_counted(port):
    status, text = get(port, "/metrics")
    assert status == 200 and b"digit_http_request_seconds_bucket" in text
    found = re.findall(rb'digit_predictions_total\{digit="7"\} ([\d.]+)', text)
    return float(found[0]) if found else 0.0


def test_metrics_add_up_across_workers(server):
    port = server
    before = sevens_counted(port)
    for _ in range(12):
        assert post_upload(port, canvas_png(seven))[0] == 200
    # Whichever of the two workers answers the scrape, it reports every worker's counts.
    assert [sevens_counted(port) - before for _ in range(4)] == [12.0] * 4


def test_kubernetes_example_matches_the_image():
    import yaml

    documents = list(yaml.safe_load_all((ROOT / "deploy" / "kubernetes.yaml").read_text()))
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    service = next(d for d in documents if d["kind"] == "Service")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    dockerfile = (ROOT / "Dockerfile").read_text()
    port = int(re.search(r"^EXPOSE (\d+)", dockerfile, re.M).group(1))
    assert container["ports"][0]["containerPort"] == port
    env = {e["name"]: e.get("value") or e.get("valueFrom") for e in container["env"]}
    assert int(env["PORT"]) == port
    # The replicas share one PostgreSQL for corrections, named by a Secret.
    assert env["CORRECTIONS_URL"]["secretKeyRef"]["key"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"].startswith("/v2/health/")
        assert container[probe]["httpGet"]["port"] == container["ports"][0]["name"]
    uid = int(re.search(r"--uid (\d+)", dockerfile).group(1))
    assert pod["securityContext"]["runAsUser"] == uid and pod["securityContext"]["runAsNonRoot"]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"]
