"""The original design, rebuilt for comparison only: TensorFlow in Flask.

    .venv-train/bin/python -m benchmarks.baseline_app PORT

One process, Flask's own threaded server, the Keras model loaded at import and
``model.predict`` called on every request, as the product was first built. It reads the
same weights (with the same calibration) and uses the same preprocessing as the product,
so the comparison measures the serving design alone. Never part of the product: the
benchmark (benchmarks/compare_baseline.py) starts it.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from flask import Flask, jsonify, request

from serve.core.preprocess import preprocess_image
from train.model import build_model, serving_model
from train.paths import METRICS, MODELS, WEIGHTS


def load_model():
    logits = build_model()
    logits.load_weights(str(MODELS / WEIGHTS))
    temperature = json.loads((MODELS / METRICS).read_text())["calibration"]["temperature"]
    return serving_model(logits, temperature)


app = Flask(__name__)
model = load_model()


@app.post("/predict")
def predict():
    upload = request.files.get("image") or request.files.get("file")
    if upload is None:
        return jsonify(error="no image"), 400
    probs, is_digit = model.predict(preprocess_image(upload.read()), verbose=0)
    digit = int(probs[0].argmax())
    return jsonify(
        digit=digit,
        prob=float(probs[0, digit]),
        probs=[float(p) for p in probs[0]],
        is_digit=float(is_digit[0]),
    )


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
