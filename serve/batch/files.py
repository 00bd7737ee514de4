"""Finding the image files under the paths given, and reading one file safely.

A path given is a local file or folder, or a bucket (``s3://bucket/prefix``, or any other
filesystem pyarrow reads). Both kinds are listed the same way, each by its own function
yielding (shown path, where the file is, named directly?): the shown path is what the rows
say, the place is what reading needs (a ``Path``, or a ``BucketFile``).

Only regular files are read: a named pipe, a broken symbolic link, a link loop, a file
gone or unreadable by the time it is read each get a sentence saying why (``read_error``).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path, PurePosixPath
from typing import NamedTuple

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


class BucketFile(NamedTuple):
    """A file in a bucket: the URI given on the command line and the file's path there."""

    root: str
    path: str


Where = Path | BucketFile  # where a file is, to read it
Listed = Iterator[tuple[str, Where, bool]]  # (shown path, where, named directly?)


class CannotList(Exception):
    """A path given cannot be listed at all (a missing bucket, no access): a usage error."""


def is_uri(path: str) -> bool:
    """A bucket or any other filesystem pyarrow reads (s3://, gs://, ...)."""
    return "://" in path


# --- finding the images ------------------------------------------------------------------


def find_images(paths: list[str]) -> tuple[list[tuple[str, Where]], int]:
    """(shown path, where) for every image, sorted by shown path; and the skip count.

    Shown paths start with the name of the folder given (``digits/a/1.png``, or
    ``scans/a/1.png`` for ``s3://bucket/scans``), so rows from several folders stay apart.
    Anything named directly that is not a folder (a file, but also a named pipe or a broken
    link) is taken whatever its suffix, shown as given: it gets its row, with an error if it
    cannot be read. Only folders are walked, so a folder called ``x.png`` is walked like any
    other and never read as a file.
    """
    found, skipped = [], 0
    # Local paths first: of two files shown alike, the local one's row comes first.
    for given in sorted(paths, key=is_uri):
        listed = in_bucket(given) if is_uri(given) else on_disk(Path(given))
        for shown, where, named in listed:
            if named or PurePosixPath(shown).suffix.lower() in IMAGE_EXTENSIONS:
                found.append((shown, where))
            else:
                skipped += 1
    found.sort(key=lambda item: item[0])
    return found, skipped


def on_disk(root: Path) -> Listed:
    """The local file ``root``, or every file in the folder ``root``."""
    if not root.is_dir():
        yield root.as_posix(), root, True
        return
    # Only the folder given is resolved, never the files: a file's shown path is the
    # link's own name, and a link loop or a link out of the tree cannot break the walk.
    top = Path(root.resolve().name)
    # os.walk does not follow links to folders (a link to a parent would loop); a
    # folder it cannot list would silently lose its images, so say so.
    for folder, dirs, files in os.walk(root, onerror=warn_unlisted):
        dirs.sort()
        for name in files:
            path = Path(folder) / name
            yield (top / path.relative_to(root)).as_posix(), path, False


def warn_unlisted(error: OSError) -> None:
    print(
        f"warning: cannot list the folder {error.filename}: {error.strerror or error}",
        file=sys.stderr,
    )


def in_bucket(uri: str) -> Listed:
    """The file at ``uri``, or every file under the prefix ``uri``, listed with pyarrow."""
    from pyarrow import fs  # only with buckets: it comes with the optional Ray requirements

    try:
        bucket, root = fs.FileSystem.from_uri(uri)
        kind = bucket.get_file_info(root).type
        if kind == fs.FileType.Directory:
            listed = bucket.get_file_info(fs.FileSelector(root, recursive=True))
    except (OSError, ValueError) as error:  # pyarrow's errors: no access, bad URI...
        raise CannotList(f"cannot list {uri}: {error}") from error
    if kind == fs.FileType.File:
        yield uri, BucketFile(uri, root), True
        return
    if kind != fs.FileType.Directory:
        raise CannotList(f"no such file or folder: {uri}")
    top = PurePosixPath(PurePosixPath(root).name or uri)
    for entry in listed:
        if entry.type == fs.FileType.File:
            path = PurePosixPath(entry.path)
            yield (top / path.relative_to(root)).as_posix(), BucketFile(uri, entry.path), False


# --- reading one file --------------------------------------------------------------------


def read_file(where: Where) -> bytes:
    """The bytes of a local file (regular files only) or of a file in a bucket."""
    if isinstance(where, BucketFile):
        with filesystem(where.root).open_input_stream(where.path) as stream:
            return stream.read()
    return read_regular_file(where)


@cache  # one client per bucket and process
def filesystem(root: str):
    from pyarrow import fs

    return fs.FileSystem.from_uri(root)[0]


class NotRegularFile(OSError):
    """The path is a folder, a named pipe, a device...: it is never read."""


FILE_KINDS = [
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
]

# O_NONBLOCK: opening a named pipe for reading waits for a writer, possibly forever; with
# it the open returns at once (it changes nothing for regular files). O_BINARY: Windows.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def check_regular(mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in FILE_KINDS if test(mode)), "a special file")
        raise NotRegularFile(f"not a regular file: it is {kind}, so it was not read")


def read_regular_file(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file (links followed); else an OSError.

    The stat before opening keeps pipes and devices from ever being opened; the fstat on
    the open descriptor covers a file swapped for a pipe in between.
    """
    check_regular(os.stat(path).st_mode)
    fd = os.open(path, OPEN_FLAGS)
    with open(fd, "rb") as stream:  # closes fd, whatever happens
        check_regular(os.fstat(fd).st_mode)
        return stream.read()


def read_error(where: Where, error: OSError) -> str:
    """A sentence for the row saying why the file could not be read."""
    if isinstance(error, NotRegularFile):
        return str(error)
    if error.errno == errno.ELOOP:
        return "symbolic link loop: the link never leads to a file"
    if isinstance(error, FileNotFoundError):
        if isinstance(where, Path) and os.path.islink(where):
            return "broken symbolic link: the file it points to does not exist"
        return "the file is gone: it was deleted or moved after the folders were listed"
    if isinstance(error, PermissionError):
        return "cannot read the file: permission denied"
    return f"cannot read the file: {error.strerror or error}"
