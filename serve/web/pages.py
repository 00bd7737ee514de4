"""The drawing page."""

from flask import Blueprint, current_app, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    meta = current_app.extensions["predictor"].metadata
    return render_template("index.html", test_accuracy=meta.get("test_accuracy"))
