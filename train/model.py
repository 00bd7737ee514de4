"""The digit classifier. One function builds it, so export can rebuild the same graph.

Input: float32 (N, 28, 28, 1), MNIST polarity (white ink = 1.0 on black = 0.0), scaled to
[0, 1]. ``build_model`` answers 11 logits: the ten digits, then "not a digit" (trained on
train/negatives.py), laid out as serve/core/contract.py says. ``serving_model`` wraps it
for export with the temperature fitted on validation data, so every consumer of the ONNX
file gets calibrated answers (train/calibration.py: ``digit_answers`` computes the same):
  probs     (N, 10)  the digits' probabilities, given that the image is a digit
  is_digit  (N,)     the probability that the image shows one digit
"""

import keras
from keras import layers, ops

from serve.core.contract import DIGITS, INPUT_NAME, INPUT_SHAPE, LOGITS, NOT_A_DIGIT


def conv_bn_relu(x, filters, size):
    # Batch norm lets a small model train fast at a high learning rate; the bias it would
    # cancel is left out.
    x = layers.Conv2D(filters, size, padding="valid", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_model() -> keras.Model:
    inputs = keras.Input(shape=INPUT_SHAPE[1:], name=INPUT_NAME)
    # One 5x5 convolution at full resolution, then pooling: the 28x28 stage is where
    # arithmetic is dearest, so it gets one layer and the depth goes to the 12x12 stage.
    # "valid" padding skips the empty border MNIST digits have by construction.
    x = conv_bn_relu(inputs, 32, 5)  # 28 -> 24
    x = layers.MaxPooling2D()(x)  # -> 12
    x = layers.Dropout(0.2)(x)
    x = conv_bn_relu(x, 64, 3)  # -> 10
    x = conv_bn_relu(x, 96, 3)  # -> 8
    x = layers.MaxPooling2D()(x)  # -> 4
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    # Wider than a ten-digit reader needs: "not a digit" is one class made of many
    # different things (letters, scribbles, pairs...), and shares these features.
    x = layers.Dense(256, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.4)(x)
    logits = layers.Dense(LOGITS, name="logits")(x)
    return keras.Model(inputs, logits, name="mnist_cnn")


@keras.saving.register_keras_serializable(package="mnist")
class CalibratedAnswers(layers.Layer):
    """11 logits -> (probs, is_digit), softened by the fitted temperature.

    ``probs`` is a softmax over the ten digit logits alone, which equals the eleven-way
    softmax renormalised over the digits, without dividing by a digit mass that can
    underflow to zero. ``is_digit`` = sigmoid(logsumexp(digit logits) - not-a-digit logit).
    """

    def __init__(self, temperature: float, **kwargs):
        super().__init__(**kwargs)
        self.temperature = float(temperature)

    def call(self, logits):
        z = logits / self.temperature
        digits = z[:, :DIGITS]
        is_digit = ops.sigmoid(ops.logsumexp(digits, axis=1) - z[:, NOT_A_DIGIT])
        return ops.softmax(digits, axis=1), is_digit

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}


def serving_model(model: keras.Model, temperature: float) -> keras.Model:
    probs, is_digit = CalibratedAnswers(temperature, name="answers")(model.output)
    return keras.Model(model.input, [probs, is_digit], name="mnist_calibrated")
