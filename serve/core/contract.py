"""What the model takes and gives: the one statement of it, for training, export, the
server and the tests.

The model reads a batch of 28x28 grey digits, white ink (1.0) on black (0.0), as float32
[N, 28, 28, 1] in a tensor named "input", and answers two calibrated outputs: "probs"
[N, 10], the ten digits' probabilities given that the image is a digit, and "is_digit"
[N], the probability that it shows one digit at all. Training scales MNIST's bytes by
1/255 (``to_model_input``); the server's preprocessing makes any upload look like that.
The names and shapes of a given ONNX file are read from the file itself (``check_model``),
so a model that breaks the contract is refused when it is loaded, not when the first digit
arrives.

Inside, the network answers eleven logits: the ten digits, then "not a digit" (training
labels non-digits ``NOT_A_DIGIT``); the exported model turns them into the two outputs.
"""

from __future__ import annotations

import numpy as np

SIDE = 28
DIGITS = 10  # the digits 0-9, each its own class, numbered as themselves
NOT_A_DIGIT = DIGITS  # the class of everything else: the network's last logit
LOGITS = DIGITS + 1  # what the network answers before calibration

INPUT_NAME = "input"
OUTPUT_NAME = "probs"
IS_DIGIT_NAME = "is_digit"
INPUT_SHAPE = (None, SIDE, SIDE, 1)  # batch, height, width, channels
OUTPUT_SHAPES = {OUTPUT_NAME: (None, DIGITS), IS_DIGIT_NAME: (None,)}

# The verdict thresholds (serve/core/verdict.py) for a model that carries none of its own.
# Under one half, "not a digit" is the likelier answer (is_digit is a calibrated
# probability), so training keeps the first and fits the second (train/calibration.py).
NOT_A_DIGIT_BELOW = 0.5
SURE_FROM = 0.9


def to_model_input(images: np.ndarray) -> np.ndarray:
    """MNIST-style uint8 digits [N, 28, 28] -> float32 [N, 28, 28, 1] in [0, 1]."""
    return (np.asarray(images, dtype=np.float32) / 255.0)[..., None]


def check_model(inputs, outputs) -> str:
    """The input's name of an onnxruntime session, once its input and outputs are known to
    match the contract (a dynamic batch dimension is a str)."""
    if len(inputs) != 1:
        raise ValueError(f"the model must have one input, not {len(inputs)}")
    by_name = {tensor.name: tensor for tensor in outputs}
    missing = [name for name in OUTPUT_SHAPES if name not in by_name]
    if missing:
        raise ValueError(
            f"the model has no output {', '.join(map(repr, missing))}: the contract is "
            f"{', '.join(OUTPUT_SHAPES)} (a model exported before calibration? run make export)"
        )
    expected = [(inputs[0], INPUT_SHAPE)]
    expected += [(by_name[name], shape) for name, shape in OUTPUT_SHAPES.items()]
    for tensor, shape in expected:
        fixed = [None if not isinstance(d, int) else d for d in tensor.shape]
        if fixed[1:] != list(shape[1:]) or tensor.type != "tensor(float)":
            raise ValueError(
                f"'{tensor.name}' is {tensor.type} {tensor.shape}; the contract "
                f"is float {list(shape)}"
            )
    return inputs[0].name
