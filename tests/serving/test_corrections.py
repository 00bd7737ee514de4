"""POST /corrections against a real SQLite store: what is kept, what is refused and how,
the operator's export, the schema's versions, and a worker killed while 8 clients write.

``CorrectionsAPI`` holds the promises every store keeps; test_corrections_postgres.py
runs them against PostgreSQL.
"""

from __future__ import annotations

import csv
import hashlib
import http.client
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import template_rendered
from openapi_schema_validator import OAS30Validator
from PIL import Image

from serve.corrections.store import (
    Correction,
    SQLite,
    StoreUnavailable,
    open_store,
    utc_text,
)
from serve.settings import ROOT, Settings
from serve.web import corrections
from serve.web.app import create_app
from support.drawings import SHIPPED_MODEL, canvas_png, encode, jpeg_bytes, seven
from support.hostile import png_header_only
from support.server import multipart, post_image, request, running_server

MODEL_SHA256 = hashlib.sha256(SHIPPED_MODEL.read_bytes()).hexdigest()


def send(client, image: bytes, label="7", reading=None, filename="canvas.png", **environ):
    """POST /corrections as the page sends it: the drawing, the label, the reading."""
    form = {"image": (io.BytesIO(image), filename), "label": label}
    if reading is not None:
        form["reading"] = reading
    return client.post(
        "/corrections", data=form, content_type="multipart/form-data", environ_base=environ
    )


def page_context(client) -> dict:
    """What the page's template was rendered with."""
    rendered = []

    def remember(sender, template, context, **extra):
        rendered.append(context)

    with template_rendered.connected_to(remember, client.application):
        assert client.get("/").status_code == 200
    return rendered[-1]


def export(url: str, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """The operator's command, as `make corrections` runs it."""
    return subprocess.run(
        [sys.executable, "-m", "serve.corrections", "export", str(folder), *args],
        cwd=ROOT,
        env={**os.environ, "CORRECTIONS_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def exported(folder: Path) -> list[dict]:
    with open(folder / "labels.csv", newline="", encoding="utf-8") as table:
        return list(csv.DictReader(table))


class CorrectionsAPI:
    """What POST /corrections promises, whatever keeps the corrections. A subclass gives
    the fixtures ``store_url`` (an empty store) and ``unreachable_url``."""

    @pytest.fixture
    def make_client(self, store_url):
        def make(**settings):
            settings = {"corrections_url": store_url, **settings}
            app = create_app(Settings(model_path=SHIPPED_MODEL, **settings), TESTING=True)
            return app.test_client()

        return make

    @pytest.fixture
    def client(self, make_client):
        return make_client()

    def test_a_correction_is_kept_as_it_was_sent(self, client, store_url, seven_png):
        before = datetime.now(UTC)
        response = send(client, seven_png, label="7", reading="1")
        assert response.status_code == 201
        number = response.get_json()["id"]
        (row,) = list(open_store(store_url).rows())
        kept = row.correction
        assert row.id == number and kept.image == seven_png
        assert (kept.label, kept.reading, kept.model_sha256) == ("7", "1", MODEL_SHA256)
        created = datetime.fromisoformat(kept.created)
        assert created.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= created <= datetime.now(UTC)

    def test_the_reading_is_optional_and_labels_may_be_numbers(self, client, store_url):
        png = canvas_png(seven)
        assert send(client, png, label="007").status_code == 201
        assert send(client, png, label="123456789012", reading="1,000").status_code == 201
        kept = [row.correction for row in open_store(store_url).rows()]
        assert [(c.label, c.reading) for c in kept] == [("007", None), ("123456789012", "1,000")]

    @pytest.mark.parametrize(
        "label", ["", "x", "1234567890123", "\u0663", "7 ", "7\n", "-1", "1.5", "1,000"]
    )
    def test_a_label_that_is_not_1_to_12_ascii_digits_is_400(
        self, client, store_url, seven_png, label
    ):
        response = send(client, seven_png, label=label)
        assert response.status_code == 400
        assert "label" in response.get_json()["error"]
        assert open_store(store_url).count() == 0

    def test_a_missing_label_or_a_long_or_unprintable_reading_is_400(self, client, seven_png):
        no_label = {"image": (io.BytesIO(seven_png), "canvas.png")}
        response = client.post("/corrections", data=no_label, content_type="multipart/form-data")
        assert response.status_code == 400 and "label" in response.get_json()["error"]
        for reading in ("9" * 41, "1\x00", "1\n2"):
            response = send(client, seven_png, reading=reading)
            assert response.status_code == 400 and "reading" in response.get_json()["error"]
        assert client.post("/corrections", data={}).status_code == 400  # no image

    @pytest.mark.parametrize(
        "upload",
        [b"junk", b"\x89PNG\r\n\x1a\n broken", png_header_only(30_000, 30_000)],
        ids=["not-an-image", "damaged", "too-many-pixels"],
    )
    def test_an_image_the_server_cannot_read_is_refused_as_predict_refuses_it(
        self, client, store_url, upload
    ):
        response = send(client, upload)
        assert response.status_code == post_image(client, upload).status_code
        assert response.status_code in (413, 415)
        assert response.get_json()["error"]
        assert open_store(store_url).count() == 0

    def test_an_upload_over_the_size_limit_is_413(self, make_client, store_url):
        client = make_client(max_upload_bytes=20_000)
        large = encode(Image.effect_noise((200, 200), 60), "PNG")
        assert len(large) > 20_000
        response = send(client, large)
        assert response.status_code == 413 and "20,000" in response.get_json()["error"]
        assert open_store(store_url).count() == 0

    def test_switched_off_it_answers_404_and_the_page_hides_the_control(
        self, make_client, store_url, seven_png
    ):
        for switch, status in (("off", 404), ("on", 201)):
            client = make_client(corrections=switch)
            assert send(client, seven_png).status_code == status
            assert page_context(client)["corrections_enabled"] is (switch == "on")
        assert "switched off" in make_client(corrections="off").post("/corrections").json["error"]
        assert open_store(store_url).count() == 1

    def test_a_client_over_its_allowance_gets_429_with_retry_after(
        self, make_client, store_url, seven_png
    ):
        client = make_client(corrections_per_minute=2)
        assert [send(client, seven_png).status_code for _ in range(2)] == [201, 201]
        refused = send(client, seven_png)
        assert refused.status_code == 429 and refused.get_json()["error"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 30  # one more each 30 s
        # Another address has its own allowance.
        assert send(client, seven_png, REMOTE_ADDR="192.0.2.7").status_code == 201
        assert open_store(store_url).count() == 3

    def test_a_full_store_answers_403_without_retry_after(self, make_client, store_url, seven_png):
        client = make_client(corrections_max=2)
        assert [send(client, seven_png).status_code for _ in range(2)] == [201, 201]
        refused = send(client, seven_png)
        assert refused.status_code == 403
        assert "store is full (2 corrections)" in refused.get_json()["error"]
        assert "Retry-After" not in refused.headers
        assert open_store(store_url).count() == 2

    def test_an_unreachable_store_is_503_while_predict_answers(
        self, make_client, unreachable_url, seven_png
    ):
        client = make_client(corrections_url=unreachable_url)
        for _ in range(2):  # and stays an answer, not a stuck worker, when tried again
            response = send(client, seven_png)
            assert response.status_code == 503 and response.get_json()["error"]
        assert post_image(client, seven_png).status_code == 200
        assert client.get("/healthz").status_code == 200

    def test_the_export_gives_back_each_image_byte_for_byte(self, client, store_url, tmp_path):
        png = canvas_png(seven)
        on_paper = Image.open(io.BytesIO(canvas_png(seven, background="white")))
        jpeg = jpeg_bytes(on_paper.convert("RGB"))
        gif = encode(on_paper.convert("L"), "GIF")
        sent = [(png, "7", "1"), (jpeg, "7", None), (gif, "1000", "1,000")]
        # The name a client gives its file is not what decides the extension.
        ids = [
            send(client, image, label, reading, filename="drawing.bin").get_json()["id"]
            for image, label, reading in sent
        ]
        folder = tmp_path / "export"
        done = export(store_url, folder)
        assert done.returncode == 0, done.stderr
        rows = exported(folder)
        assert list(rows[0]) == ["id", "file", "label", "reading", "model_sha256", "created"]
        assert [row["file"] for row in rows] == [
            f"images/{ids[0]:06d}.png",
            f"images/{ids[1]:06d}.jpg",
            f"images/{ids[2]:06d}.gif",
        ]
        for row, (image, label, reading), number in zip(rows, sent, ids, strict=True):
            assert (folder / row["file"]).read_bytes() == image
            assert (int(row["id"]), row["label"], row["reading"]) == (number, label, reading or "")
            assert row["model_sha256"] == MODEL_SHA256
            assert datetime.fromisoformat(row["created"]).utcoffset() == timedelta(0)
        assert sorted(p.name for p in (folder / "images").iterdir()) == [
            Path(row["file"]).name for row in rows
        ]
        # An export never mixes with an earlier one; --clear empties the store after it.
        assert export(store_url, folder).returncode == 2
        done = export(store_url, tmp_path / "again", "--clear")
        assert done.returncode == 0 and "3 cleared" in done.stdout
        assert open_store(store_url).count() == 0
        assert exported(tmp_path / "again") == rows

    def test_the_schema_is_created_once_and_reopened(self, store_url, seven_png):
        first = open_store(store_url)
        assert first.count() == 0  # the first use creates it
        known = len(first.dialect.migrations)
        assert first.schema_version() == known
        first.close()
        again = open_store(store_url)  # as another process, or a restarted server, opens it
        assert again.count() == 0 and again.schema_version() == known
        db = again.dialect.connect()
        assert db.execute("SELECT count(*) FROM schema_version").fetchone()[0] == 1
        # A store that a newer server has migrated further is left alone.
        db.execute(again.dialect.sql("UPDATE schema_version SET version = ?"), (known + 1,))
        db.close()
        with pytest.raises(StoreUnavailable, match="newer server"):
            open_store(store_url).count()


class TestSQLite(CorrectionsAPI):
    @pytest.fixture
    def store_url(self, tmp_path):
        return f"sqlite:///{tmp_path / 'corrections' / 'corrections.db'}"

    @pytest.fixture
    def unreachable_url(self, tmp_path):
        (tmp_path / "a-file").write_text("its folder cannot be made")
        return f"sqlite:///{tmp_path / 'a-file' / 'corrections.db'}"


# --- SQLite only ---------------------------------------------------------------------------


def test_the_store_is_a_wal_file_made_on_first_use(tmp_path, seven_png):
    path = tmp_path / "new" / "folder" / "corrections.db"
    client = create_app(
        Settings(model_path=SHIPPED_MODEL, corrections_url=f"sqlite:///{path}"), TESTING=True
    ).test_client()
    assert not path.exists()  # the server starts without it
    assert send(client, seven_png).status_code == 201
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def first_corrections_at_once(url: str, workers: int) -> list[str]:
    """Each of ``workers`` stores (as the server's workers) adds its first correction at the
    same moment; the errors."""
    correction = Correction(canvas_png(seven), "7", None, MODEL_SHA256, utc_text())
    start = threading.Barrier(workers)
    failed = []

    def worker():
        store = open_store(url)
        start.wait()
        try:
            store.add(correction)
        except StoreUnavailable as error:
            failed.append(str(error))

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failed


def test_workers_that_start_together_each_keep_their_first_correction(tmp_path):
    workers = 4
    for round_ in range(20):  # the race for a new file is lost now and then, not each time
        url = f"sqlite:///{tmp_path / str(round_) / 'corrections.db'}"
        assert first_corrections_at_once(url, workers) == []
        assert open_store(url).count() == workers


def test_a_relative_sqlite_url_is_from_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///here/corrections.db")
    assert store.count() == 0
    assert (tmp_path / "here" / "corrections.db").exists()


def test_a_store_that_comes_back_takes_corrections_again(tmp_path, seven_png):
    blocker = tmp_path / "store"
    blocker.write_text("a file where the store's folder belongs")
    url = f"sqlite:///{blocker / 'corrections.db'}"
    client = create_app(Settings(model_path=SHIPPED_MODEL, corrections_url=url)).test_client()
    assert send(client, seven_png).status_code == 503
    blocker.unlink()
    assert send(client, seven_png).status_code == 201


def test_a_full_disk_is_503_while_predict_answers(tmp_path, seven_png):
    url = f"sqlite:///{tmp_path / 'corrections.db'}"
    app = create_app(Settings(model_path=SHIPPED_MODEL, corrections_url=url))
    client = app.test_client()
    assert send(client, seven_png).status_code == 201
    # SQLite answers a write past max_page_count as it answers a full disk (SQLITE_FULL).
    (connection,) = app.extensions[corrections.KEY]["store"].idle
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")
    large = encode(Image.effect_noise((300, 300), 60), "PNG")
    response = send(client, large)
    assert response.status_code == 503 and response.get_json()["error"]
    assert post_image(client, seven_png).status_code == 200
    assert open_store(url).count() == 1


def test_an_older_schema_is_migrated_forward(tmp_path):
    path = tmp_path / "corrections.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(SQLite.migrations[0])  # as the first version of the product left it
    db.execute("CREATE TABLE schema_version (version integer NOT NULL)")
    db.execute("INSERT INTO schema_version VALUES (1)")
    db.close()
    store = open_store(f"sqlite:///{path}")
    assert store.count() == 0 and store.schema_version() == len(SQLite.migrations)
    indexes = sqlite3.connect(path).execute("PRAGMA index_list(corrections)").fetchall()
    assert "corrections_created" in {index[1] for index in indexes}


def test_an_export_of_no_store_says_so(tmp_path):
    done = export(f"sqlite:///{tmp_path / 'none.db'}", tmp_path / "out")
    assert done.returncode == 1 and "no corrections store" in done.stderr
    assert not (tmp_path / "none.db").exists()


def test_the_api_document_describes_corrections(app, tmp_path, seven_png):
    spec = app.test_client().get("/openapi.json").get_json()
    documented = spec["paths"]["/corrections"]["post"]["responses"]
    settings = Settings(model_path=SHIPPED_MODEL, corrections_url=f"sqlite:///{tmp_path}/c.db")
    client = create_app(settings).test_client()
    kept = send(client, seven_png)
    schema = {"$ref": "#/components/schemas/CorrectionKept", "components": spec["components"]}
    OAS30Validator(schema).validate(kept.get_json())
    error = {"$ref": "#/components/schemas/Error", "components": spec["components"]}
    for response in (kept, send(client, seven_png, label="x"), send(client, b"junk")):
        assert str(response.status_code) in documented
        if response.status_code >= 400:
            OAS30Validator(error).validate(response.get_json())
    assert {"201", "400", "403", "404", "413", "415", "429", "503"} <= set(documented)
    assert "Retry-After" in documented["429"]["headers"]
    assert "100,000" in documented["403"]["description"]


# --- settings ------------------------------------------------------------------------------


def test_the_corrections_settings_and_their_defaults():
    settings = Settings.from_environment({})
    assert settings.corrections == "on"
    assert settings.corrections_url == f"sqlite:///{ROOT / 'corrections' / 'corrections.db'}"
    assert (settings.corrections_per_minute, settings.corrections_max) == (30, 100_000)
    settings = Settings.from_environment(
        {
            "CORRECTIONS": "OFF",
            "CORRECTIONS_URL": "sqlite:///elsewhere.db",
            "CORRECTIONS_PER_MINUTE": "5",
            "CORRECTIONS_MAX": "10",
        }
    )
    assert settings.corrections == "off" and settings.corrections_url == "sqlite:///elsewhere.db"
    assert (settings.corrections_per_minute, settings.corrections_max) == (5, 10)


@pytest.mark.parametrize(
    "environ",
    [
        {"CORRECTIONS": "maybe"},
        {"CORRECTIONS_URL": "mysql://user:secret@host/db"},
        {"CORRECTIONS_URL": "sqlite:///"},
        {"CORRECTIONS_MAX": "-1"},
    ],
)
def test_a_bad_corrections_setting_is_one_line_without_the_password(environ):
    with pytest.raises(SystemExit, match=r"^error: CORRECTIONS[A-Z_]*=") as stopped:
        Settings.from_environment(environ)
    assert "\n" not in str(stopped.value.code) and "secret" not in str(stopped.value.code)


# --- a worker killed while clients write -------------------------------------------------


CLIENTS, EACH = 8, 30


def drawing(client: int, number: int) -> bytes:
    """A canvas no other request sends."""
    return canvas_png(
        lambda d, ink, width: d.line([(30 + 9 * client, 40), (250, 40 + 7 * number)], ink, width)
    )


def post_correction(port: int, image: bytes, label: str) -> tuple[int, dict, bytes]:
    """POST /corrections to a real server, as the page's form sends it."""
    body, content_type = multipart(image, fields={"label": label})
    return request(port, "POST", "/corrections", body, {"Content-Type": content_type})


def write_while_a_worker_is_killed(server, clients: int = CLIENTS, each: int = EACH) -> dict:
    """``clients`` threads, each posting ``each`` corrections on new connections; one of
    the two workers SIGKILLed once half of them are acknowledged. What was acknowledged
    (id -> (image, label)), every status seen, and how many connections the kill cut."""
    acknowledged, statuses, cut = {}, [], [0]
    lock, half = threading.Lock(), threading.Event()

    def client(n: int) -> None:
        for i in range(each):
            image, label = drawing(n, i), f"{n}{i}"
            try:
                status, _, body = post_correction(server.port, image, label)
            # The connection died with its worker: before the answer, or part way through
            # its body (http.client's IncompleteRead).
            except (OSError, http.client.HTTPException):
                with lock:
                    cut[0] += 1
                continue
            with lock:
                statuses.append(status)
                if status == 201:
                    acknowledged[json.loads(body)["id"]] = (image, label)
                if len(acknowledged) >= clients * each // 2:
                    half.set()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    assert half.wait(60), "half the corrections were never acknowledged"
    os.kill(server.worker_pids()[0], signal.SIGKILL)
    for thread in threads:
        thread.join(120)
    return {"acknowledged": acknowledged, "statuses": statuses, "cut": cut[0]}


def check_nothing_acknowledged_was_lost(url: str, outcome: dict, folder: Path) -> None:
    # No 5xx, nor any other refusal: a request either died with its worker or was kept.
    assert outcome["acknowledged"] and set(outcome["statuses"]) == {201}, outcome["statuses"]
    done = export(url, folder)
    assert done.returncode == 0, done.stderr
    rows = {int(row["id"]): row for row in exported(folder)}
    for number, (image, label) in outcome["acknowledged"].items():
        assert rows[number]["label"] == label
        assert (folder / rows[number]["file"]).read_bytes() == image
    # Rows beyond those acknowledged may be writes whose answer died with the worker; each
    # is whole: one of the drawings sent, with its own label.
    sent = {(drawing(n, i), f"{n}{i}") for n in range(CLIENTS) for i in range(EACH)}
    for row in rows.values():
        assert ((folder / row["file"]).read_bytes(), row["label"]) in sent


@pytest.mark.slow
def test_a_killed_worker_loses_no_acknowledged_correction(tmp_path):
    url = f"sqlite:///{tmp_path / 'corrections.db'}"
    with running_server(WORKERS=2, CORRECTIONS_URL=url, CORRECTIONS_PER_MINUTE=0) as server:
        outcome = write_while_a_worker_is_killed(server)
    check_nothing_acknowledged_was_lost(url, outcome, tmp_path / "export")
    db = sqlite3.connect(tmp_path / "corrections.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
