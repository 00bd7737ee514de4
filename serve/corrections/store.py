"""Where corrections are kept: an SQLite file, or PostgreSQL where several replicas write.

One small interface over both: ``open_store(url)`` gives a ``Store`` that adds a
correction, counts them, reads them back in order and deletes those exported. Opening
connects to nothing; the first call does, and creates or updates the schema then.

The schema is the product's: the ``schema_version`` table says how many of the dialect's
``migrations`` (a list of SQL statements, only ever appended to) the store has had, and
the first connection of each process applies the rest under the store's write lock, so
workers that start together migrate it once.

Durability: a correction is one transaction, and ``add`` returns its id only after the
COMMIT, which SQLite (WAL journal, synchronous=FULL) and PostgreSQL (fsync) make durable.
A process killed before then leaves a transaction that never committed; both databases
roll it back, and nothing acknowledged is lost.

Only the standard library's sqlite3 is imported here. psycopg, the PostgreSQL driver
(requirements-postgres.txt), is imported when a postgresql:// URL is opened.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from serve.settings import POSTGRES_URLS, SQLITE_URL

BUSY_SECONDS = 5  # how long a writer waits for another's lock before giving up (503)
CONNECT_SECONDS = 5  # PostgreSQL: how long to try to connect (psycopg's default is 130)
# PostgreSQL: the advisory lock that serialises writers, as BEGIN IMMEDIATE does in SQLite
# (any number; this one spells "digit").
WRITE_LOCK = 0x6469676974

COLUMNS = "image, label, reading, model_sha256, created"
SCHEMA_VERSION = "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)"


class StoreUnavailable(Exception):
    """The database cannot be reached or written (down, full disk, locked too long)."""


class StoreFull(Exception):
    """The store holds as many corrections as it may; an operator must export and clear."""


@dataclass(frozen=True)
class Correction:
    image: bytes  # the upload, exactly as sent
    label: str  # what the person meant: 1 to 12 ASCII digits
    reading: str | None  # what the product answered
    model_sha256: str  # of the model file that read it
    created: str  # UTC, e.g. 2026-11-05T09:30:00.123Z (``utc_text``)


@dataclass(frozen=True)
class Row:
    id: int
    correction: Correction


def utc_text(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC to the millisecond: one spelling in both databases and the export."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SQLite:
    migrations = [
        """CREATE TABLE corrections (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            image BLOB NOT NULL,
            label TEXT NOT NULL,
            reading TEXT,
            model_sha256 TEXT NOT NULL,
            created TEXT NOT NULL
        )""",
        # count(*) walks the smallest index: without one it would read every image.
        "CREATE INDEX corrections_created ON corrections (created)",
    ]
    # Its calls hold the calling thread (the web layer runs them in native threads).
    blocking = True
    # Take the write lock at BEGIN: two writers never deadlock upgrading a read lock.
    begin = "BEGIN IMMEDIATE"
    errors = (sqlite3.Error, OSError)

    def __init__(self, path: Path):
        self.path = path

    def connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; this module says BEGIN and COMMIT.
        # timeout is SQLite's busy timeout: wait for another writer's lock that long.
        connection = sqlite3.connect(
            self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
        # WAL: readers never wait for the writer, and a commit is one append. FULL: that
        # append is on the disk before COMMIT returns (NORMAL would risk the last commits
        # on a power cut, though not on a killed process).
        try:
            self.journal_in_wal(connection)
            connection.execute("PRAGMA synchronous=FULL")
        except BaseException:
            close_quietly(connection)
            raise
        return connection

    @staticmethod
    def journal_in_wal(connection: sqlite3.Connection) -> None:
        # Workers that start together race to put a new file in WAL mode, and SQLite
        # answers the loser "database is locked" at once, without its busy timeout; so
        # the wait is here, as long as a writer waits for a lock.
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # or an extended code
                if not busy or time.monotonic() > deadline:
                    raise
            time.sleep(0.01)

    def lock(self, connection) -> None:
        """BEGIN IMMEDIATE has taken it."""

    def where(self) -> str | None:
        """The file, if it exists (the first connection creates it)."""
        return str(self.path) if self.path.exists() else None

    def sql(self, query: str) -> str:
        return query

    def stream(self, connection, query: str):
        return connection.execute(query)  # sqlite3's cursors fetch as they are iterated

    def created(self, value) -> str:
        return value


class PostgreSQL:
    migrations = [
        """CREATE TABLE corrections (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            image bytea NOT NULL,
            label text NOT NULL,
            reading text,
            model_sha256 text NOT NULL,
            created timestamptz NOT NULL
        )""",
    ]
    # psycopg waits for the server through select.poll, which gevent makes cooperative.
    blocking = False
    begin = "BEGIN"

    def __init__(self, url: str):
        # Only here: the serving requirements do not include the driver.
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        self.psycopg = psycopg
        self.errors = (psycopg.Error, OSError)
        # SQLAlchemy's spelling of the driver is no part of a libpq URL.
        url = url.replace("postgresql+psycopg:", "postgresql:", 1)
        self.params = {"connect_timeout": CONNECT_SECONDS} | conninfo_to_dict(url)

    def connect(self):
        return self.psycopg.connect(**self.params, autocommit=True)

    def where(self) -> str | None:
        return "PostgreSQL"  # not the URL: it may hold a password

    def lock(self, connection) -> None:
        # Held to COMMIT: writers take turns, so the count against the limit is exact and
        # ids commit in order (an export that clears through id N misses none below it).
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))

    def sql(self, query: str) -> str:
        return query.replace("?", "%s")

    def stream(self, connection, query: str):
        cursor = connection.cursor(name="corrections_export")  # server-side: rows in batches
        cursor.execute(query)
        return cursor

    def created(self, value) -> str:
        return utc_text(value)


def open_store(url: str) -> Store:
    """A store for ``url``: sqlite:///relative.db (from the working folder),
    sqlite:////absolute.db, or postgresql://user@host/db. Connects to nothing yet."""
    if url.startswith(SQLITE_URL):
        return Store(SQLite(Path(url.removeprefix(SQLITE_URL))))
    if url.startswith(POSTGRES_URLS):
        return Store(PostgreSQL(url))
    raise ValueError("a corrections URL starts with sqlite:/// or postgresql://")


class Store:
    def __init__(self, dialect: SQLite | PostgreSQL):
        self.dialect = dialect
        # Connections not lent out. One caller uses a connection at a time; a list's pop
        # and append are atomic, so threads and greenlets share it without a lock.
        self.idle: list = []
        self.migrated = False

    # --- what the product does with it ---------------------------------------------------

    def add(self, correction: Correction, most: int = 0) -> int:
        """Keep ``correction``; its id, once committed. StoreFull when ``most`` (if not 0)
        are kept already."""
        with self.unavailable(), self.transaction() as db:
            if most and self.holds_at_least(db, most):
                raise StoreFull(f"the corrections store is full ({most:,} corrections)")
            values = (
                correction.image,
                correction.label,
                correction.reading,
                correction.model_sha256,
                correction.created,
            )
            insert = f"INSERT INTO corrections ({COLUMNS}) VALUES (?, ?, ?, ?, ?) RETURNING id"
            return db.execute(self.dialect.sql(insert), values).fetchone()[0]

    @staticmethod
    def holds_at_least(db, most: int) -> bool:
        # The span of ids, read off the primary key at once, bounds the count from above
        # (ids only grow, and exports clear the oldest); count(*) reads a whole index, so
        # it is left for when the store may be full.
        span = "SELECT coalesce(max(id) - min(id) + 1, 0) FROM corrections"
        if db.execute(span).fetchone()[0] < most:
            return False
        return db.execute("SELECT count(*) FROM corrections").fetchone()[0] >= most

    def count(self) -> int:
        with self.unavailable(), self.connection() as db:
            return db.execute("SELECT count(*) FROM corrections").fetchone()[0]

    def rows(self) -> Iterator[Row]:
        """Every correction, by id, as one consistent snapshot; read as they are iterated."""
        with self.unavailable(), self.transaction(write=False) as db:
            query = f"SELECT id, {COLUMNS} FROM corrections ORDER BY id"
            for id_, image, label, reading, sha256, created in self.dialect.stream(db, query):
                created = self.dialect.created(created)
                yield Row(id_, Correction(image, label, reading, sha256, created))

    def delete_through(self, last_id: int) -> int:
        """Delete the corrections with ids up to ``last_id`` (exported); how many."""
        with self.unavailable(), self.transaction() as db:
            query = self.dialect.sql("DELETE FROM corrections WHERE id <= ?")
            return db.execute(query, (last_id,)).rowcount

    def schema_version(self) -> int:
        with self.unavailable(), self.connection() as db:
            return db.execute("SELECT version FROM schema_version").fetchone()[0]

    def close(self) -> None:
        while self.idle:
            close_quietly(self.idle.pop())

    # --- connections and transactions ------------------------------------------------------

    @contextlib.contextmanager
    def unavailable(self):
        """The database's own errors, and the file system's, as StoreUnavailable."""
        try:
            yield
        except self.dialect.errors as error:
            raise StoreUnavailable(f"{type(error).__name__}: {error}") from error

    @contextlib.contextmanager
    def connection(self):
        """A connection of this process, lent to one caller; dropped if the caller fails."""
        try:
            connection = self.idle.pop()
        except IndexError:
            connection = self.open()
        try:
            yield connection
        except StoreFull:  # refused after a ROLLBACK: the connection is as good as before
            self.idle.append(connection)
            raise
        except BaseException:
            close_quietly(connection)  # in a state unknown; closing rolls back
            raise
        self.idle.append(connection)

    @contextlib.contextmanager
    def transaction(self, write: bool = True):
        """A transaction, committed when the block ends and rolled back if it raises. A
        write holds the store's write lock from its start."""
        with self.connection() as db:
            db.execute(self.dialect.begin if write else "BEGIN")
            if write:
                self.dialect.lock(db)
            try:
                yield db
            except StoreFull:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def open(self):
        connection = self.dialect.connect()
        if not self.migrated:
            try:
                self.migrate(connection)
            except BaseException:
                close_quietly(connection)
                raise
            self.migrated = True
        return connection

    def migrate(self, connection) -> None:
        """Apply the migrations this store has not had, in one transaction, under the
        write lock (whoever comes second finds them applied)."""
        migrations = self.dialect.migrations
        connection.execute(self.dialect.begin)
        self.dialect.lock(connection)
        connection.execute(SCHEMA_VERSION)
        found = connection.execute("SELECT version FROM schema_version").fetchone()
        if found is None:
            connection.execute("INSERT INTO schema_version (version) VALUES (0)")
        version = found[0] if found else 0
        if version > len(migrations):
            connection.execute("ROLLBACK")
            raise StoreUnavailable(
                f"the store's schema is version {version}; this server knows up to "
                f"{len(migrations)}: run a newer server"
            )
        for statement in migrations[version:]:
            connection.execute(statement)
        update = self.dialect.sql("UPDATE schema_version SET version = ?")
        connection.execute(update, (len(migrations),))
        connection.execute("COMMIT")


def close_quietly(connection) -> None:
    with contextlib.suppress(Exception):
        connection.close()
