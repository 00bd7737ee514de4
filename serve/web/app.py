"""The app factory: ``create_app()`` builds the Flask app around one Reader.

gunicorn calls it in each worker after the fork (serve/gunicorn_conf.py has no preload),
so every worker process opens its own onnxruntime session.
"""

from __future__ import annotations

from flask import Flask

from serve.core.read import Reader
from serve.settings import ROOT, Settings
from serve.web import api, context, corrections, errors, headers, observability, pages, uploads, v2


def create_app(settings: Settings | None = None, **flask_config) -> Flask:
    settings = settings or Settings.from_environment()
    app = Flask(
        __name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static")
    )
    app.request_class = uploads.InMemoryRequest
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes  # Werkzeug answers 413
    app.config.update(flask_config)
    reader = Reader.from_settings(settings)
    context.keep(app, settings, reader)
    corrections.keep(app, settings, reader)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(corrections.bp)
    app.register_blueprint(v2.bp)
    errors.register(app)
    observability.register(app, settings.log_level)
    headers.register(app)
    return app
