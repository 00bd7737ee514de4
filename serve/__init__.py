"""The TensorFlow-free server: Flask + onnxruntime, built by ``create_app``."""

from __future__ import annotations

from flask import Flask

from serve import api, errors, observability, pages
from serve.config import ROOT, from_environment
from serve.predictor import Predictor


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"))
    app.config.from_mapping(from_environment())
    if config:
        app.config.update(config)
    # One session per process. gunicorn calls create_app in each worker after the fork.
    app.extensions["predictor"] = Predictor(app.config["MODEL_PATH"],
                                            threads=app.config["ORT_THREADS"])
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.register(app)
    observability.register(app)
    return app
