"""The TensorFlow-free server: Flask + onnxruntime, built by ``create_app``."""

from __future__ import annotations

from flask import Flask

from serve import api, errors, headers, observability, pages
from serve.predictor import Predictor
from serve.settings import ROOT, Settings


def create_app(settings: Settings | None = None, **flask_config) -> Flask:
    settings = settings or Settings.from_environment()
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"))
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes  # Werkzeug answers 413
    app.config.update(flask_config)
    app.extensions["settings"] = settings
    # One session per process. gunicorn calls create_app in each worker after the fork.
    app.extensions["predictor"] = Predictor(settings.model_path, threads=settings.ort_threads)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.register(app)
    observability.register(app)
    headers.register(app)
    return app
