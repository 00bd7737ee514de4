"""Train the MNIST CNN: data, model, train, evaluate. Run with `make train` or `python -m train`.

Writes:
  checkpoints/best.weights.h5   the weights that read validation digits best (ModelCheckpoint)
  models/model.weights.h5       those best weights, for export and serving
  models/history.png            loss and accuracy curves, training and validation
  models/metrics.json           test accuracy, best val accuracy, epochs, time, data checksum,
                                and the calibration (temperature, verdict thresholds)

The steps, each a function below and called in this order by ``main``:
  prepare_data   MNIST, split into train / validation / test; flagged 1s, crossed 7s and
                 closed 4s added to the training digits (train/styles.py); generated non-digits
                 (and the corrections people sent, with --corrections)
  compile_model  the CNN (train/model.py) with its optimiser and loss
  fit            training, augmented (train/augment.py); ends with the best epoch's weights
  calibrate      the temperature and the verdict thresholds, on validation only
  evaluate       the test digits, read once
  write          weights, curves and metrics

The model learns an eleventh class, "not a digit", from generated non-digits
(train/negatives.py); the kinds in ``negatives.HELD_OUT`` are kept out, to measure how
well that generalises.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from serve.core.contract import DIGITS, NOT_A_DIGIT, to_model_input
from train.calibration import (
    choose_thresholds,
    digit_answers,
    expected_calibration_error,
    fit_temperature,
)
from train.corrections import BadExport, Corrections
from train.corrections import load as load_corrections
from train.data import MNISTDataError, load_mnist
from train.negatives import HELD_OUT, TRAINED, make_negatives
from train.paths import CHECKPOINT, METRICS, MODELS, WEIGHTS
from train.styles import styled_digits

# Shares of the training non-digits per kind (train/negatives.py). The kinds hardest to
# tell from a digit get more: in a first run with equal shares, 1-3 % of scribbles,
# doodles and letters were still called digits, and no shape, speck or pair. Clothes are
# the one kind not drawn here: real photographs, which the model called digits 3-5 % of
# the time while it never saw them.
NEGATIVE_SHARES = {
    "doodle": 0.25,
    "scribble": 0.2,
    "letter": 0.2,
    "pair": 0.15,
    "shape": 0.1,
    "speck": 0.1,
    "fashion": 0.1,
}
assert set(NEGATIVE_SHARES) == set(TRAINED), "every trained kind needs a share"


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
        "--styled",
        type=int,
        default=6000,
        help="flagged 1s, crossed 7s and closed 4s (train/styles.py) added to the training digits",
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
    parser.add_argument(
        "--corrections",
        type=Path,
        help="a folder of corrections people sent (`make corrections OUT=DIR`): a share held "
        "out to measure on, the rest added to the training digits (train/corrections.py)",
    )
    parser.add_argument("--models-dir", type=Path, default=MODELS)
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 2,048 digits, two short epochs"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.val_size, args.negatives, args.styled = 2, 200, 1200, 100
    return args


# --- data --------------------------------------------------------------------------------


@dataclass
class Data:
    """What training reads: (model input, int32 labels) pairs, and where MNIST came from."""

    train: tuple  # the training digits, then non-digits
    val: tuple  # the validation digits, then non-digits
    val_digits: tuple  # the validation digits alone: they choose the best epoch
    test: tuple  # the test digits, read once at the end
    train_digits: int  # how many of ``train`` are digits
    source: str
    sha256: str
    corrections: Corrections | None = None  # --corrections; its held-out digits are measured on


def prepare_data(args) -> Data:
    """MNIST, split and joined by non-digits; MNISTDataError if it cannot be loaded."""
    mnist = load_mnist(args.data)
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
    train = joined(train, styled_digits(args.styled, args.seed + 200))
    corrections = None
    if args.corrections:
        corrections = load_corrections(args.corrections)  # read as the server reads uploads
        print(corrections.summary(), flush=True)
        train = joined(train, corrections.repeated())
    data = Data(
        train=with_negatives(train, args.negatives, args.seed),
        val=with_negatives(val, max(1, args.negatives // 10), args.seed + 100),
        val_digits=(to_model_input(val[0]), val[1]),
        test=(x_test, y_test),
        train_digits=len(train[0]),
        source=mnist.source,
        sha256=mnist.sha256,
        corrections=corrections,
    )
    val_digits = len(val[0])
    print(
        f"split: {data.train_digits} digits + {len(data.train[0]) - data.train_digits} "
        f"non-digits train / {val_digits} + {len(data.val[0]) - val_digits} validation; "
        f"non-digit kinds trained: {', '.join(TRAINED)}; held out: {', '.join(HELD_OUT)}",
        flush=True,
    )
    return data


def joined(digits: tuple, more: tuple) -> tuple:
    """(images, labels) with ``more`` (images, labels) after them."""
    return tuple(np.concatenate(parts) for parts in zip(digits, more, strict=True))


def split_train_val(x, y, val_size, seed):
    """A seeded, stratified-by-chance split of the training digits; test stays untouched."""
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:val_size], order[val_size:]
    return (x[train], y[train]), (x[val], y[val])


def with_negatives(split, count: int, seed: int):
    """A split's uint8 digits plus ``count`` non-digits (NEGATIVE_SHARES), labelled
    NOT_A_DIGIT, as model input. Pairs are made of the split's own digits, so no
    validation digit leaks into training."""
    x, y = split
    negatives = np.concatenate(
        [
            make_negatives(
                kind, max(1, round(share * count)), seed=seed + i, digits=x, part="train"
            )
            for i, (kind, share) in enumerate(NEGATIVE_SHARES.items())
        ]
    )
    labels = np.full(len(negatives), NOT_A_DIGIT, np.int32)
    return to_model_input(np.concatenate([x, negatives])), np.concatenate([y, labels])


# --- model -------------------------------------------------------------------------------


def compile_model(args, train_size: int):
    """The CNN, with Adam on a cosine-decaying learning rate over the whole run."""
    import keras

    from train.model import build_model

    model = build_model()
    steps = math.ceil(train_size / args.batch_size) * args.epochs
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, alpha=0.01)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.summary(print_fn=lambda line, **_: print(line, flush=True))
    return model


# --- fit ---------------------------------------------------------------------------------


def fit(model, data: Data, args) -> tuple[dict, float]:
    """Train on augmented batches, checkpointing the epoch that reads validation digits
    best; the model ends with that epoch's weights. Returns the history and the seconds."""
    import keras

    train_ds, val_ds = make_datasets(data.train, data.val, args.batch_size, args.seed)
    args.checkpoint.parent.mkdir(parents=True, exist_ok=True)
    callbacks = [
        digit_accuracy_callback(*data.val_digits),  # before the two that read its figure
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
    seconds = time.perf_counter() - started
    model.load_weights(str(args.checkpoint))
    return history.history, seconds


def make_datasets(train, val, batch_size, seed):
    import tensorflow as tf

    from train.augment import augment

    batches = (
        tf.data.Dataset.from_tensor_slices(train)
        .shuffle(len(train[0]), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
    )
    # Each batch gets its own seed, new every epoch, for augment's stateless draws.
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    train_ds = (
        tf.data.Dataset.zip(batches, seeds)
        .map(lambda xy, s: (augment(xy[0], s), xy[1]), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
    val_ds = tf.data.Dataset.from_tensor_slices(val).batch(512).prefetch(tf.data.AUTOTUNE)
    return train_ds, val_ds


def digit_accuracy_callback(x, y):
    """A callback adding ``val_digit_accuracy`` to each epoch's logs: the validation
    digits alone, read over the ten digit classes. The checkpoint keeps the epoch that
    reads digits best; accuracy over digits and non-digits together would let the
    non-digits, a third of the validation set, decide which epoch that is."""
    import keras

    class DigitAccuracy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logits = self.model.predict(x, batch_size=1024, verbose=0)
            logs["val_digit_accuracy"] = float(np.mean(logits[:, :DIGITS].argmax(axis=1) == y))

    return DigitAccuracy()


# --- calibrate and evaluate --------------------------------------------------------------


def calibrate(model, val) -> dict:
    """The temperature, then the verdict thresholds, fitted on validation data only."""
    logits = model.predict(val[0], batch_size=1024, verbose=0)
    temperature = fit_temperature(logits, val[1])
    thresholds = choose_thresholds(*digit_answers(logits, temperature), val[1])
    print(f"temperature {temperature:.3f}; verdict thresholds {thresholds}", flush=True)
    return {"temperature": temperature, "thresholds": thresholds}


def evaluate(model, test, calibration: dict) -> dict:
    """The test digits, read once with the calibrated answers: accuracy, calibration error
    before and after the temperature, and the share called "not a digit"."""
    x, y = test
    logits = model.predict(x, batch_size=1024, verbose=0)
    probs, is_digit = digit_answers(logits, calibration["temperature"])
    raw_probs, _ = digit_answers(logits, 1.0)
    below = calibration["thresholds"]["not_a_digit_below"]
    return {
        "accuracy": float(np.mean(probs.argmax(axis=1) == y)),
        "digits": int(len(y)),
        "ece": (expected_calibration_error(raw_probs, y), expected_calibration_error(probs, y)),
        "not_a_digit": float(np.mean(is_digit < below)),
    }


# --- write -------------------------------------------------------------------------------


def write(model, history: dict, metrics: dict, args) -> None:
    args.models_dir.mkdir(parents=True, exist_ok=True)
    model.save_weights(str(args.models_dir / WEIGHTS))
    plot_history(history, args.models_dir / "history.png")
    (args.models_dir / METRICS).write_text(json.dumps(metrics, indent=2) + "\n")


def metrics(args, data: Data, history: dict, train_seconds, calibration, scores) -> dict:
    """The run in figures (models/metrics.json), rounded for reading."""
    import keras
    import tensorflow as tf

    ece_before, ece_after = scores["ece"]
    val_digits = len(data.val_digits[0])
    return {
        "test_accuracy": round(scores["accuracy"], 4),
        "test_digits": scores["digits"],
        "test_ece": {"uncalibrated": round(ece_before, 5), "calibrated": round(ece_after, 5)},
        "test_not_a_digit": round(scores["not_a_digit"], 5),
        "calibration": {
            "temperature": round(calibration["temperature"], 4),
            "thresholds": calibration["thresholds"],
        },
        "negatives": {"trained": list(TRAINED), "held_out": list(HELD_OUT)},
        "best_val_accuracy": round(float(max(history["val_digit_accuracy"])), 4),
        "epochs_run": len(history["loss"]),
        "train_seconds": round(train_seconds, 1),
        "train_digits": data.train_digits,
        "styled_digits": args.styled,
        "val_digits": val_digits,
        "train_non_digits": int(len(data.train[0]) - data.train_digits),
        "val_non_digits": int(len(data.val[0]) - val_digits),
        "quick": args.quick,
        "seed": args.seed,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "data_source": data.source,
        "data_sha256": data.sha256,
        "corrections": scores.get("corrections"),
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
    }


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

    keras.utils.set_random_seed(args.seed)
    try:
        data = prepare_data(args)
    except (MNISTDataError, BadExport, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    model = compile_model(args, len(data.train[0]))
    history, train_seconds = fit(model, data, args)
    calibration = calibrate(model, data.val)
    scores = evaluate(model, data.test, calibration)
    if data.corrections:  # the new model on the held-out corrections, read as ``evaluate`` reads
        temperature = calibration["temperature"]
        scores["corrections"] = data.corrections.scores(
            lambda x: digit_answers(model.predict(x, verbose=0), temperature)[0]
        )
        c = scores["corrections"]
        print(
            f"held-out corrections, {c['held_out_digits']} digits: accuracy "
            f"{c['before']['accuracy']} ({c['before']['model']}) -> {c['after']['accuracy']}",
            flush=True,
        )
    write(model, history, metrics(args, data, history, train_seconds, calibration, scores), args)
    ece_before, ece_after = scores["ece"]
    print(
        f"test accuracy {scores['accuracy']:.4f} on {scores['digits']} digits, ECE "
        f"{ece_before:.2%} -> {ece_after:.2%} calibrated; "
        f"{len(history['loss'])} epochs in {train_seconds / 60:.1f} min; "
        f"weights -> {args.models_dir / WEIGHTS}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
