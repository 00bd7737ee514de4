"""The app's objects, as views reach them: ``get_settings()`` and ``get_reader()``.

As flaskr's ``get_db()``, but made once per process rather than once per request:
``create_app`` keeps them with ``keep()``, and every view asks for them by name. The model
is the reader's: ``get_reader().predictor``. What belongs to one request rides on
``flask.g`` (``g.reading``: what /predict read, for the access log and the metrics).
"""

from __future__ import annotations

from flask import Flask, current_app

from serve.core.read import Reader
from serve.settings import Settings

KEY = "draw-a-digit"  # in app.extensions, where Flask keeps what extensions attach to an app


def keep(app: Flask, settings: Settings, reader: Reader) -> None:
    app.extensions[KEY] = {"settings": settings, "reader": reader}


def get_settings() -> Settings:
    return current_app.extensions[KEY]["settings"]


def get_reader() -> Reader:
    return current_app.extensions[KEY]["reader"]
