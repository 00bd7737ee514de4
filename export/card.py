"""The model card (models/README.md) and its two figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from export import honesty
from serve.core.contract import DIGITS, LOGITS


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    matrix = np.zeros((DIGITS, DIGITS), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def plot_confusion(matrix: np.ndarray, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    # Log colour so the few errors are visible next to ~1,000 correct per class.
    shown = ax.imshow(np.log1p(matrix), cmap="Blues")
    for (true, pred), count in np.ndenumerate(matrix):
        if count:
            ax.text(
                pred,
                true,
                str(count),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if true == pred else "black",
            )
    ax.set_xticks(range(DIGITS))
    ax.set_yticks(range(DIGITS))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix, 10,000 MNIST test digits (ONNX)")
    fig.colorbar(shown, ax=ax, label="log(1 + count)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confident_mistakes(images, y_true, probs, path: Path, count: int = 16) -> None:
    plt = _pyplot()
    predicted = probs.argmax(1)
    wrong = np.flatnonzero(predicted != y_true)
    wrong = wrong[np.argsort(-probs[wrong, predicted[wrong]])][:count]
    cols = 8
    rows = max(1, int(np.ceil(len(wrong) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.6))
    for ax in np.atleast_1d(axes).ravel():
        ax.axis("off")
    for ax, index in zip(np.atleast_1d(axes).ravel(), wrong, strict=False):
        ax.imshow(images[index], cmap="gray")
        ax.set_title(
            f"true {y_true[index]}\nsaid {predicted[index]} {probs[index, predicted[index]]:.0%}",
            fontsize=8,
        )
    fig.suptitle("Most confidently wrong test digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_reliability(uncalibrated, calibrated, labels, path: Path) -> None:
    from train.calibration import reliability_diagram

    reliability_diagram(
        {
            "MNIST test, before calibration (T = 1)": (uncalibrated, labels),
            "MNIST test, as served (calibrated)": (calibrated, labels),
        },
        path,
    )


def write_card(path: Path, meta: dict, matrix: np.ndarray, honest_table: str) -> None:
    per_class = matrix.diagonal() / matrix.sum(axis=1)
    errors = int(matrix.sum() - matrix.trace())
    worst = sorted(
        ((int(matrix[t, p]), t, p) for t in range(DIGITS) for p in range(DIGITS) if t != p),
        reverse=True,
    )[:3]
    rows = "\n".join(
        f"| {d} | {int(matrix[d].sum())} | {per_class[d]:.2%} |" for d in range(DIGITS)
    )
    confusions = ", ".join(f"{t} read as {p} ({n}×)" for n, t, p in worst if n)
    val_digits = meta["training"].get("val_digits") or 0
    held_out = f" (minus {val_digits:,} held out for validation)" if val_digits else ""
    calibration = meta["calibration"]
    thresholds = calibration["thresholds"]
    negatives = meta["training"].get("negatives") or {}
    trained = ", ".join(negatives.get("trained", []))
    # Every kind measured that training never saw, a kind added since training included.
    non_digits = meta["honest_answers"]["non_digits"]
    kept_out = ", ".join(kind for kind, row in non_digits.items() if row["held_out"])
    outputs = "\n".join(
        f"- **Output** `{o['name']}`: float32 `{o['shape']}`, {o['meaning']}."
        for o in meta["outputs"]
    )
    path.write_text(f"""# Model card: MNIST digit CNN (`mnist.onnx`)

## What it is
A small convolutional network (a 5×5 convolution of 32 filters, max-pooling, 3×3
convolutions of 64 and 96 filters, max-pooling, each convolution with batch norm and each
pooling followed by dropout, then a 256-unit dense layer and {LOGITS} outputs: the ten digits and "not a digit"; {meta["parameters"]:,} parameters) trained with Keras 3 / TensorFlow on the 60,000 MNIST training
digits{held_out}, augmented with small rotations, zooms
and shifts and with thinner or thicker strokes, and on {meta["training"].get("train_non_digits") or 0:,} non-digits
(`train/negatives.py`: {trained}). Exported to ONNX (opset {meta["opset"]}) with tf2onnx, with the
calibration built in; served with onnxruntime only.

- **Input** `{meta["input"]["name"]}`: float32 `{meta["input"]["shape"]}`, one 28×28 grey image per row,
  white ink (1.0) on black (0.0), the digit's longer side 20 px, centred by mass, as MNIST
  was made. `serve/core/preprocess.py` turns drawings, scans and photos into this.
{outputs}

## Accuracy
**{meta["test_accuracy"]:.2%}** on the 10,000 MNIST test digits ({errors} errors), measured with
onnxruntime on this very file. The test digits were used for nothing else (the best epoch
was chosen on the validation split). ONNX and Keras agree on every test digit (largest
difference in any probability: {meta["parity"]["max_abs_diff"]:.1e}).

| digit | test digits | accuracy |
|---|---|---|
{rows}

Most frequent confusions: {confusions or "none"}.

![Confusion matrix](confusion_matrix.png)

![Most confidently wrong test digits](confident_mistakes.png)

Training curves: [history.png](history.png); figures of the run: [metrics.json](metrics.json);
file facts and checksums: [mnist.json](mnist.json).

## Calibration and honest answers
The eleven logits are divided by a temperature, **T = {calibration["temperature"]}**, fitted on the
validation split only (digits and non-digits, never the test digits), then turned into the
two outputs above. The server's verdict follows from them, with thresholds chosen on the
same validation data (`train/calibration.py: choose_thresholds`):

- `not_a_digit` when `is_digit` < **{thresholds["not_a_digit_below"]}** (a calibrated probability: under one half, "not a digit" is the likelier answer);
- `digit` when `is_digit × prob` ≥ **{thresholds["sure_from"]}** (at most 1 % of validation non-digits and
  0.1 % wrong digits reach it);
- `unsure` in between: which digit is in doubt, or whether it is one at all.

Expected calibration error (15 equal-width bins of the top probability), MNIST test digits:

![Reliability diagram](reliability.png)

Digits: the MNIST test digits as they are, and each re-drawn as the page's canvas sends it;
digits by other writers than MNIST's (`train/other_writers.py`: the digits of six Hershey
stroke fonts drawn by a shaky pen, slanted and bent, sent as the page sends them, and as
small blurred scans), which training never sees; 1s with a flag of each length, crossed 7s
and closed 4s (`train/styles.py`: training adds 1s, 7s and 4s from the same drawer with
other seeds, so these show what it learnt of them, not how it reads every hand's flags). Non-digits: {len(non_digits)} kinds, 1,000 each, made with seeds training never used (clothes: Fashion-MNIST's test images).
Kinds marked **held out** ({kept_out}) were never shown in training: they are the honest test
of whether "not a digit" generalises. Numbers: MNIST test digits written side by side on a
canvas as the page sends them (`train/drawn.py`: one pen per number, uneven sizes, gaps and
baselines), and numbers by other writers, each read as `?read=number` reads it
(`serve/core/number.py`); read exactly means the number given is the one written. Drawn
large on the pad: each drawn kind of non-digit, and clothes, {honesty.PAD_DRAWINGS} of each, sent as
the page sends them, with other seeds than above: any number given for one is a wrong
answer. Written with marks (`train/marks.py`): MNIST test digits written with a decimal
point, a leading minus or a thousands comma, or with a mark no number has (a plus between
two digits, a ring round one, a line under them), {honesty.PAD_DRAWINGS} of each; what counts as
right is said in each row.

{honest_table}

{corrections_section(meta["training"].get("corrections"))}## Intended use
Reading a single handwritten digit (0–9) drawn on a screen or written on paper, for demos,
teaching and form fields where a person can check the answer.

## Limits
- "Not a digit" was learnt from the kinds listed above. Marks unlike all of them (a
  held-out kind shows how far that carries) can still be read as a digit; read `verdict`,
  not just `digit`.
- Plain /predict reads one digit: several digits in one image are meant to get "not a
  digit" (`?read=number` reads them one by one).
- MNIST is American writers of the early 1990s, scanned. Drawn digits are close after
  preprocessing, but styles far from that (slanted and cursive hands, an open 4, loops
  that close or don't) are read less reliably than the test figure suggests.
- Photos with shadows, ruled lines or several marks confuse the ink finder (crop to one digit).
- Not for anything where a wrong digit costs money or safety without a human check.

## Data
MNIST, by Yann LeCun, Corinna Cortes and Christopher J.C. Burges (usually cited under
CC BY-SA 3.0). Content sha256 of the data used: `{meta["training"]["data_sha256"]}`.
""")


def corrections_section(figures: dict | None) -> str:
    """The card's section on the corrections training read (--corrections), or nothing."""
    if not figures:
        return ""
    before, after = figures["before"], figures["after"]
    skipped = "; ".join(f"{n} {why}" for why, n in figures["skipped"].items()) or "none"

    def shown(value):
        return "n/a" if value is None else f"{value:.2%}"

    return f"""## Corrections people sent
Training also read {figures["trained_digits"]:,} digits of {figures["trained_rows"]:,} corrections sent from the page
(`make corrections`, then `make train ARGS="--corrections DIR"`), each shown {figures["repeats"]}× an epoch;
a number is split into digits by the server's own segmentation (`train/corrections.py`).
{figures["held_out_rows"]:,} corrections ({figures["held_out_digits"]:,} digits), one in five chosen by a hash of their id, were
never trained on: mostly drawings the product read wrong, so expect figures below MNIST's.
Skipped: {skipped}.

| model | accuracy on the held-out corrections |
|---|---|
| before: the model shipped when this one was trained (`{before["model_sha256"][:12]}`; it read {before["rows_it_read"]:,} of the {figures["rows"]:,} corrections) | {shown(before["accuracy"])} |
| after: this model | {shown(after["accuracy"])} |

"""
