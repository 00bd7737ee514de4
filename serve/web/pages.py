"""The drawing page."""

from flask import Blueprint, current_app, render_template

from serve.web import corrections
from serve.web.context import get_reader

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    meta = get_reader().predictor.metadata
    return render_template(
        "index.html",
        test_accuracy=meta.get("test_accuracy"),
        # The page offers to correct a reading only where POST /corrections takes them.
        corrections_enabled=corrections.enabled(current_app),
    )
