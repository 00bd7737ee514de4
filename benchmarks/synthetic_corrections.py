"""Corrections as writers of European 1s would send them, exported for training to learn from.

    .venv-serve/bin/python -m benchmarks.synthetic_corrections DIR [--count 400]
    make train ARGS="--corrections DIR/export --epochs 4 --models-dir /tmp/with-corrections"

1s with a middling or long flag (train/styles.py), which the shipped model reads as 7 one
time in five or ten, each drawn on the page's pad and "corrected" to 1, are kept in an
SQLite store in DIR and exported to DIR/export as `make corrections` exports them.
Training then reports the held-out corrections' accuracy before and after
(models/metrics.json: corrections).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from serve.corrections.export import export
from serve.corrections.store import Correction, open_store, utc_text
from support.drawings import SHIPPED_MODEL, png_bytes
from train.data import file_sha256
from train.drawn import on_canvas
from train.styles import flagged_one

PAD, SIDE = 280, 224  # the page's pad, and how large the 1 is drawn on it


def corrected_one(rng: np.random.Generator, flag: str) -> bytes:
    """A flagged 1 on the page's pad, as the page sends it."""
    drawing = flagged_one(rng, flag).resize((SIDE, SIDE), Image.Resampling.BILINEAR)
    pad = np.zeros((PAD, PAD), np.uint8)
    top = (PAD - SIDE) // 2
    pad[top : top + SIDE, top : top + SIDE] = np.asarray(drawing)
    return png_bytes(on_canvas(pad))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--seed", type=int, default=77)
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{args.folder.resolve() / 'corrections.db'}")
    rng, sha256 = np.random.default_rng(args.seed), file_sha256(SHIPPED_MODEL)
    for i in range(args.count):
        image = corrected_one(rng, ("middling", "long")[i % 2])
        store.add(Correction(image, "1", "7", sha256, utc_text()))
    count, _ = export(store, args.folder / "export")
    print(f"{count} corrections exported to {args.folder / 'export'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
