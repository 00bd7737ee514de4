"""Train the MNIST CNN: data, model, train, evaluate. Run with `make train` or `python -m train`.

Writes:
  checkpoints/best.weights.h5   the weights that read validation digits best (ModelCheckpoint)
  models/model.weights.h5       those best weights, for export and serving
  models/history.png            loss and accuracy curves, training and validation
  models/metrics.json           test accuracy, best val accuracy, epochs, time, data checksum,
                                and the calibration (temperature, verdict thresholds)

The model learns an eleventh class, "not a digit", from generated non-digits
(train/negatives.py); the kinds in ``negatives.HELD_OUT`` are kept out, to measure how
well that generalises. The temperature and the verdict thresholds are fitted on the
validation split only, after training.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from serve.core.contract import to_model_input
from serve.settings import ROOT
from train.calibration import (
    choose_thresholds,
    digit_answers,
    expected_calibration_error,
    fit_temperature,
)
from train.data import MNISTDataError, load_mnist
from train.negatives import HELD_OUT, TRAINED, make_negatives

# Shares of the training non-digits per kind (train/negatives.py). The kinds hardest to
# tell from a digit get more: in a first run with equal shares, 1-3 % of scribbles,
# doodles and letters were still called digits, and no shape, speck or pair.
NEGATIVE_SHARES = {
    "doodle": 0.25,
    "scribble": 0.2,
    "letter": 0.2,
    "pair": 0.15,
    "shape": 0.1,
    "speck": 0.1,
}
assert set(NEGATIVE_SHARES) == set(TRAINED), "every trained kind needs a share"

# Augmentation ranges: degrees, relative size, pixels, and stroke width from full erosion
# (-1) to full dilation (+1) with a 3x3 window.
MAX_ROTATION, MAX_ZOOM, MAX_SHIFT = 12.0, 0.12, 2.5
STROKE_RANGE = (-1.0, 1.0)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", help="mnist.npz or a folder of MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=18)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument(
        "--negatives",
        type=int,
        default=24000,
        help="training non-digits, shared among the kinds (a tenth as many for validation)",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=6,
        help="epochs without a better val_digit_accuracy before stopping",
    )
    parser.add_argument(
        "--val-size",
        type=int,
        default=6000,
        help="digits carved from the 60,000 training digits for validation",
    )
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "checkpoints" / "best.weights.h5")
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 2,048 digits, two short epochs"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.val_size, args.negatives = 2, 200, 1200
    return args


# --- data --------------------------------------------------------------------------------


def split_train_val(x, y, val_size, seed):
    """A seeded, stratified-by-chance split of the training digits; test stays untouched."""
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:val_size], order[val_size:]
    return (x[train], y[train]), (x[val], y[val])


def with_negatives(split, count: int, seed: int):
    """A split's uint8 digits plus ``count`` non-digits (NEGATIVE_SHARES), labelled
    NOT_A_DIGIT, as model input. Pairs are made of the split's own digits, so no
    validation digit leaks into training."""
    from train.model import NOT_A_DIGIT

    x, y = split
    negatives = np.concatenate(
        [
            make_negatives(kind, max(1, round(share * count)), seed=seed + i, digits=x)
            for i, (kind, share) in enumerate(NEGATIVE_SHARES.items())
        ]
    )
    labels = np.full(len(negatives), NOT_A_DIGIT, np.int32)
    return to_model_input(np.concatenate([x, negatives])), np.concatenate([y, labels])


def digit_accuracy_callback(x, y):
    """A callback adding ``val_digit_accuracy`` to each epoch's logs: the validation
    digits alone, read over the ten digit classes. The checkpoint keeps the epoch that
    reads digits best; accuracy over digits and non-digits together would let the
    non-digits, a third of the validation set, decide which epoch that is."""
    import keras

    class DigitAccuracy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logits = self.model.predict(x, batch_size=1024, verbose=0)
            logs["val_digit_accuracy"] = float(np.mean(logits[:, :10].argmax(axis=1) == y))

    return DigitAccuracy()


def vary_stroke_width(images, seed=None):
    """Thin or thicken each digit's strokes by a random amount (grey erosion / dilation).

    People draw with thin and thick pens; MNIST's strokes are all about the same width.
    Full erosion also breaks the faintest strokes, as a thin pen drawn fast does.
    """
    import tensorflow as tf

    dilated = tf.nn.max_pool2d(images, 3, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    amount = tf.random.uniform([tf.shape(images)[0], 1, 1, 1], *STROKE_RANGE, seed=seed)
    return tf.where(
        amount > 0, images + amount * (dilated - images), images - amount * (eroded - images)
    )


def affine_transforms(angle_degrees, scale, shift, side=28):
    """(N, 8) transforms for keras.ops.image.affine_transform: rotate by ``angle_degrees``
    and scale by ``scale`` about the image centre, then move by ``shift`` (x, y) pixels.

    The transform maps each output pixel back to where it comes from in the input:
    input = R(-angle) / scale * (output - centre) + centre - shift.
    """
    import tensorflow as tf

    angle = tf.convert_to_tensor(angle_degrees, tf.float32) * (math.pi / 180)
    scale = tf.convert_to_tensor(scale, tf.float32)
    shift = tf.convert_to_tensor(shift, tf.float32)
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    centre = (side - 1) / 2
    zeros = tf.zeros_like(cos)
    return tf.stack(
        [
            cos,
            -sin,
            centre - cos * centre + sin * centre - shift[:, 0],
            sin,
            cos,
            centre - sin * centre - cos * centre - shift[:, 1],
            zeros,
            zeros,
        ],
        axis=1,
    )


def random_affine(images, seed=None):
    """Rotate, scale and shift each digit by a random amount, in one resampling pass.

    Handwriting varies by a few degrees, a couple of pixels and a little in size; it is
    never mirrored (a flipped 2 or 7 is not a digit). One combined transform per digit
    costs about a fourteenth of three separate Keras augmentation layers on a 2-core CPU
    (0.8 s against 11.3 s an epoch).
    """
    import keras
    import tensorflow as tf

    n = tf.shape(images)[0]
    angle = tf.random.uniform([n], -MAX_ROTATION, MAX_ROTATION, seed=seed)
    scale = tf.random.uniform([n], 1 - MAX_ZOOM, 1 + MAX_ZOOM, seed=seed)
    shift = tf.random.uniform([n, 2], -MAX_SHIFT, MAX_SHIFT, seed=seed)
    return keras.ops.image.affine_transform(
        images, affine_transforms(angle, scale, shift), fill_mode="constant"
    )


def augment(images, seed=None):
    return random_affine(vary_stroke_width(images, seed), seed)


def make_datasets(train, val, batch_size, seed):
    import tensorflow as tf

    train_ds = (
        tf.data.Dataset.from_tensor_slices(train)
        .shuffle(len(train[0]), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
        .map(lambda x, y: (augment(x, seed), y), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    val_ds = tf.data.Dataset.from_tensor_slices(val).batch(512).prefetch(tf.data.AUTOTUNE)
    return train_ds, val_ds


# --- curves ------------------------------------------------------------------------------


def plot_history(history: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no screen needed
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        ax.plot(epochs, history[metric], "o-", label="training")
        ax.plot(epochs, history[f"val_{metric}"], "o-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("MNIST CNN training history")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --- the program -------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from train.model import build_model

    keras.utils.set_random_seed(args.seed)

    # Data
    try:
        mnist = load_mnist(args.data)
    except MNISTDataError as error:
        print(error, file=sys.stderr)
        return 2
    print(
        f"MNIST from {mnist.source}: {len(mnist.x_train)} train, {len(mnist.x_test)} test, "
        f"sha256 {mnist.sha256[:16]}...",
        flush=True,
    )
    x_test, y_test = to_model_input(mnist.x_test), mnist.y_test.astype("int32")
    train, val = split_train_val(
        mnist.x_train, mnist.y_train.astype("int32"), args.val_size, args.seed
    )
    if args.quick:
        train, x_test, y_test = (train[0][:2048], train[1][:2048]), x_test[:500], y_test[:500]
    train_digits, val_digits = len(train[0]), len(val[0])
    train = with_negatives(train, args.negatives, args.seed)
    val_digits_only = to_model_input(val[0]), val[1]
    val = with_negatives(val, max(1, args.negatives // 10), args.seed + 100)
    train_ds, val_ds = make_datasets(train, val, args.batch_size, args.seed)
    print(
        f"split: {train_digits} digits + {len(train[0]) - train_digits} non-digits train / "
        f"{val_digits} + {len(val[0]) - val_digits} validation; non-digit kinds "
        f"trained: {', '.join(TRAINED)}; held out: {', '.join(HELD_OUT)}",
        flush=True,
    )

    # Model
    model = build_model()
    steps = math.ceil(len(train[0]) / args.batch_size) * args.epochs
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, alpha=0.01)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.summary(print_fn=lambda line, **_: print(line, flush=True))

    # Train
    args.checkpoint.parent.mkdir(parents=True, exist_ok=True)
    args.models_dir.mkdir(parents=True, exist_ok=True)
    callbacks = [
        digit_accuracy_callback(*val_digits_only),  # before the two that read its figure
        keras.callbacks.ModelCheckpoint(
            str(args.checkpoint),
            monitor="val_digit_accuracy",
            mode="max",
            save_best_only=True,
            save_weights_only=True,
            verbose=1,
        ),
        keras.callbacks.EarlyStopping(
            monitor="val_digit_accuracy", mode="max", patience=args.patience, verbose=1
        ),
    ]
    started = time.perf_counter()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=args.epochs,
        callbacks=callbacks,
        verbose=2 if not sys.stdout.isatty() else 1,
    )
    train_seconds = time.perf_counter() - started

    # Calibrate on validation only: the temperature, then the verdict thresholds.
    model.load_weights(str(args.checkpoint))
    weights_path = args.models_dir / "model.weights.h5"
    model.save_weights(str(weights_path))
    val_logits = model.predict(val[0], batch_size=1024, verbose=0)
    temperature = fit_temperature(val_logits, val[1])
    thresholds = choose_thresholds(*digit_answers(val_logits, temperature), val[1])
    print(f"temperature {temperature:.3f}; verdict thresholds {thresholds}", flush=True)

    # Evaluate: the best epoch's weights, scored once on the untouched test digits.
    test_logits = model.predict(x_test, batch_size=1024, verbose=0)
    test_probs, test_is_digit = digit_answers(test_logits, temperature)
    test_accuracy = float(np.mean(test_probs.argmax(axis=1) == y_test))
    raw_probs, _ = digit_answers(test_logits, 1.0)
    ece_before = expected_calibration_error(raw_probs, y_test)
    ece_after = expected_calibration_error(test_probs, y_test)
    plot_history(history.history, args.models_dir / "history.png")

    metrics = {
        "test_accuracy": round(test_accuracy, 4),
        "test_digits": int(len(y_test)),
        "test_ece": {"uncalibrated": round(ece_before, 5), "calibrated": round(ece_after, 5)},
        "test_not_a_digit": round(
            float(np.mean(test_is_digit < thresholds["not_a_digit_below"])), 5
        ),
        "calibration": {"temperature": round(temperature, 4), "thresholds": thresholds},
        "negatives": {"trained": list(TRAINED), "held_out": list(HELD_OUT)},
        "best_val_accuracy": round(float(max(history.history["val_digit_accuracy"])), 4),
        "epochs_run": len(history.history["loss"]),
        "train_seconds": round(train_seconds, 1),
        "train_digits": train_digits,
        "val_digits": val_digits,
        "train_non_digits": int(len(train[0]) - train_digits),
        "val_non_digits": int(len(val[0]) - val_digits),
        "quick": args.quick,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "data_source": mnist.source,
        "data_sha256": mnist.sha256,
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
    }
    (args.models_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(
        f"test accuracy {test_accuracy:.4f} on {len(y_test)} digits, ECE "
        f"{ece_before:.2%} -> {ece_after:.2%} calibrated; "
        f"{metrics['epochs_run']} epochs in {train_seconds / 60:.1f} min; "
        f"weights -> {weights_path}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
