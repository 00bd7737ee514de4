"""The batch command on a Ray cluster whose node does not have the project.

The head runs as root in mount and network namespaces of its own: a tmpfs hides the
checkout from it (the virtual environment is bind-mounted elsewhere first, so Ray still
runs), and only its own loopback interface exists, so it listens on 127.0.0.1 and nothing
else can reach it. The command runs from the checkout, inside that network namespace only
(nsenter), as a driver on the head's machine: the serving code and the model reach the
actors only as the driver ships them. The images lie outside the checkout, where both see
them, as on a shared volume. A bucket is a moto S3 server in the head's network namespace,
which the actors reach with their node's environment, as a cluster reaches its own S3.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from serve.batch.cli import main
from support.drawings import ROOT
from tests.serving.conftest import rows_of_the_bucket

pytest.importorskip("ray")
pytestmark = pytest.mark.slow

PORT = 6379  # Ray's own; free in the head's network namespace, whatever runs beside it
ADDRESS = f"127.0.0.1:{PORT}"
TOOLS = ("unshare", "nsenter", "ip")
S3_PORT = 5555  # free for the same reason
# Where the head's nodes and its drivers find S3: known before the head starts, since its
# workers inherit the environment it starts with.
S3_ENV = {
    "AWS_ENDPOINT_URL": f"http://127.0.0.1:{S3_PORT}",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def in_namespace(net: str) -> list[int]:
    """The processes whose network namespace is ``net``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "net") == net:
                    found.append(int(entry.name))
            except OSError:
                continue  # gone meanwhile
    return found


@pytest.fixture(scope="module")
def head():
    """A Ray head that cannot see the checkout: (the command line prefix that runs a
    process in its network namespace, the environment a driver needs)."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the head gets mount and network namespaces of its own")
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (util-linux, iproute2)")
    probe = subprocess.run(["unshare", "--mount", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:  # a container without the right to make namespaces
        pytest.skip(f"cannot make namespaces here: {probe.stderr.strip()}")
    # A short path: Ray's Unix sockets live under --temp-dir, and a socket's path is short.
    place = Path(tempfile.mkdtemp(prefix="rayhead", dir="/tmp"))
    venv = place / "venv"
    venv.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    # Ray's token authentication, as a cluster should have it; a token of this test's own.
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    env.update(S3_ENV)  # for the bucket of the `cluster_bucket` fixture
    # SIGTERM stops the head at once, instead of draining the node first.
    head_env = {**env, "RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S": "0"}
    script = [
        "set -e",
        "ip link set lo up",
        f"mount --bind {sys.prefix} {venv}",
        f"mount -t tmpfs tmpfs {ROOT}",
        "cd /",  # a working folder inside the checkout would still show it
        # The venv's own python: its console scripts name the hidden checkout's.
        f"exec {venv}/bin/python -m ray.scripts.scripts start --head --block --port {PORT}"
        f" --node-ip-address 127.0.0.1 --num-cpus 2 --include-dashboard false"
        f" --disable-usage-stats --temp-dir {place}/ray",
    ]
    log = place / "head.log"
    with open(log, "wb") as stream:
        process = subprocess.Popen(
            ["unshare", "--mount", "--net", "--propagation", "private"]
            + ["sh", "-c", "\n".join(script)],
            cwd=place,
            env=head_env,
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    net = None  # the head's network namespace, once it surely has its own
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Ray head did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        net = os.readlink(f"/proc/{process.pid}/ns/net")
        assert net != os.readlink("/proc/self/ns/net")
        yield ["nsenter", f"--net=/proc/{process.pid}/ns/net"], env
    finally:
        process.terminate()  # ray start stops what it started
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        if net is not None and net != os.readlink("/proc/self/ns/net"):
            # Whatever is left in the head's own namespace is the head's: workers and
            # detached actors run in sessions of their own, out of its process group.
            deadline = time.monotonic() + 30
            while (left := in_namespace(net)) and time.monotonic() < deadline:
                for pid in left:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                time.sleep(0.2)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        shutil.rmtree(place, ignore_errors=True)
        assert net is None or not in_namespace(net), "processes of the Ray head are left"


def driver(head, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python ARGS` from the checkout in the head's network namespace, as a user on the
    head's machine runs it."""
    prefix, head_env = head
    return subprocess.run(
        [*prefix, sys.executable, *args],
        cwd=ROOT,
        env=head_env if env is None else env,
        capture_output=True,
        text=True,
        timeout=300,
    )


FILL_THE_BUCKET = f"""
import socket, sys, time
from pathlib import Path
import boto3
from tests.serving.conftest import fill_bucket

deadline = time.monotonic() + 60
while True:  # the server has just been started
    try:
        socket.create_connection(("127.0.0.1", {S3_PORT}), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
fill_bucket(boto3.client("s3"), Path(sys.argv[1]))
"""


@pytest.fixture
def cluster_bucket(head, mixed_tree, tmp_path):
    """s3://images/scans holding the mixed tree's regular files, served by moto inside the
    head's network namespace: conftest's `bucket` serves pytest's, which the head cannot
    reach."""
    pytest.importorskip("moto.server")
    pytest.importorskip("boto3")
    prefix, env = head
    log = tmp_path / "moto.log"
    with open(log, "wb") as stream:
        server = subprocess.Popen(
            [*prefix, sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(S3_PORT)],
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        done = driver(head, "-c", FILL_THE_BUCKET, str(mixed_tree))
        assert done.returncode == 0, f"{done.stderr[-3000:]}\n{log.read_text()[-3000:]}"
        yield
    finally:
        # Stopped before the head (which this fixture needs), whose sweep of its namespace
        # would also end a server left behind.
        server.kill()  # nsenter execs the server: this is its process
        server.wait(timeout=30)


CAN_IMPORT = f"""
import json, os, ray
ray.init(address={ADDRESS!r}, log_to_driver=False)

@ray.remote
def on_the_node():
    import importlib.util
    return {{"serve": importlib.util.find_spec("serve") is not None,
             "checkout": sorted(os.listdir({str(ROOT)!r}))}}

print(json.dumps(ray.get(on_the_node.remote())))
"""


def test_the_head_cannot_see_the_checkout(head):
    """A task of a driver in the checkout (whose folder Ray adds to its workers' path)
    finds no ``serve`` and an empty checkout on the head."""
    done = driver(head, "-c", CAN_IMPORT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"serve": False, "checkout": []}


@pytest.mark.parametrize("read", ["digit", "number"])
def test_rows_on_the_cluster_equal_the_local_engines(head, mixed_tree, tmp_path, read):
    local, on_ray = tmp_path / "local.csv", tmp_path / "ray.csv"
    common = ["--quiet", "--batch-size", "16", "--read", read]
    assert main([str(mixed_tree), "-o", str(local), *common]) == 1  # broken files: 1
    argv = [str(mixed_tree), "-o", str(on_ray), "--engine", "ray", "--address", ADDRESS]
    done = driver(head, "-m", "serve.batch", *argv, *common)
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    rows = local.read_text().splitlines()
    assert len(rows) == 1 + 64
    assert on_ray.read_text().splitlines() == rows


def test_the_cluster_reads_a_bucket_as_the_local_engine_reads_the_folder(
    head, cluster_bucket, mixed_tree, tmp_path
):
    """The driver lists the bucket; the actors read its files with their node's S3."""
    local, on_ray = tmp_path / "local.csv", tmp_path / "ray.csv"
    assert main([str(mixed_tree), "-o", str(local), "--quiet"]) == 1
    argv = ["s3://images/scans", "-o", str(on_ray), "--engine", "ray", "--address", ADDRESS]
    done = driver(head, "-m", "serve.batch", *argv, "--quiet")
    assert done.returncode == 1, done.stderr[-3000:]  # the broken and the empty file
    assert "Traceback" not in done.stderr
    rows = on_ray.read_text().splitlines()
    assert len(rows) == 1 + 62
    assert rows == rows_of_the_bucket(local.read_text().splitlines())


NOT_SHIPPED = """
import sys, ray
from serve.batch.cli import main

join = ray.init

def without_the_code(**options):
    options.pop("runtime_env")
    return join(**options)

ray.init = without_the_code
sys.exit(main(sys.argv[1:]))
"""


def test_actors_that_cannot_start_are_one_message(head, mixed_tree, tmp_path):
    """A driver that kept the serving code to itself: the node cannot make a RowMaker,
    which the command says once, leaving no output."""
    out = tmp_path / "out.csv"
    argv = [str(mixed_tree), "-o", str(out), "--engine", "ray", "--quiet", "--address", ADDRESS]
    done = driver(head, "-c", NOT_SHIPPED, *argv)
    assert done.returncode == 2, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: the Ray cluster at {ADDRESS} cannot make the rows: ModuleNotFoundError: "
        "No module named 'serve' (its nodes need the serving requirements and Ray, at this "
        "machine's versions)"
    ]
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_a_driver_without_the_clusters_token_is_one_message(head, mixed_tree, tmp_path):
    """The cluster refuses the driver (as it refuses another Ray version): one line."""
    _, env = head
    env = {key: value for key, value in env.items() if not key.startswith("RAY_AUTH")}
    out = tmp_path / "out.csv"
    argv = [str(mixed_tree), "-o", str(out), "--engine", "ray", "--quiet", "--address", ADDRESS]
    done = driver(head, "-m", "serve.batch", *argv, env={**env, "RAY_AUTH_MODE": "disabled"})
    assert done.returncode == 2, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith(f"error: cannot join the Ray cluster at {ADDRESS}: ")
    assert "Authentication token is missing or incorrect" in errors[0]
    assert "Traceback" not in done.stderr
    assert not out.exists()


# --- without a cluster --------------------------------------------------------------------


def test_an_address_nobody_listens_on_is_one_line_at_once(mixed_tree, tmp_path):
    with socket.socket() as free:  # a port nothing listens on: bound, never listening
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
        out = tmp_path / "out.csv"
        argv = [str(mixed_tree), "-o", str(out), "--engine", "ray", "--quiet"]
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "serve.batch", *argv, "--address", f"127.0.0.1:{port}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert time.monotonic() - started < 60  # Ray alone would retry for minutes
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: cannot reach the Ray cluster at 127.0.0.1:{port}: Connection refused"
    ]
    assert not out.exists()


def test_without_ray_installed_the_ray_engine_is_one_line(
    mixed_tree, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray: ImportError
    out = tmp_path / "out.csv"
    assert main([str(mixed_tree), "-o", str(out), "--engine", "ray", "--quiet"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: --engine ray needs Ray: pip install -r requirements-ray.txt"
    ]
    assert not out.exists()
