"""Export the trained model to ONNX and prove it answers like Keras. Run with `make export`.

Reads models/model.weights.h5 and the calibration in models/metrics.json (both from
`make train`); writes
  models/mnist.onnx                    the serving model, calibration built in
  models/mnist.json                    its metadata (read by the server), with the verdict
                                       thresholds and the honest-answers figures
  models/README.md                     the model card, with
  models/confusion_matrix.png, models/confident_mistakes.png, models/reliability.png
Fails (exit 1) unless ONNX matches Keras on all 10,000 MNIST test digits.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from pathlib import Path

from serve.core.contract import IS_DIGIT_NAME, OUTPUT_NAME
from train.paths import METRICS, MODELS, WEIGHTS


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=MODELS / WEIGHTS)
    parser.add_argument(
        "--out",
        type=Path,
        default=MODELS / "mnist.onnx",
        help="the ONNX file; metadata and card are written beside it",
    )
    parser.add_argument("--data", help="mnist.npz or a folder of MNIST IDX files")
    parser.add_argument("--opset", type=int, default=None)
    parser.add_argument("--no-card", action="store_true", help="skip the model card figures")
    return parser.parse_args(argv)


def build_metadata(args, onnx_model, parity, model, opset, training) -> dict:
    import keras
    import onnx
    import onnxruntime
    import tensorflow as tf
    import tf2onnx

    from train.data import file_sha256

    def shape(value_info):
        return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]

    meanings = {
        OUTPUT_NAME: "calibrated probabilities of digits 0-9, given that the image is a digit",
        IS_DIGIT_NAME: "calibrated probability that the image shows one digit",
    }
    outputs = [
        {"name": o.name, "shape": shape(o), "dtype": "float32", "meaning": meanings[o.name]}
        for o in onnx_model.graph.output
    ]
    return {
        "model": "mnist_cnn",
        "file": args.out.name,
        "input": {
            "name": onnx_model.graph.input[0].name,
            "shape": shape(onnx_model.graph.input[0]),
            "dtype": "float32",
            "scaling": "white ink 1.0 on black 0.0; digit fit in 20x20, centred by mass",
        },
        "outputs": outputs,
        "calibration": training["calibration"],
        "opset": opset,
        "parameters": int(model.count_params()),
        "test_accuracy": round(parity.onnx_accuracy, 4),
        "test_digits": parity.digits,
        "parity": parity.as_dict(),
        "weights_sha256": file_sha256(args.weights),
        "onnx_sha256": file_sha256(args.out),
        "training": {
            key: training.get(key)
            for key in (
                "test_accuracy",
                "best_val_accuracy",
                "epochs_run",
                "train_seconds",
                "val_digits",
                "train_non_digits",
                "val_non_digits",
                "negatives",
                "seed",
                "data_sha256",
                "corrections",
            )
        },
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "tf2onnx": tf2onnx.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "exported_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import onnx

    from export import card, honesty
    from export.convert import OPSET, to_onnx
    from export.parity import compare, onnx_predict, onnx_session
    from serve.core.contract import to_model_input
    from serve.core.verdict import Thresholds
    from train.calibration import digit_answers
    from train.data import MNISTDataError, load_mnist
    from train.model import build_model, serving_model

    opset = args.opset or OPSET
    if not args.weights.exists():
        print(f"{args.weights} not found: run `make train` first", file=sys.stderr)
        return 2
    metrics_path = args.weights.parent / METRICS
    try:
        training = json.loads(metrics_path.read_text())
        temperature = training["calibration"]["temperature"]
        thresholds = Thresholds(**training["calibration"]["thresholds"])
    except (OSError, ValueError, KeyError, TypeError):
        print(
            f"{metrics_path} has no calibration: run `make train` (which fits it) first",
            file=sys.stderr,
        )
        return 2
    try:
        mnist = load_mnist(args.data)
    except MNISTDataError as error:
        print(error, file=sys.stderr)
        return 2

    logits_model = build_model()
    logits_model.load_weights(str(args.weights))
    model = serving_model(logits_model, temperature)
    onnx_model = to_onnx(model, args.out, opset)
    onnx.checker.check_model(onnx_model, full_check=True)
    print(f"wrote {args.out} (opset {opset}); onnx.checker: ok", flush=True)

    session = onnx_session(args.out)
    x_test, y_test = to_model_input(mnist.x_test), mnist.y_test
    parity, (probs, _) = compare(model, session, x_test, y_test)
    print(
        f"parity on {parity.digits} test digits: max |keras - onnx| = "
        f"{parity.max_abs_diff:.2e} (limit 1e-05), argmax mismatches = "
        f"{parity.argmax_mismatches}, accuracy keras {parity.keras_accuracy:.4f} / "
        f"onnx {parity.onnx_accuracy:.4f}",
        flush=True,
    )
    if not parity.ok:
        print("FAILED: the ONNX model does not answer like Keras", file=sys.stderr)
        return 1

    meta = build_metadata(args, onnx_model, parity, model, opset, training)
    if not args.no_card:
        folder = args.out.parent
        print("measuring honest answers on drawn digits and non-digits...", flush=True)
        meta["honest_answers"] = honesty.evaluate(
            lambda x: onnx_predict(session, x), mnist.x_test, y_test, thresholds
        )
        print(honesty.table(meta["honest_answers"]), flush=True)
        uncalibrated, _ = digit_answers(logits_model.predict(x_test, verbose=0), 1.0)
        card.plot_reliability(uncalibrated, probs, y_test, folder / "reliability.png")
        matrix = card.confusion_matrix(y_test, probs.argmax(1))
        card.plot_confusion(matrix, folder / "confusion_matrix.png")
        card.plot_confident_mistakes(mnist.x_test, y_test, probs, folder / "confident_mistakes.png")
        card.write_card(folder / "README.md", meta, matrix, honesty.table(meta["honest_answers"]))
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(
        f"metadata -> {args.out.with_suffix('.json')}; test accuracy (onnxruntime) "
        f"{meta['test_accuracy']:.4f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
