"""The drawing page."""

from flask import Blueprint, render_template

from serve.web.context import get_reader

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    meta = get_reader().predictor.metadata
    return render_template("index.html", test_accuracy=meta.get("test_accuracy"))
