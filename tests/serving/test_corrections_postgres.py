"""POST /corrections against a real PostgreSQL: the promises of test_corrections.py, and a
worker killed while 8 clients write.

The server is Debian's (``postgresql``: initdb and pg_ctl under /usr/lib/postgresql), made
for these tests in a temporary folder and listening on a Unix socket there only. Both
programs refuse to run as root, so as root they run as ``nobody``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg  # requirements-postgres.txt, which `make test-serve` installs
import pytest

from support.server import running_server
from tests.serving.test_corrections import (
    CorrectionsAPI,
    check_nothing_acknowledged_was_lost,
    write_while_a_worker_is_killed,
)

SERVER_PROGRAMS = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
PORT = 5432  # on a socket in a folder of its own: no other server can be in the way


def as_server_user(command: list) -> list:
    return ["runuser", "-u", "nobody", "--", *command] if os.getuid() == 0 else command


@contextlib.contextmanager
def postgres_server():
    """A throw-away PostgreSQL: yields the URL of its database ``postgres``."""
    if not SERVER_PROGRAMS:
        pytest.fail("PostgreSQL's server programs are missing: apt-get install postgresql")
    programs = SERVER_PROGRAMS[-1].parent
    with tempfile.TemporaryDirectory(prefix="digit-postgres-") as folder:
        folder = Path(folder)
        if os.getuid() == 0:
            shutil.chown(folder, "nobody")
        data = folder / "data"
        run = {"check": True, "capture_output": True, "timeout": 60}
        initdb = [programs / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]
        subprocess.run(as_server_user(initdb), **run)
        options = f"-p {PORT} -k {folder} -c listen_addresses=''"
        pg_ctl = [programs / "pg_ctl", "-D", data, "-l", folder / "log", "-o", options]
        subprocess.run(as_server_user([*pg_ctl, "-w", "start"]), **run)
        try:
            yield f"postgresql://postgres@/postgres?host={folder}&port={PORT}"
        finally:
            subprocess.run(as_server_user([*pg_ctl, "-m", "immediate", "stop"]), **run)


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as url:
        yield url


NAMES = itertools.count()


@pytest.fixture
def store_url(postgres):
    """A database of its own for each test, on the module's server."""
    name = f"corrections_{next(NAMES)}"
    with psycopg.connect(postgres, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return postgres.replace("/postgres?", f"/{name}?")


class TestPostgreSQL(CorrectionsAPI):
    @pytest.fixture
    def unreachable_url(self, tmp_path):
        return f"postgresql://postgres@/postgres?host={tmp_path}&port={PORT}"  # no server


@pytest.mark.slow
def test_a_killed_worker_loses_no_acknowledged_correction(store_url, tmp_path):
    with running_server(WORKERS=2, CORRECTIONS_URL=store_url, CORRECTIONS_PER_MINUTE=0) as server:
        outcome = write_while_a_worker_is_killed(server)
    check_nothing_acknowledged_was_lost(store_url, outcome, tmp_path / "export")
