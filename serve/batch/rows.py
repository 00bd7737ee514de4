"""The columns of the output, and the rows made from chunks of files.

A ``RowMaker`` holds the model (a ``Reader``, made once) and what to read, and turns a
chunk of files into their rows: each file read, decoded and laid out on its own, the
chunk's digits through the model in one run. It is the state of each of the local
engine's worker processes and the class of the Ray engine's actors, so both give the same
rows.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from serve.batch.files import BucketFile, Where, read_error, read_file
from serve.core.errors import BadImage
from serve.core.read import Reader
from serve.settings import Settings

COLUMNS = ["path", "digit", "prob", "verdict", "is_digit"] + [f"p{d}" for d in range(10)]
COLUMNS += ["error"]
NUMBER_COLUMNS = ["number", "count"]  # added by --read number, before "error"
VERDICT = COLUMNS.index("verdict")  # empty in the row of a file that failed


def columns_for(read: str) -> list[str]:
    return COLUMNS[:-1] + (NUMBER_COLUMNS if read == "number" else []) + COLUMNS[-1:]


class RowMaker:
    """The model of ``model`` and what to read ("digit", or "number" too): files -> rows.
    ``model`` is the ONNX file, or its bytes with ``metadata`` as the driver ships them to
    Ray actors on machines that do not have the file."""

    def __init__(
        self, model: Path | str | bytes, read: str = "digit", metadata: dict | None = None
    ):
        # One onnxruntime thread: every core runs its own RowMaker.
        settings = Settings.from_environment()
        if not isinstance(model, bytes):
            settings, model = dataclasses.replace(settings, model_path=Path(model)), None
        self.reader = Reader.from_settings(settings, threads=1, model=model, metadata=metadata)
        self.read = read
        self.columns = columns_for(read)

    def rows(self, files: list[tuple[str, Where]]) -> list[list]:
        """The rows of a chunk of (shown path, where), in order; the model runs once."""
        loaded = [self.load(where) for _, where in files]
        ready = [model_input for model_input, _, _ in loaded if model_input is not None]
        answers = iter(self.reader.answers(np.concatenate(ready)) if ready else [])
        rows = []
        for (shown, _), (model_input, number, error) in zip(files, loaded, strict=True):
            if model_input is None:
                rows.append(self.error_row(shown, error))
                continue
            values = row(shown, next(answers))
            values[-1:-1] = number  # before "error"; nothing unless reading numbers
            values[-1] = error  # "" unless its number could not be read
            rows.append(values)
        return rows

    def load(self, where: Where) -> tuple[np.ndarray | None, list, str]:
        """Read, decode once and lay out one file: (model input (1, 28, 28, 1), its
        [number, count] with --read number or [], "" or why its number could not be
        read), or (None, [], the error as text); never raises."""
        try:
            data = read_file(where)
        except OSError as error:
            return None, [], read_error(where, error)
        try:
            image = self.reader.decode(data)
            model_input = self.reader.digit_input(image)
            number, error = self.number(image) if self.read == "number" else ([], "")
            return model_input, number, error
        except BadImage as error:
            return None, [], str(error)
        except Exception as error:  # one odd file must not lose the rest of the chunk
            return None, [], f"{type(error).__name__}: {error}"

    def number(self, image) -> tuple[list, str]:
        """([number, count], "") of a decoded image, as /predict?read=number answers them.
        The image was just read as one digit, so this cannot fail on the file; if it
        fails anyway, the row keeps its digit and says why it has no number (a failure
        of the reader, not "no number")."""
        try:
            answer = self.reader.number(image).answer
        except Exception as error:
            return [None, None], f"number not read: {type(error).__name__}: {error}"
        return [answer["number"], answer["count"]], ""

    def error_row(self, shown: str, error: str) -> list:
        return [shown] + [None] * (len(self.columns) - 2) + [error]

    # --- as a Ray Data actor (serve/batch/ray_data.py) -----------------------------------

    @staticmethod
    def item(shown: str, where: Where) -> dict:
        """One file as an item of Ray's dataset: plain strings, the columns ``__call__``
        reads."""
        if isinstance(where, BucketFile):
            return {"shown": shown, "root": where.root, "path": where.path}
        # Absolute for the actors, but not resolved: a broken link must stay a link.
        return {"shown": shown, "root": "", "path": os.path.abspath(where)}

    def __call__(self, items: dict) -> dict:
        """A batch of Ray's dataset (columns of items) -> its rows, each as JSON text."""
        files = [
            (shown, BucketFile(root, path) if root else Path(path))
            for shown, root, path in zip(items["shown"], items["root"], items["path"], strict=True)
        ]
        # JSON keeps every value as it is (None stays None) through Ray's columnar blocks.
        return {"row": [json.dumps(values) for values in self.rows(files)]}


def row(shown: str, answer: dict) -> list:
    """A file's row from its answer, as /predict gives it."""
    return [
        shown,
        answer["digit"],
        answer["prob"],
        answer["verdict"],
        answer["is_digit"],
        *answer["probs"],
        "",
    ]
