"""The one place that turns errors into HTTP answers: JSON {"error": "..."} with the right
status, never an HTML page or a traceback."""

from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from serve.core.errors import BadImage, BlankImage, ImageTooLarge, NotAnImage

STATUS = {
    NotAnImage: 415,  # Unsupported Media Type
    ImageTooLarge: 413,  # Content Too Large
    BlankImage: 422,  # Unprocessable Content
}


def error_response(message: str, status: int):
    response = jsonify(error=message)
    response.status_code = status
    return response


def register(app: Flask) -> None:
    @app.errorhandler(BadImage)
    def bad_image(error: BadImage):
        status = next((code for kind, code in STATUS.items() if isinstance(error, kind)), 400)
        return error_response(str(error), status)

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error):
        limit = app.config["MAX_CONTENT_LENGTH"]
        return error_response(f"the upload is larger than the limit of {limit:,} bytes", 413)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        response = error_response(error.description or error.name, error.code or 500)
        if error.code == 405 and getattr(error, "valid_methods", None):
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("unhandled error")
        return error_response("internal error", 500)
