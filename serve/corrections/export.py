"""The corrections, written out for training: DIR/labels.csv and DIR/images/.

labels.csv has a row per correction (id,file,label,reading,model_sha256,created), ``file``
relative to DIR (images/000001.png); each image is the exact bytes that were uploaded,
named by its id and by the format its bytes are in (not by what the client called it).
labels.csv is written last, under a temporary name, so a DIR with a labels.csv holds a
complete export.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from PIL import Image

from serve.core.decode import FORMATS
from serve.corrections.store import Store

COLUMNS = ("id", "file", "label", "reading", "model_sha256", "created")
EXTENSIONS = {
    "PNG": "png",
    "JPEG": "jpg",
    "MPO": "jpg",  # a phone's JPEG with a preview image
    "GIF": "gif",
    "BMP": "bmp",
    "WEBP": "webp",
    "TIFF": "tif",
}


def export(store: Store, folder: Path) -> tuple[int, int | None]:
    """Write every correction of ``store`` into ``folder``: (how many, the last id).
    FileExistsError when ``folder`` holds an export already."""
    labels = folder / "labels.csv"
    if labels.exists():
        raise FileExistsError(f"{labels} exists: export into a new folder")
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    partial = folder / "labels.csv.partial"
    count, last_id = 0, None
    with open(partial, "w", newline="", encoding="utf-8") as table:
        writer = csv.writer(table)
        writer.writerow(COLUMNS)
        for row in store.rows():
            c = row.correction
            name = f"images/{row.id:06d}.{extension(c.image)}"
            (folder / name).write_bytes(c.image)
            writer.writerow((row.id, name, c.label, c.reading or "", c.model_sha256, c.created))
            count, last_id = count + 1, row.id
    # Every image and the table on the disk (one sync, not one per file) before the table
    # takes its name: then the store may be cleared of what was exported.
    os.sync()
    partial.replace(labels)
    sync_folder(folder)
    return count, last_id


def extension(data: bytes) -> str:
    """The file extension of the image format ``data`` is in (read from its header)."""
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            return EXTENSIONS.get(image.format, "bin")
    except Exception:  # every stored image was decoded once; this is only a fallback
        return "bin"


def sync_folder(path: Path) -> None:
    """The folder's entries (a renamed file's new name) on the disk too."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
